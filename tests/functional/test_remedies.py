"""Remedies end to end: recorded by a caseworker, reported on by the company responsible,
verified by staff, shown to the reporter, who says whether it happened at closure and later."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from portal.models import (
    AuditEvent,
    Case,
    Commitment,
    ComplianceEvent,
    Record,
    RemedyFeedback,
    Reprisal,
    today,
)
from tests.conftest import Portal
from tests.functional.helpers import case_url, staff_client
from tests.functional.test_referrals import (  # noqa: F401 - fixture
    OFFICER,
    RIVAL,
    WORKER,
    filed,
    follow_up,
    post,
    start,
)


def _sent_referral(portal: Portal, filed: dict[str, object]) -> tuple[object, str]:  # noqa: F811
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
    return worker, referral_url


def test_a_remedy_from_agreement_to_the_reporter_s_word(portal: Portal, filed) -> None:  # noqa: F811
    worker, _referral_url = _sent_referral(portal, filed)
    case_id = filed["case_id"]
    page = f"{case_url(case_id)}/remedies"  # type: ignore[arg-type]
    html = worker.get(page).get_data(as_text=True)
    referral_id = re.search(r'<option value="([0-9a-f-]{36})">Shield Ltd', html).group(1)  # type: ignore[union-attr]

    refused = post(worker, page, page, category="compensation", description="", what="x")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "Describe the remedy." in refused.get_data(as_text=True)  # type: ignore[attr-defined]
    added = post(
        worker,
        page,
        page,
        category="compensation",
        description="Medical costs of the brother",
        beneficiaries="The brother",
        responsible="Shield Ltd",
        referral=referral_id,
        what="Pay the hospital bill",
        due_on=(today() + timedelta(days=30)).isoformat(),
        verification="Receipt from the hospital",
        verifier="Caseworker",
        agreed="1",
    )
    assert added.status_code == 302, added.get_data(as_text=True)[:2000]  # type: ignore[attr-defined]
    with portal.db as db:
        commitment = db.scalar(select(Commitment))
        assert commitment is not None and commitment.status == "agreed"
        # Sealed: nothing of the words in clear.
        for record in db.scalars(select(Record)):
            assert b"hospital" not in record.ciphertext

    reporter = follow_up(portal, str(filed["receipt"]))
    seen = reporter.get("/follow-up/case").get_data(as_text=True)
    assert "Payment for the harm" in seen and "Pay the hospital bill" in seen
    assert "Agreed, not started yet" in seen
    assert 'action="/follow-up/feedback' not in seen  # not closed yet

    officer = staff_client(portal, OFFICER)
    link = re.search(
        r'href="(/company/referrals/[0-9a-f-]{36})"',
        officer.get("/company/").get_data(as_text=True),
    ).group(1)  # type: ignore[union-attr]
    company_page = officer.get(link).get_data(as_text=True)
    assert "Pay the hospital bill" in company_page
    progress = f"{link}/commitments/{commitment.id}"
    cheat = post(officer, link, progress, status="verified", note="all done")
    assert cheat.status_code == 400  # type: ignore[attr-defined]
    done = post(officer, link, progress, status="implemented", note="Bill paid on 3 March")
    assert done.status_code == 302  # type: ignore[attr-defined]
    rival = staff_client(portal, RIVAL)
    assert post(rival, "/company/", progress, status="implemented").status_code == 404  # type: ignore[attr-defined]

    staff_view = worker.get(page).get_data(as_text=True)
    assert "Bill paid on 3 March" in staff_view
    status_url = f"{case_url(case_id)}/commitments/{commitment.id}/status"  # type: ignore[arg-type]
    assert post(worker, page, status_url, status="verified").status_code == 302  # type: ignore[attr-defined]
    assert "Done and checked" in reporter.get("/follow-up/case").get_data(as_text=True)

    # Closed: the reporter is asked whether it happened and whether they are satisfied.
    with portal.db as db:
        db.execute(update(Case).values(stage="closed", stage_changed_on=today()))
        db.commit()
    closed = reporter.get("/follow-up/case").get_data(as_text=True)
    assert 'action="/follow-up/feedback' in closed
    half = post(
        reporter, "/follow-up/case", "/follow-up/feedback", **{f"happened-{commitment.id}": "yes"}
    )
    assert half.status_code == 400  # type: ignore[attr-defined]
    answered = post(
        reporter,
        "/follow-up/case",
        "/follow-up/feedback",
        **{f"happened-{commitment.id}": "yes", f"satisfied-{commitment.id}": "partly"},
        comment="Paid, but late",
    )
    assert answered.status_code == 302  # type: ignore[attr-defined]
    assert 'action="/follow-up/feedback' not in reporter.get("/follow-up/case").get_data(
        as_text=True
    )
    staff_view = worker.get(page).get_data(as_text=True)
    assert "Happened: Yes" in staff_view and "Satisfied: Partly" in staff_view
    assert "Paid, but late" in staff_view

    # Six months on, asked again, once.
    with portal.db as db:
        db.execute(update(Case).values(stage_changed_on=today() - timedelta(days=200)))
        db.commit()
    assert 'action="/follow-up/feedback' in reporter.get("/follow-up/case").get_data(as_text=True)
    post(
        reporter,
        "/follow-up/case",
        "/follow-up/feedback",
        **{f"happened-{commitment.id}": "yes", f"satisfied-{commitment.id}": "yes"},
    )
    with portal.db as db:
        rounds = sorted(db.scalars(select(RemedyFeedback.round)))
        actions = set(db.scalars(select(AuditEvent.action)))
    assert rounds == ["closure", "later"]
    assert {"remedy.added", "commitment.company_progress", "commitment.status"} <= actions


def test_the_compliance_route_and_reprisals_are_recorded(portal: Portal, filed) -> None:  # noqa: F811
    worker = staff_client(portal, WORKER)
    case_id = filed["case_id"]
    page = f"{case_url(case_id)}/remedies"  # type: ignore[arg-type]
    with portal.db as db:
        db.execute(update(Case).values(kind="evidence"))
        db.commit()
    assert "Compliance route" in worker.get(page).get_data(as_text=True)
    no_deadline = post(worker, page, f"{case_url(case_id)}/compliance", stage="corrective_action")  # type: ignore[arg-type]
    assert no_deadline.status_code == 400  # type: ignore[attr-defined]
    moved = post(
        worker,
        page,
        f"{case_url(case_id)}/compliance",  # type: ignore[arg-type]
        stage="corrective_action",
        due_on=(today() - timedelta(days=1)).isoformat(),
    )
    assert moved.status_code == 302  # type: ignore[attr-defined]
    assert "Overdue" in worker.get(page).get_data(as_text=True)
    post(worker, page, f"{case_url(case_id)}/reprisals")  # type: ignore[arg-type]
    with portal.db as db:
        assert db.scalar(select(ComplianceEvent.stage)) == "corrective_action"
        assert len(db.scalars(select(Reprisal)).all()) == 1
    officer = staff_client(portal, OFFICER)
    assert officer.get(page).status_code == 404
