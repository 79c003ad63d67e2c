"""Referrals through the web: consent asked on the follow-up page, a package with a cleaned
photo sent to a member company, its officer answering, and every refusal on the way."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from portal.models import AuditEvent, Company, Referral, Role, Scope
from tests.conftest import Portal, csrf_token
from tests.functional.helpers import case_url, only_case_id, staff_client
from tests.support.filing import file_complaint

WORKER = "worker@example.org"
OFFICER = "officer@shield.example"
RIVAL = "officer@rival.example"
GPS_JPEG_NAME = "gate-photo.jpg"


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "CanonSecret"  # Make
    gps = {1: "S", 2: (1.0, 40.0, 0.0), 3: "E", 4: (29.0, 13.0, 0.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def follow_up(portal: Portal, receipt: str) -> FlaskClient:
    client = portal.app.test_client()
    token = csrf_token(client, "/follow-up")
    response = client.post("/follow-up", data={"csrf_token": token, "receipt": receipt})
    assert response.status_code == 302
    return client


def post(client: FlaskClient, page: str, path: str, **data: object) -> object:
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


@pytest.fixture
def filed(portal: Portal) -> dict[str, object]:
    """A confidential French complaint against member company Shield Ltd, with a GPS photo."""
    with portal.db as db:
        shield = Company(id=uuid.uuid4(), name="Shield Ltd", response_days=21, countries="CD")
        db.add(shield)
        db.commit()
    portal.account(WORKER)
    portal.account(OFFICER, Role.COMPANY, company="Shield Ltd")
    portal.account(RIVAL, Role.COMPANY, company="Rival Guards")
    reporter = portal.app.test_client()
    receipt = file_complaint(
        reporter,
        text="Ils ont frappé mon frère à la barrière",
        files=[(GPS_JPEG_NAME, photo_with_gps())],
        answers={
            "what": {"company": str(shield.id), "company_other": ""},
            "contact": {
                "contact_mode": "confidential",
                "name": "Amani K.",
                "phone": "+243 000 111",
                "preferred_contact": "phone",
                "share_with_company": "no",
                "share_with_bodies": "yes",
            },
        },
        lang="fr",
    )
    return {"receipt": receipt, "case_id": only_case_id(portal), "company_id": shield.id}


def start(worker: FlaskClient, case_id: uuid.UUID, company_id: uuid.UUID) -> str:
    page = f"{case_url(case_id)}/refer"
    response = post(worker, page, page, company=str(company_id))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]  # type: ignore[attr-defined]
    return response.headers["Location"]  # type: ignore[attr-defined,no-any-return]


def test_the_whole_referral_to_a_company_with_identity_withheld(
    portal: Portal, filed: dict[str, object]
) -> None:
    case_id, company_id = filed["case_id"], filed["company_id"]
    worker = staff_client(portal, WORKER)
    assert "Shield Ltd" in worker.get(f"{case_url(case_id)}/refer").get_data(as_text=True)

    # Consent was never asked: the referral waits, and the reporter is asked.
    referral_url = start(worker, case_id, company_id)  # type: ignore[arg-type]
    assert "Waiting for the reporter" in worker.get(referral_url).get_data(as_text=True)
    reporter = follow_up(portal, str(filed["receipt"]))
    page = reporter.get("/follow-up/case").get_data(as_text=True)
    assert 'action="/follow-up/consent' in page
    assert 'value="identity"' in page  # confidential: they may allow their name
    answered = post(
        reporter, "/follow-up/case", "/follow-up/consent", recipient="company", scope="account"
    )
    assert answered.status_code == 302  # type: ignore[attr-defined]
    assert 'action="/follow-up/consent' not in reporter.get("/follow-up/case").get_data(
        as_text=True
    )

    # Identity asked for against the reporter's choice: refused, nothing stored.
    compose = referral_url + "/compose"
    html = worker.get(referral_url).get_data(as_text=True)
    assert "Compose the package" in html
    file_id = re.search(r'name="file" value="([0-9a-f-]{36})"', html).group(1)  # type: ignore[union-attr]
    refused = post(
        worker,
        referral_url,
        compose,
        answer="what_happened",
        **{"question-what_happened": "What happened", "text-what_happened": "Beaten at the gate"},
        identity="1",
        cover_note="Please answer",
    )
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "has not allowed their identity" in refused.get_data(as_text=True)  # type: ignore[attr-defined]
    with portal.db as db:
        assert db.scalar(select(Referral)).compartment_id is None  # type: ignore[union-attr]

    sent = post(
        worker,
        referral_url,
        compose,
        answer="what_happened",
        **{
            "question-what_happened": "What happened",
            "text-what_happened": "Beaten at the [redacted] gate",
        },
        file=file_id,
        cover_note="Please answer within your committed time.",
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)[:3000]  # type: ignore[attr-defined]
    with portal.db as db:
        referral = db.scalar(select(Referral))
        assert referral is not None
        assert (referral.status, referral.scope) == ("sent", Scope.ACCOUNT.value)
        assert referral.response_due_on is not None
        assert (referral.response_due_on - referral.sent_on).days == 21  # type: ignore[operator]

    # The officer of Shield Ltd lands on its referrals, reads the package, no identity, and
    # the shared photo has no metadata left.
    officer = staff_client(portal, OFFICER)
    listing = officer.get("/company/")
    assert listing.status_code == 200
    link = re.search(r'href="(/company/referrals/[0-9a-f-]{36})"', listing.get_data(as_text=True))
    assert link
    package = officer.get(link.group(1)).get_data(as_text=True)
    assert "Beaten at the [redacted] gate" in package
    assert "Amani" not in package and "+243" not in package
    assert "Please answer within your committed time." in package
    shared = re.search(r'href="(/company/referrals/[^"]+/files/[^"]+)"', package)
    assert shared
    photo = officer.get(shared.group(1)).data
    copy = Image.open(io.BytesIO(photo))
    assert copy.size == (64, 48)
    assert not copy.getexif() and b"CanonSecret" not in photo
    original = worker.get(f"{case_url(case_id)}/files/{file_id}").data
    assert b"CanonSecret" in original  # the evidence itself is untouched

    # The officer answers; the caseworker reads it at once.
    acked = post(officer, link.group(1), link.group(1) + "/acknowledge")
    assert acked.status_code == 302  # type: ignore[attr-defined]
    answered = post(
        officer,
        link.group(1),
        link.group(1) + "/answer",
        findings="Guard identified and suspended",
        proposed_remedy="Medical costs and an apology",
    )
    assert answered.status_code == 302  # type: ignore[attr-defined]
    seen = worker.get(referral_url).get_data(as_text=True)
    assert "Guard identified and suspended" in seen and "Medical costs and an apology" in seen

    # P9: the officer can open nothing of the case itself, nor any caseworker page.
    for path in (case_url(case_id), f"{case_url(case_id)}/files/{file_id}", "/caseworker/cases"):
        assert officer.get(path).status_code == 404, path
    # Another company's officer sees none of it.
    rival = staff_client(portal, RIVAL)
    assert 'href="/company/referrals/' not in rival.get("/company/").get_data(as_text=True)
    assert rival.get(link.group(1)).status_code == 404
    assert rival.get(shared.group(1)).status_code == 404
    with portal.db as db:
        actions = set(db.scalars(select(AuditEvent.action)))
    assert {
        "consent.asked",
        "consent.answered",
        "referral.sent",
        "referral.acknowledged",
        "referral.answered",
        "company.referral_opened",
    } <= actions

    # The caseworker closes it with its outcome.
    closed = post(worker, referral_url, referral_url + "/response", outcome="remedy_offered")
    assert closed.status_code == 302  # type: ignore[attr-defined]
    with portal.db as db:
        assert db.scalar(select(Referral.status)) == "closed"


def test_a_reporter_who_says_nothing_may_go_cancels_the_waiting_referral(
    portal: Portal, filed: dict[str, object]
) -> None:
    worker = staff_client(portal, WORKER)
    referral_url = start(worker, filed["case_id"], filed["company_id"])  # type: ignore[arg-type]
    reporter = follow_up(portal, str(filed["receipt"]))
    post(reporter, "/follow-up/case", "/follow-up/consent", recipient="company", scope="nothing")

    assert "did not allow" in worker.get(referral_url).get_data(as_text=True)
    again = post(
        worker,
        f"{case_url(filed['case_id'])}/refer",  # type: ignore[arg-type]
        f"{case_url(filed['case_id'])}/refer",  # type: ignore[arg-type]
        company=str(filed["company_id"]),
    )
    assert again.status_code == 400  # type: ignore[attr-defined]
    assert "does not allow" in again.get_data(as_text=True)  # type: ignore[attr-defined]


def test_an_anonymous_reporter_cannot_allow_an_identity_they_never_gave(portal: Portal) -> None:
    portal.account(WORKER)
    reporter = portal.app.test_client()
    receipt = file_complaint(reporter)
    case_id = only_case_id(portal)
    worker = staff_client(portal, WORKER)
    post(worker, f"{case_url(case_id)}/refer", f"{case_url(case_id)}/consent", recipient="bodies")
    follower = follow_up(portal, receipt)
    page = follower.get("/follow-up/case").get_data(as_text=True)
    assert 'value="account"' in page and 'value="identity"' not in page

    forced = post(
        follower, "/follow-up/case", "/follow-up/consent", recipient="bodies", scope="identity"
    )

    assert forced.status_code == 400  # type: ignore[attr-defined]
    with portal.db as db:
        from portal.models import Case

        assert db.scalar(select(Case.share_with_bodies)) == "unasked"


def test_a_procedure_package_is_exported_then_recorded_as_sent(
    portal: Portal, filed: dict[str, object]
) -> None:
    from portal import registry

    with portal.app.app_context(), portal.db as db:
        registry.load_starter_catalogue(db)
        db.commit()
    worker = staff_client(portal, WORKER)
    case_id = filed["case_id"]
    refer_page = f"{case_url(case_id)}/refer"  # type: ignore[arg-type]
    html = worker.get(refer_page).get_data(as_text=True)
    assert "Does not accept anonymous complaints" not in html  # confidential case
    procedure = re.search(r'name="procedure" value="([0-9a-f-]{36})"', html).group(1)  # type: ignore[union-attr]
    post(worker, refer_page, f"{case_url(case_id)}/consent", recipient="bodies", scope="identity")  # type: ignore[arg-type]
    response = post(worker, refer_page, refer_page, procedure=procedure)
    referral_url = response.headers["Location"]  # type: ignore[attr-defined]
    post(
        worker,
        referral_url,
        referral_url + "/compose",
        answer="what_happened",
        **{"question-what_happened": "What happened", "text-what_happened": "At the gate"},
        identity="1",
        cover_note="Referred with consent",
    )
    bundle = worker.get(referral_url + "/package.zip")
    assert bundle.status_code == 200
    import zipfile

    text = zipfile.ZipFile(io.BytesIO(bundle.data)).read("package.txt").decode()
    assert "At the gate" in text and "Amani K." in text  # identity allowed and chosen
    sent = post(
        worker, referral_url, referral_url + "/sent", sent_on="2026-11-20", reference="NHRI-7"
    )
    assert sent.status_code == 302  # type: ignore[attr-defined]
    with portal.db as db:
        referral = db.scalar(select(Referral))
        assert referral is not None
        assert (referral.status, referral.their_reference, referral.scope) == (
            "sent",
            "NHRI-7",
            "identity",
        )


def test_a_referral_past_its_answer_date_shows_on_the_case_list(
    portal: Portal, filed: dict[str, object]
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from portal.models import today

    worker = staff_client(portal, WORKER)
    case_id = filed["case_id"]
    refer_page = f"{case_url(case_id)}/refer"  # type: ignore[arg-type]
    post(worker, refer_page, f"{case_url(case_id)}/consent", recipient="company", scope="account")  # type: ignore[arg-type]
    referral_url = start(worker, case_id, filed["company_id"])  # type: ignore[arg-type]
    post(
        worker,
        referral_url,
        referral_url + "/compose",
        answer="what_happened",
        **{"question-what_happened": "What happened", "text-what_happened": "At the gate"},
    )
    assert "Referrals waiting past" not in worker.get("/caseworker/cases").get_data(as_text=True)
    with portal.db as db:
        db.execute(update(Referral).values(response_due_on=today() - timedelta(days=1)))
        db.commit()

    listing = worker.get("/caseworker/cases").get_data(as_text=True)
    outsider = portal.account("outsider@example.org", intake=False)
    assert outsider is not None

    assert "Referrals waiting past their answer date" in listing
    assert referral_url in listing
    other = staff_client(portal, "outsider@example.org").get("/caseworker/cases")
    assert "Referrals waiting past" not in other.get_data(as_text=True)


def test_the_officer_sends_evidence_into_the_package_and_the_caseworker_reads_it(
    portal: Portal, filed: dict[str, object]
) -> None:
    worker = staff_client(portal, WORKER)
    case_id = filed["case_id"]
    refer_page = f"{case_url(case_id)}/refer"  # type: ignore[arg-type]
    post(worker, refer_page, f"{case_url(case_id)}/consent", recipient="company", scope="account")  # type: ignore[arg-type]
    referral_url = start(worker, case_id, filed["company_id"])  # type: ignore[arg-type]
    post(
        worker,
        referral_url,
        referral_url + "/compose",
        answer="what_happened",
        **{"question-what_happened": "What happened", "text-what_happened": "At the gate"},
    )
    officer = staff_client(portal, OFFICER)
    link = re.search(
        r'href="(/company/referrals/[0-9a-f-]{36})"',
        officer.get("/company/").get_data(as_text=True),
    ).group(1)  # type: ignore[union-attr]
    evidence = b"Company-evidence-canary: the duty roster of 3 March"
    token = csrf_token(officer, link)
    empty = officer.post(link + "/evidence", data={"csrf_token": token})
    assert empty.status_code == 400
    sent = officer.post(
        link + "/evidence",
        data={"csrf_token": token, "attachments": (io.BytesIO(evidence), "roster.txt")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]

    page = worker.get(referral_url).get_data(as_text=True)
    assert "Files from the company" in page
    download = re.search(
        r'href="(/caseworker/cases/[^"]+/files/[0-9a-f-]{36})"[^>]*>\s*<bdi>roster', page
    )
    assert download
    assert worker.get(download.group(1)).data == evidence
    rival = staff_client(portal, RIVAL)
    assert (
        rival.post(
            link + "/evidence", data={"csrf_token": csrf_token(rival, "/company/")}
        ).status_code
        == 404
    )
    with portal.db as db:
        assert "referral.evidence_added" in set(db.scalars(select(AuditEvent.action)))
    for path in portal.data_dir.root.rglob("*"):
        if path.is_file():
            assert evidence not in path.read_bytes(), path
