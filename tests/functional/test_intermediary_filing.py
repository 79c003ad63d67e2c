"""An organisation files a group complaint for two people with different consents, follows it
(messages, unread counts, evidence, consent updates), and hands it over with a new receipt.

Each person's consent is kept and honoured on its own: a referral to the company carries the
shared account only if everyone allowed it, and the name only of the person who allowed it;
the case is left out of the public figures when someone said no. Another organisation reaches
none of it, and the filing organisation never holds the internal notes or a referral package.
"""

from __future__ import annotations

import io
import re
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.models import (
    Account,
    Case,
    Channel,
    Compartment,
    CompartmentKind,
    Grant,
    Record,
    RecordKind,
    Referral,
    Role,
    Scope,
)
from tests.conftest import Portal, csrf_token
from tests.functional.helpers import account_by_email, case_url, only_case_id, staff_client
from tests.support import smtp

smtp_sink = smtp.smtp_sink  # the fixture: a real SMTP server on loopback
WORKER = "worker@oversight.example"
LEAD = "lead@haki.example"
COLLEAGUE = "colleague@haki.example"
STRANGER = "someone@other.example"


def person(index: int, **values: str) -> dict[str, str]:
    base = {
        "relationship": "A villager we work with",
        "agreed": "asked",
        "how": "thumbprint",
        "on": "2026-11-02",
        "caseworkers": "identity",
        "name": "",
        "contact": "",
        "company": "account",
        "bodies": "account",
        "public_reports": "yes",
        "own_receipt": "no",
        **values,
    }
    return {f"people-{index}-{key}": value for key, value in base.items()}


FIRST = person(
    0,
    name="Neema Wairimu",
    contact="Through Haki's office in Voi",
    company="identity",
    own_receipt="yes",
)
SCAN = b"%PDF-1.4 thumbprint of SCAN-CANARY-7Q2" * 3000
SECOND = person(1, caseworkers="account", company="account", public_reports="no")


def post(client: FlaskClient, page: str, path: str, **data: object):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


@pytest.fixture
def shield(portal: Portal) -> uuid.UUID:
    from portal.models import Company

    with portal.db as db:
        company = Company(id=uuid.uuid4(), name="Shield Ltd", response_days=21)
        db.add(company)
        db.commit()
        return company.id


def file_group(portal: Portal, lead: FlaskClient, shield: uuid.UUID) -> tuple[str, str]:
    """File for two people; return (the filed page's HTML, the person's receipt)."""
    started = post(lead, "/intermediary/", "/intermediary/file")
    assert started.status_code == 302 and "/report/people" in started.headers["Location"]
    page = lead.get("/report/people")
    assert page.status_code == 200
    # The first person, then "add another person": what was typed is kept.
    added = post(lead, "/report/people", "/report/people", action="add", **FIRST)
    assert added.status_code == 303
    again = lead.get("/report/people").get_data(as_text=True)
    assert "Neema Wairimu" in again and 'name="people-1-relationship"' in again
    # A scanned consent form, kept apart from the evidence.
    scanned = lead.post(
        "/report/people",
        data={
            "csrf_token": csrf_token(lead, "/report/people"),
            "action": "scan",
            **FIRST,
            "attachments": [(io.BytesIO(SCAN), "consent-Neema-Wairimu.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert scanned.status_code == 303  # back to the same page, with the scan listed
    assert "consent-Neema-Wairimu.pdf" in lead.get("/report/people").get_data(as_text=True)
    # Something missing: the page says what, and keeps everything typed.
    blank = {"people-1-relationship": "", "people-1-name": "", "people-1-on": ""}
    missing = post(lead, "/report/people", "/report/people", action="continue", **FIRST, **blank)
    assert missing.status_code == 400
    assert "Say who this person is to you." in missing.get_data(as_text=True)
    done = post(lead, "/report/people", "/report/people", action="continue", **FIRST, **SECOND)
    assert done.status_code == 303, done.get_data(as_text=True)[:3000]
    assert "/report/what" in done.headers["Location"]
    # "who" and "contact" are the reporter's own steps: an organisation goes to its people.
    assert "/report/people" in lead.get("/report/who").headers["Location"]
    post(
        lead,
        "/report/what",
        "/report/what",
        what_happened="Guards at the Voi gate beat two women carrying water.",
        country="KE",
        company=str(shield),
    )
    for step in ("safety", "remedy"):
        post(lead, f"/report/{step}", f"/report/{step}")
    check = lead.get("/report/check").get_data(as_text=True)
    assert "Person 2" in check and "Not given to caseworkers" in check
    assert "Your name" not in check  # the contact step's questions are not an organisation's
    sent = post(lead, "/report/check", "/report/send")
    assert sent.status_code == 200, sent.get_data(as_text=True)[:3000]
    html = sent.get_data(as_text=True)
    receipts = re.findall(r'<strong class="receipt" dir="ltr">([0-9 ]+)</strong>', html)
    assert len(receipts) == 1  # only the first person wanted one
    return html, receipts[0]


@pytest.fixture
def filed(portal: Portal, shield: uuid.UUID) -> dict[str, object]:
    portal.account(WORKER)
    portal.account(LEAD, Role.INTERMEDIARY, organisation="Haki Mashinani", org_admin=True)
    portal.account(STRANGER, Role.INTERMEDIARY, organisation="Other Rights Group")
    lead = staff_client(portal, LEAD)
    html, receipt = file_group(portal, lead, shield)
    return {"lead": lead, "html": html, "receipt": receipt, "case_id": only_case_id(portal)}


def test_the_group_complaint_keeps_each_persons_consent(portal: Portal, filed) -> None:  # type: ignore[no-untyped-def]
    case_id = filed["case_id"]
    with portal.db as db:
        case = db.get(Case, case_id)
        assert case is not None
        assert case.channel == Channel.INTERMEDIARY.value
        # The account may go to the company (both allowed it), a name too (the first person's).
        assert case.share_with_company == Scope.IDENTITY.value
        assert case.share_with_bodies == Scope.ACCOUNT.value
        assert case.in_public_reports is False  # the second person said no
        lead = db.scalar(select(Account).where(Account.email == LEAD))
        assert lead is not None and case.organisation_id == lead.organisation_id
        kinds = set(
            db.scalars(
                select(Compartment.kind)
                .join(Grant, Grant.compartment_id == Compartment.id)
                .where(Compartment.case_id == case_id, Grant.account_id == lead.id)
            )
        )
        assert kinds == {CompartmentKind.CASE.value, CompartmentKind.IDENTITY.value}

    worker = staff_client(portal, WORKER)
    page = worker.get(case_url(case_id)).get_data(as_text=True)
    assert "Filed by Haki Mashinani" in page
    assert "Neema Wairimu" in page and "Through Haki&#39;s office in Voi" in page
    assert page.count("Person 2") == 1 and "Not given to caseworkers" in page
    assert "Thumbprint" in page
    assert "consent-Neema-Wairimu.pdf" in page
    scan = re.search(r'href="([^"]+/files/[0-9a-f-]{36})"[^>]*><bdi>consent-Neema', page)
    assert scan and worker.get(scan.group(1)).data == SCAN
    evidence = page.split('id="consent"')[1].split("Attachments</h2>")[1]
    assert "consent-Neema" not in evidence.split("</ul>")[0]  # not listed as evidence


def test_nothing_about_the_people_is_readable_at_rest(portal: Portal, filed) -> None:  # type: ignore[no-untyped-def]
    from tests.functional.test_at_rest import encodings, every_stored_value, files_containing

    secrets = ["Neema Wairimu", "office in Voi", "A villager we work with", "SCAN-CANARY-7Q2"]
    for _table, _column, value in every_stored_value(portal):
        for secret in secrets:
            assert not any(encoded in value for encoded in encodings(secret)), (_table, _column)
    for secret in secrets:
        assert files_containing(portal.data_dir.root, encodings(secret)) == []


def test_a_referral_honours_each_persons_consent(portal: Portal, filed, shield) -> None:  # type: ignore[no-untyped-def]
    case_id = filed["case_id"]
    portal.account("officer@shield.example", Role.COMPANY, company="Shield Ltd")
    worker = staff_client(portal, WORKER)
    refer = f"{case_url(case_id)}/refer"
    started = post(worker, refer, refer, company=str(shield))
    referral_url = started.headers["Location"]
    html = worker.get(referral_url).get_data(as_text=True)
    assert "Compose the package" in html  # consent was recorded at filing: no need to ask
    sent = post(
        worker,
        referral_url,
        referral_url + "/compose",
        answer="what_happened",
        **{"question-what_happened": "What happened", "text-what_happened": "Two women beaten"},
        identity="1",
        cover_note="Please answer.",
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)[:3000]
    officer = staff_client(portal, "officer@shield.example")
    listing = officer.get("/company/").get_data(as_text=True)
    link = re.search(r'href="(/company/referrals/[0-9a-f-]{36})"', listing)
    assert link
    package = officer.get(link.group(1)).get_data(as_text=True)
    assert "Neema Wairimu" in package  # she allowed her name to go to the company
    assert "person 2" not in package.lower()  # the second person allowed the account only
    # The organisation holds no key of the package.
    lead = account_by_email(portal, LEAD)
    with portal.db as db:
        referral = db.scalar(select(Referral))
        assert referral is not None and referral.compartment_id is not None
        held = db.scalar(
            select(Grant.id).where(
                Grant.compartment_id == referral.compartment_id, Grant.account_id == lead.id
            )
        )
        assert held is None

    # The second person changes their mind: nothing may go to the company any more; a new
    # referral to the company cannot be composed.
    lead_client: FlaskClient = filed["lead"]
    consent_page = f"/intermediary/cases/{case_id}/consent"
    form = lead_client.get(consent_page).get_data(as_text=True)
    assert "Neema Wairimu" in form
    changed = post(
        lead_client,
        consent_page,
        consent_page,
        **FIRST,
        **person(1, caseworkers="account", company="nothing", public_reports="no"),
        note="She told us on 20 November she fears for her job.",
    )
    assert changed.status_code == 302, changed.get_data(as_text=True)[:3000]
    with portal.db as db:
        case = db.get(Case, case_id)
        assert case is not None and case.share_with_company == Scope.NOTHING.value
    again = post(worker, refer, refer, company=str(shield))
    assert again.status_code == 400
    assert "does not allow the case to go there" in again.get_data(as_text=True)
    with portal.db as db:
        composed = db.scalars(select(Referral).where(Referral.compartment_id.is_not(None)))
        assert len(list(composed)) == 1  # only the first one was ever sealed


def test_the_organisation_follows_the_case_and_no_one_else_can(portal: Portal, filed) -> None:  # type: ignore[no-untyped-def]
    case_id = filed["case_id"]
    lead: FlaskClient = filed["lead"]
    page_url = f"/intermediary/cases/{case_id}"
    worker = staff_client(portal, WORKER)
    asked = "Can you tell us the date?"
    post(worker, case_url(case_id), f"{case_url(case_id)}/messages", message=asked)
    post(worker, case_url(case_id), f"{case_url(case_id)}/notes", note="INTERNAL-ONLY risk note")
    listing = lead.get("/intermediary/").get_data(as_text=True)
    row = re.search(r"<tr>\s*<th scope=\"row\">.*?</tr>", listing, re.S)
    assert row and "<strong>1</strong>" in row.group(0)  # one unread message
    page = lead.get(page_url).get_data(as_text=True)
    assert "Can you tell us the date?" in page
    assert "INTERNAL-ONLY" not in page
    assert "<strong>1</strong>" not in lead.get("/intermediary/").get_data(as_text=True)
    answered = post(lead, page_url, f"{page_url}/messages", message="It was on 2 November.")
    assert answered.status_code == 302
    staff_page = worker.get(case_url(case_id)).get_data(as_text=True)
    assert "It was on 2 November." in staff_page
    assert "The organisation filing for them" in staff_page
    added = lead.post(
        f"{page_url}/evidence",
        data={
            "csrf_token": csrf_token(lead, page_url),
            "attachments": [(io.BytesIO(b"%PDF-1.4 statement"), "statement.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert added.status_code == 302
    assert "statement.pdf" in worker.get(case_url(case_id)).get_data(as_text=True)

    # Another organisation's account: nothing of it.
    stranger = staff_client(portal, STRANGER)
    assert stranger.get(page_url).status_code == 404
    assert stranger.get(f"{page_url}/consent").status_code == 404
    assert "Voi" not in stranger.get("/intermediary/").get_data(as_text=True)
    assert post(stranger, "/intermediary/", f"{page_url}/messages", message="x").status_code == 404
    # And no caseworker page either.
    assert stranger.get(case_url(case_id)).status_code == 404

    # A colleague who joins later gets the organisation's cases when a colleague next looks.
    portal.account(COLLEAGUE, Role.INTERMEDIARY, organisation="Haki Mashinani")
    colleague = staff_client(portal, COLLEAGUE)
    assert colleague.get(page_url).status_code == 404
    lead.get("/intermediary/")
    assert "Can you tell us the date?" in colleague.get(page_url).get_data(as_text=True)


def test_the_receipts_open_the_case_at_follow_up(portal: Portal, filed) -> None:  # type: ignore[no-untyped-def]
    case_id = filed["case_id"]
    lead: FlaskClient = filed["lead"]

    def opens(receipt: str) -> str:
        client = portal.app.test_client()
        response = post(client, "/follow-up", "/follow-up", receipt=receipt)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return client.get("/follow-up/case").get_data(as_text=True)

    assert "We received it on" in opens(str(filed["receipt"]))
    page_url = f"/intermediary/cases/{case_id}"
    handed = post(lead, page_url, f"{page_url}/hand-over", stop_following="y")
    assert handed.status_code == 200
    assert "no-store" in handed.headers["Cache-Control"]
    receipt = re.search(r'<strong id="receipt">([0-9 ]+)</strong>', handed.get_data(as_text=True))
    assert receipt
    worker = staff_client(portal, WORKER)
    post(worker, case_url(case_id), f"{case_url(case_id)}/messages", message="After the hand-over")
    # Both receipts read what was written after the organisation stopped following...
    assert "After the hand-over" in opens(receipt.group(1))
    assert "After the hand-over" in opens(str(filed["receipt"]))
    # ...and the organisation no longer reaches the case: the message is sealed in a case
    # compartment made after the hand-over, of which it holds no key.
    assert lead.get(page_url).status_code == 404
    account = account_by_email(portal, LEAD)
    with portal.db as db:
        latest = db.scalar(
            select(Record)
            .where(Record.case_id == case_id, Record.kind == RecordKind.MESSAGE.value)
            .order_by(Record.sequence.desc())
        )
        assert latest is not None
        compartment = db.get(Compartment, latest.compartment_id)
        assert compartment is not None and compartment.retired_at is None
        held = db.scalars(select(Grant.compartment_id).where(Grant.account_id == account.id))
        assert compartment.id not in set(held)


def test_every_organisation_post_needs_its_csrf_token(portal: Portal, filed) -> None:  # type: ignore[no-untyped-def]
    case_id = filed["case_id"]
    lead: FlaskClient = filed["lead"]
    page_url = f"/intermediary/cases/{case_id}"
    for path, data in (
        (f"{page_url}/messages", {"message": "forged"}),
        (f"{page_url}/evidence", {}),
        (f"{page_url}/consent", {**FIRST, **SECOND, "note": "forged"}),
        (f"{page_url}/hand-over", {"stop_following": "y"}),
        ("/intermediary/file", {}),
    ):
        assert lead.post(path, data=data).status_code == 400, path
    with portal.db as db:
        case = db.get(Case, case_id)
        assert case is not None and case.share_with_company == Scope.IDENTITY.value
    page = lead.get(page_url)
    assert page.status_code == 200 and "forged" not in page.get_data(as_text=True)


def test_signing_out_ends_a_filing_in_progress(portal: Portal, filed) -> None:  # type: ignore[no-untyped-def]
    lead: FlaskClient = filed["lead"]
    post(lead, "/intermediary/", "/intermediary/file")
    post(lead, "/report/people", "/report/people", action="add", **FIRST)
    assert "Neema Wairimu" in lead.get("/report/people").get_data(as_text=True)
    post(lead, "/intermediary/", "/sign-out")
    page = lead.get("/report/people").get_data(as_text=True)
    assert "Neema Wairimu" not in page


def test_the_organisation_hears_of_a_caseworkers_message_and_nothing_more(
    portal: Portal, filed, smtp_sink
) -> None:  # type: ignore[no-untyped-def]
    """An organisation has no other way to learn it has news: its accounts holding the case get
    the neutral notice (no reference, no words), and nobody else does; after a hand-over that
    ended its access, nothing."""
    import dataclasses

    from portal import create_app
    from tests.conftest import sign_in

    case_id = filed["case_id"]
    app = create_app(dataclasses.replace(portal.settings, smtp_port=smtp_sink.port))
    try:
        worker = app.test_client()
        sign_in(worker, WORKER)
        words = "Please tell us which gate it was."
        post(worker, case_url(case_id), f"{case_url(case_id)}/messages", message=words)
        assert smtp_sink.recipients() == [LEAD]  # not the other organisation, not the worker
        (notice,) = smtp_sink.messages
        assert "The caseworkers have written on a case your organisation filed." in notice.body
        with portal.db as db:
            reference = db.get(Case, case_id).reference  # type: ignore[union-attr]
        for secret in (reference, words, str(case_id), "Neema", "Voi"):
            assert secret not in notice.raw.decode("utf-8", errors="replace"), secret
        lead = app.test_client()
        sign_in(lead, LEAD)
        page_url = f"/intermediary/cases/{case_id}"
        post(lead, page_url, f"{page_url}/hand-over", stop_following="y")
        post(worker, case_url(case_id), f"{case_url(case_id)}/messages", message="Again")
        assert len(smtp_sink.messages) == 1
    finally:
        app.extensions["portal_db"].dispose()


def test_the_people_step_keeps_what_was_typed_through_limits_and_changes(portal: Portal) -> None:
    """A consent form over the upload limit is refused with the limit named, and every answer
    typed stays; a person removed goes, the others stay; a scan removed goes."""
    import dataclasses

    from portal import create_app
    from tests.conftest import sign_in

    portal.account(LEAD, Role.INTERMEDIARY, organisation="Haki Mashinani", org_admin=True)
    mib = 1024 * 1024
    app = create_app(
        dataclasses.replace(portal.settings, max_upload_bytes=mib, max_request_bytes=4 * mib)
    )
    try:
        lead = app.test_client()
        sign_in(lead, LEAD)
        post(lead, "/intermediary/", "/intermediary/file")
        too_big = lead.post(
            "/report/people",
            data={
                "csrf_token": csrf_token(lead, "/report/people"),
                "action": "scan",
                **FIRST,
                "attachments": [(io.BytesIO(b"x" * (2 * mib)), "huge-scan.pdf")],
            },
            content_type="multipart/form-data",
        )
        html = too_big.get_data(as_text=True)
        assert too_big.status_code == 400
        assert "You can send up to 1 MB in all." in html
        assert "Neema Wairimu" in html and "huge-scan.pdf" not in html
        page = lead.get("/report/people").get_data(as_text=True)
        assert "Neema Wairimu" in page  # kept in the draft, not only on the error page

        post(lead, "/report/people", "/report/people", action="add", **FIRST)
        post(lead, "/report/people", "/report/people", action="remove-0", **FIRST, **SECOND)
        page = lead.get("/report/people").get_data(as_text=True)
        assert "Neema Wairimu" not in page  # the first person went
        # the second person (who keeps their name from caseworkers) is now the first
        kept = r'<input checked[^>]*name="people-0-caseworkers"[^>]*value="account"'
        assert re.search(kept, page)
        assert 'name="people-1-relationship"' not in page

        scanned = lead.post(
            "/report/people",
            data={
                "csrf_token": csrf_token(lead, "/report/people"),
                "action": "scan",
                "attachments": [(io.BytesIO(SCAN[:1000]), "form.pdf")],
            },
            content_type="multipart/form-data",
        )
        assert scanned.status_code == 303
        page = lead.get("/report/people").get_data(as_text=True)
        file_id = re.search(r'value="unscan-([0-9a-f-]{36})"', page)
        assert file_id and "form.pdf" in page
        post(lead, "/report/people", "/report/people", action=f"unscan-{file_id.group(1)}")
        assert "form.pdf" not in lead.get("/report/people").get_data(as_text=True)
    finally:
        app.extensions["portal_db"].dispose()
