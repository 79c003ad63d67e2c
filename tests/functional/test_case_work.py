"""Moving a case through its stages, internal notes and message templates."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

from flask_babel import force_locale, gettext
from sqlalchemy import select

from portal import create_app
from portal.models import Case, Record, RecordKind, Role, StageEvent, today
from portal.workflow import DEFAULT_DEADLINES
from tests.conftest import csrf_token, sign_in
from tests.functional.helpers import only_case_id
from tests.support.filing import DEFAULT_ANSWERS, add_files, answer, file_complaint, send

CASEWORKER = "mover@example.org"


def _setup(portal, client, lang: str | None = None):  # type: ignore[no-untyped-def]
    portal.account(CASEWORKER)
    receipt = file_complaint(client, lang=lang)
    staff = portal.app.test_client()
    sign_in(staff, CASEWORKER)
    return staff, only_case_id(portal), receipt


def _move(staff, case_id, **data):  # type: ignore[no-untyped-def]
    token = csrf_token(staff, f"/caseworker/cases/{case_id}")
    data = {("reporter_message" if k == "message" else k): v for k, v in data.items()}
    fields = {"csrf_token": token, "reporter_message": "", "reason": "", "outcome": "", **data}
    return staff.post(f"/caseworker/cases/{case_id}/move", data=fields)


def _case(portal, case_id) -> Case:  # type: ignore[no-untyped-def]
    with portal.db as db:
        return db.get(Case, case_id)


def _reporter_page(portal, receipt: str) -> str:  # type: ignore[no-untyped-def]
    reporter = portal.app.test_client()
    token = csrf_token(reporter, "/follow-up")
    reporter.post("/follow-up", data={"csrf_token": token, "receipt": receipt})
    return reporter.get("/follow-up/case").get_data(as_text=True)


def test_acknowledging_needs_a_message_which_the_reporter_then_reads(portal, client):
    staff, case_id, receipt = _setup(portal, client)
    refused = _move(staff, case_id, to_stage="acknowledged")
    assert refused.status_code == 400
    assert "Write the message to the reporter." in refused.get_data(as_text=True)
    assert _case(portal, case_id).stage == "received"

    done = _move(staff, case_id, to_stage="acknowledged", message="We have read your complaint.")
    assert done.status_code == 302
    case = _case(portal, case_id)
    assert case.stage == "acknowledged"
    assert case.next_due_on == today() + timedelta(days=DEFAULT_DEADLINES["acknowledged"])
    with portal.db as db:
        (event,) = db.scalars(select(StageEvent).where(StageEvent.case_id == case_id)).all()
    assert (event.from_stage, event.to_stage) == ("received", "acknowledged")
    page = _reporter_page(portal, receipt)
    assert "We have read your complaint." in page
    assert "A caseworker has read your complaint." in page


def test_a_move_the_rules_do_not_allow_is_refused(portal, client):
    staff, case_id, _receipt = _setup(portal, client)
    response = _move(staff, case_id, to_stage="review", message="x", reason="y")
    assert response.status_code == 400
    assert _case(portal, case_id).stage == "received"


def test_not_eligible_needs_a_reason_that_the_reporter_never_sees(portal, client):
    staff, case_id, receipt = _setup(portal, client)
    _move(staff, case_id, to_stage="acknowledged", message="Read.")
    _move(staff, case_id, to_stage="assessment")
    refused = _move(staff, case_id, to_stage="not_eligible", message="Please go to the NHRI.")
    assert "Write the reason for this decision." in refused.get_data(as_text=True)
    _move(
        staff,
        case_id,
        to_stage="not_eligible",
        message="Please go to the NHRI.",
        reason="Secret-reason: outside our mandate",
    )
    assert _case(portal, case_id).stage == "not_eligible"
    with portal.db as db:
        notes = db.scalars(select(Record).where(Record.kind == RecordKind.NOTE.value)).all()
    assert len(notes) == 1
    page = staff.get(f"/caseworker/cases/{case_id}").get_data(as_text=True)
    assert "Secret-reason: outside our mandate" in page
    reporter = _reporter_page(portal, receipt)
    assert "Please go to the NHRI." in reporter
    assert "Secret-reason" not in reporter


def test_closing_needs_an_outcome_and_ends_the_deadlines(portal, client):
    staff, case_id, _receipt = _setup(portal, client)
    assert _move(staff, case_id, to_stage="closed").status_code == 400
    assert _move(staff, case_id, to_stage="closed", outcome="no_response").status_code == 302
    case = _case(portal, case_id)
    assert (case.stage, case.outcome, case.next_due_on) == ("closed", "no_response", None)
    assert 'name="to_stage"' not in staff.get(f"/caseworker/cases/{case_id}").get_data(as_text=True)


def test_deadlines_come_from_the_settings(portal, client):
    app = create_app(dataclasses.replace(portal.settings, stage_deadlines={"acknowledged": 3}))
    portal.account(CASEWORKER)
    file_complaint(client)
    staff = app.test_client()
    sign_in(staff, CASEWORKER)
    case_id = only_case_id(portal)
    token = csrf_token(staff, f"/caseworker/cases/{case_id}")
    staff.post(
        f"/caseworker/cases/{case_id}/move",
        data={"csrf_token": token, "to_stage": "acknowledged", "reporter_message": "ok"},
    )
    assert _case(portal, case_id).next_due_on == today() + timedelta(days=3)
    app.extensions["portal_db"].dispose()


def test_notes_stay_internal(portal, client):
    staff, case_id, receipt = _setup(portal, client)
    token = csrf_token(staff, f"/caseworker/cases/{case_id}")
    staff.post(
        f"/caseworker/cases/{case_id}/notes",
        data={"csrf_token": token, "note": "Internal-note: call the NHRI"},
    )
    assert "Internal-note: call the NHRI" in staff.get(f"/caseworker/cases/{case_id}").get_data(
        as_text=True
    )
    assert "Internal-note" not in _reporter_page(portal, receipt)
    empty = staff.post(
        f"/caseworker/cases/{case_id}/notes",
        data={"csrf_token": csrf_token(staff, f"/caseworker/cases/{case_id}"), "note": ""},
    )
    assert empty.status_code == 400


def test_templates_start_in_the_reporters_language_and_admins_edit_them(portal, client):
    staff, case_id, _receipt = _setup(portal, client, lang="fr")
    page = staff.get(f"/caseworker/cases/{case_id}?template=acknowledgement").get_data(as_text=True)
    with portal.app.test_request_context(), force_locale("fr"):
        french = gettext(
            "Thank you for your complaint. A caseworker has read it. We will now check whether we "
            "can take it up. We will write to you again here. Come back with your receipt number."
        )
    assert french.split(".")[0] in page.replace("&#39;", "'")

    portal.account("admin@example.org", Role.ADMIN, intake=False)
    admin = portal.app.test_client()
    sign_in(admin, "admin@example.org")
    assert staff.get("/caseworker/admin/templates").status_code == 404
    token = csrf_token(admin, "/caseworker/admin/templates")
    saved = admin.post(
        "/caseworker/admin/templates/acknowledgement/fr",
        data={"csrf_token": token, "body": "Bonjour, texte-modifié."},
    )
    assert saved.status_code == 302, saved.status_code
    assert "/caseworker/admin/templates" in saved.headers["Location"], saved.headers["Location"]
    page = staff.get(f"/caseworker/cases/{case_id}?template=acknowledgement").get_data(as_text=True)
    textarea = re.search(r"<textarea[^>]*name=\"message\"[^>]*>(.*?)</textarea>", page, re.S)
    assert textarea and "Bonjour, texte-modifi" in textarea.group(1), page[
        page.find("<textarea") :
    ][:600]


def test_a_caseworker_records_a_phone_complaint_and_gets_a_receipt_to_hand_over(portal, client):
    portal.account(CASEWORKER)
    staff = portal.app.test_client()
    sign_in(staff, CASEWORKER)
    token = csrf_token(staff, "/caseworker/cases")
    started = staff.post("/caseworker/record", data={"csrf_token": token})
    assert started.status_code == 302 and "/report/who" in started.headers["Location"]
    for step in ("who", "what", "safety", "remedy", "contact"):
        values = DEFAULT_ANSWERS[step]
        if step == "what":
            values = {**values, "what_happened": "Told by phone: guards burned the market stalls"}
        assert answer(staff, step, values).status_code == 302
    assert add_files(staff, []).status_code == 302
    receipt = send(staff)
    assert re.fullmatch(r"\d{4}( \d{4}){4}", receipt)
    with portal.db as db:
        case = db.get(Case, only_case_id(portal))
    assert case.channel == "staff_recorded"
    page = staff.get(f"/caseworker/cases/{case.id}").get_data(as_text=True)
    assert "Told by phone: guards burned the market stalls" in page
    assert "_recorded_by_staff" not in page


def test_a_reporter_cannot_mark_a_complaint_as_recorded_by_staff(portal, client):
    file_complaint(client, answers={"what": {"_recorded_by_staff": "1"}})
    with portal.db as db:
        assert db.get(Case, only_case_id(portal)).channel == "anonymous"
