"""Following up with the receipt: the reporter's session, both sides of the conversation, later
evidence, withdrawal, leaving and idling out, what the session row holds, and receipt guessing."""

from __future__ import annotations

import base64
import dataclasses
import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

import crypto
from portal import create_app
from portal.models import (
    Case,
    CompartmentKind,
    Grant,
    ReceiptLock,
    Record,
    RecordKind,
    ReporterSession,
    StoredFile,
    utcnow,
)
from tests.conftest import csrf_token
from tests.functional.helpers import (
    case_url,
    compartment_of,
    count,
    only_case_id,
    staff_client,
)
from tests.support.filing import file_complaint

CASEWORKER = "cw@example.org"
FILE_LINK = re.compile(r'href="(/caseworker/cases/[0-9a-f-]{36}/files/[0-9a-f-]{36})"')


def open_follow_up(client, receipt: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/follow-up")
    return client.post("/follow-up", data={"csrf_token": token, "receipt": receipt})


@pytest.fixture
def reporter(portal, client):  # type: ignore[no-untyped-def]
    """A reporter who filed a complaint and came back with the receipt."""
    portal.account(CASEWORKER)
    receipt = file_complaint(client)
    assert open_follow_up(client, receipt).status_code == 302
    return client


def case_page(client) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/follow-up/case")
    assert response.status_code == 200, response.headers.get("Location")
    return response.get_data(as_text=True)


def post_on_case_page(client, path: str, **data):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, "/follow-up/case"), **data})


def cookie_token(client) -> bytes:  # type: ignore[no-untyped-def]
    return base64.urlsafe_b64decode(client.get_cookie("followup").value)


def test_a_receipt_opens_the_case_with_a_browser_session_cookie(portal, client):
    receipt = file_complaint(client)
    response = open_follow_up(client, receipt)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/follow-up/case"
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("followup=")]
    attributes = [part.strip().lower() for part in header.split(";")[1:]]
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert not [a for a in attributes if a.startswith(("max-age", "expires"))]
    assert len(cookie_token(client)) == 32
    assert count(portal, ReporterSession) == 1
    assert "Your complaint" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_messages_reach_each_side(portal, reporter):
    response = post_on_case_page(reporter, "/follow-up/reply", message="Reporter-canary: thanks")
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["sent"] == ["1"]
    staff = staff_client(portal, CASEWORKER)
    case_path = case_url(only_case_id(portal))
    assert "Reporter-canary: thanks" in staff.get(case_path).get_data(as_text=True)

    token = csrf_token(staff, case_path)
    message = "Caseworker-canary: can you tell us the date?"
    sent = staff.post(f"{case_path}/messages", data={"csrf_token": token, "message": message})
    assert sent.status_code == 302
    page = case_page(reporter)
    assert "Reporter-canary: thanks" in page
    assert message in page


def test_evidence_added_later_reaches_the_caseworker_unchanged(portal, reporter):
    recording = bytes(range(256)) * 2000
    token = csrf_token(reporter, "/follow-up/case")
    data = {"csrf_token": token, "attachments": [(io.BytesIO(recording), "voice note.ogg")]}
    response = reporter.post("/follow-up/evidence", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    staff = staff_client(portal, CASEWORKER)
    page = staff.get(case_url(only_case_id(portal))).get_data(as_text=True)
    assert "voice note.ogg" in page
    (link,) = FILE_LINK.findall(page)
    download = staff.get(link)
    assert download.status_code == 200
    assert download.data == recording


def test_withdrawing_asks_first_then_closes_the_case(portal, reporter):
    confirm = reporter.get("/follow-up/withdraw")
    assert confirm.status_code == 200
    assert 'action="/follow-up/withdraw' in confirm.get_data(as_text=True)
    with portal.db as db:
        assert db.get(Case, only_case_id(portal)).stage != "closed"
    assert 'action="/follow-up/reply' in case_page(reporter)

    response = post_on_case_page(reporter, "/follow-up/withdraw")
    assert response.status_code == 302
    with portal.db as db:
        case = db.get(Case, only_case_id(portal))
    assert (case.stage, case.outcome) == ("closed", "withdrawn")
    page = case_page(reporter)
    assert 'action="/follow-up/reply' not in page
    assert 'action="/follow-up/evidence' not in page
    assert 'name="message"' not in page


def messages_of(portal) -> int:  # type: ignore[no-untyped-def]
    with portal.db as db:
        return len(db.scalars(select(Record).where(Record.kind == RecordKind.MESSAGE)).all())


def test_a_withdrawn_complaint_takes_no_more_replies(portal, reporter):
    stale_token = csrf_token(reporter, "/follow-up/case")  # a second tab, still open
    assert post_on_case_page(reporter, "/follow-up/withdraw").status_code == 302
    late = {"csrf_token": stale_token, "message": "One more thing"}
    refused = reporter.post("/follow-up/reply", data=late)
    assert refused.status_code in (302, 303, 400, 403, 409)
    late_file = {"csrf_token": stale_token, "attachments": [(io.BytesIO(b"late"), "late.txt")]}
    reporter.post("/follow-up/evidence", data=late_file, content_type="multipart/form-data")
    assert messages_of(portal) == 0
    assert count(portal, StoredFile) == 0


def test_withdrawing_a_case_already_closed_keeps_its_outcome(portal, reporter):
    with portal.db as db:
        db.execute(update(Case).values(stage="closed", outcome="remedied"))
        db.commit()
    post_on_case_page(reporter, "/follow-up/withdraw")
    with portal.db as db:
        assert db.get(Case, only_case_id(portal)).outcome == "remedied"


def test_leaving_deletes_the_session_and_the_old_cookie_opens_nothing(portal, reporter):
    old_cookie = reporter.get_cookie("followup").value
    assert count(portal, ReporterSession) == 1
    response = post_on_case_page(reporter, "/follow-up/leave")
    assert response.status_code == 302
    assert count(portal, ReporterSession) == 0
    assert reporter.get_cookie("followup") is None

    replay = portal.app.test_client()
    replay.set_cookie("followup", old_cookie)
    again = replay.get("/follow-up/case")
    assert again.status_code == 302
    assert urlsplit(again.headers["Location"]).path == "/follow-up"
    assert "Your complaint" not in again.get_data(as_text=True)


def test_an_idle_session_ends_and_its_row_is_deleted(portal, reporter):
    with portal.db as db:
        db.execute(update(ReporterSession).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.commit()
    response = reporter.get("/follow-up/case")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/follow-up"
    assert parse_qs(location.query)["ended"] == ["1"]
    assert count(portal, ReporterSession) == 0


def test_the_session_row_holds_neither_the_case_key_nor_the_cookie_token(portal, reporter):
    token = cookie_token(reporter)
    compartment = compartment_of(portal, only_case_id(portal), CompartmentKind.CASE)
    with portal.db as db:
        grant = db.scalar(
            select(Grant).where(Grant.compartment_id == compartment.id, Grant.holder == "recovery")
        )
        (row,) = db.scalars(select(ReporterSession)).all()
    case_key = crypto.open_grant(
        grant.wrap,
        portal.recovery_key,
        compartment.id,
        compartment.public_key,
        crypto.WrapPurpose.RECOVERY,
    )
    assert row.id == crypto.session_lookup_id(token) != token
    for column in ReporterSession.__table__.columns:
        value = getattr(row, column.key)
        stored = value if isinstance(value, bytes) else str(value).encode()
        assert bytes(case_key) not in stored, column.key
        assert token not in stored, column.key
    with portal.db as db:
        lock = db.scalar(select(ReceiptLock))
    expires = int(row.expires_at.timestamp())
    # The session holds the receipt's own private key (which opens the case compartment).
    args = (row.wrapped_key, lock.case_id, "reporter", expires, lock.public_key)
    receipt_key = crypto.unwrap_session_key(token, *args)
    opened = crypto.open_grant(
        lock.wrap, receipt_key, compartment.id, compartment.public_key, crypto.WrapPurpose.RECEIPT
    )
    assert bytes(opened) == bytes(case_key)
    with pytest.raises(crypto.IntegrityError):  # the row alone opens nothing
        crypto.unwrap_session_key(row.id, *args)


def test_a_wrong_receipt_finds_nothing_and_opens_no_session(portal, client):
    file_complaint(client)
    response = open_follow_up(client, crypto.format_receipt(crypto.generate_receipt()))
    assert response.status_code == 400
    assert "We found no complaint" in response.get_data(as_text=True)
    assert count(portal, ReporterSession) == 0
    assert client.get_cookie("followup") is None


# Receipt guessing, per client


@pytest.fixture
def guarded_client(portal):  # type: ignore[no-untyped-def]
    """A client of an app allowing five receipt tries a minute per client (and plenty overall)."""
    settings = dataclasses.replace(portal.settings, follow_up_per_client=5, follow_up_burst=100)
    app = create_app(settings)
    yield app.test_client()
    app.extensions["portal_db"].dispose()


def test_a_sixth_receipt_in_a_minute_from_one_client_is_refused(guarded_client):
    statuses = [
        open_follow_up(guarded_client, crypto.generate_receipt()).status_code for _ in range(6)
    ]
    assert statuses == [400] * 5 + [429]
    refused = open_follow_up(guarded_client, crypto.generate_receipt())
    assert refused.status_code == 429
    assert "Wait a minute" in refused.get_data(as_text=True)


def a_typo_of(receipt: str) -> str:
    """The receipt with its last digit changed: the check digit catches it."""
    typo = receipt[:-1] + str((int(receipt[-1]) + 1) % 10)
    with pytest.raises(crypto.InvalidReceiptError):
        crypto.normalize_receipt(typo)
    return typo


def test_typos_are_not_counted_against_the_client(guarded_client):
    for _ in range(8):
        typo = open_follow_up(guarded_client, a_typo_of(crypto.generate_receipt()))
        assert typo.status_code == 400
        assert "not a receipt number" in typo.get_data(as_text=True)
    statuses = [
        open_follow_up(guarded_client, crypto.generate_receipt()).status_code for _ in range(6)
    ]
    assert statuses == [400] * 5 + [429]
