"""P3 and route protection: a case is visible only through a grant, and every staff route
needs a live session of a staff role."""

from __future__ import annotations

import base64
import re

import pytest
from sqlalchemy import select

import crypto
from portal.models import Compartment, Grant, Role, StaffSession, StoredFile
from tests.conftest import PASSWORD, csrf_token, sign_in
from tests.functional.helpers import (
    account_by_email,
    case_url,
    count,
    file_url,
    files_of,
    only_case_id,
    staff_client,
)
from tests.support.filing import file_complaint

GRANTED = "granted@example.org"
OUTSIDER = "outsider@example.org"
SECRET_TEXT = "The guard with the red beret took my brother"
ERROR_SUMMARY = re.compile(r'<div class="error-summary" role="alert"[^>]*>(.*?)</div>', re.S)


@pytest.fixture
def filed_case(portal, client):  # type: ignore[no-untyped-def]
    """One case with one attachment, granted to GRANTED only; returns (case id, file id)."""
    portal.account(GRANTED)
    portal.account(OUTSIDER, intake=False)
    file_complaint(client, text=SECRET_TEXT, files=[("evidence.jpg", b"\xff\xd8 photo bytes")])
    case_id = only_case_id(portal)
    (stored,) = files_of(portal, case_id)
    return case_id, stored.id


def test_granted_caseworker_opens_the_case_and_its_attachment(portal, filed_case):
    case_id, file_id = filed_case
    staff = staff_client(portal, GRANTED)
    page = staff.get(case_url(case_id))
    assert page.status_code == 200
    assert SECRET_TEXT in page.get_data(as_text=True)
    assert staff.get(file_url(case_id, file_id)).data == b"\xff\xd8 photo bytes"


def test_caseworker_without_a_grant_gets_404_on_the_case_page(portal, filed_case):
    case_id, _ = filed_case
    outsider = staff_client(portal, OUTSIDER)
    page = outsider.get(case_url(case_id))
    assert page.status_code == 404
    assert SECRET_TEXT not in page.get_data(as_text=True)


def test_caseworker_without_a_grant_gets_404_on_the_attachment(portal, filed_case):
    case_id, file_id = filed_case
    outsider = staff_client(portal, OUTSIDER)
    download = outsider.get(file_url(case_id, file_id))
    assert download.status_code == 404
    assert b"photo bytes" not in download.data


def test_case_list_shows_the_case_only_to_the_granted_caseworker(portal, filed_case):
    case_id, _ = filed_case
    granted = staff_client(portal, GRANTED).get("/caseworker/cases").get_data(as_text=True)
    outsider = staff_client(portal, OUTSIDER).get("/caseworker/cases").get_data(as_text=True)
    assert case_url(case_id) in granted
    assert case_url(case_id) not in outsider
    assert "There are no cases for you yet." in outsider


def test_caseworker_without_a_grant_holds_no_wrap_of_any_compartment(portal, filed_case):
    case_id, _ = filed_case
    outsider = account_by_email(portal, OUTSIDER)
    granted = account_by_email(portal, GRANTED)
    with portal.db as db:
        compartments = list(
            db.scalars(select(Compartment.id).where(Compartment.case_id == case_id))
        )
        holders = list(
            db.scalars(select(Grant.account_id).where(Grant.compartment_id.in_(compartments)))
        )
    assert len(compartments) == 3  # case, identity, staff
    assert outsider.id not in holders
    assert holders.count(granted.id) == len(compartments)


@pytest.mark.parametrize("route", ["list", "case", "file"])
def test_staff_routes_redirect_to_sign_in_without_a_session(client, filed_case, route):
    case_id, file_id = filed_case
    path = {
        "list": "/caseworker/cases",
        "case": case_url(case_id),
        "file": file_url(case_id, file_id),
    }[route]
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    assert SECRET_TEXT not in response.get_data(as_text=True)


@pytest.mark.parametrize("route", ["list", "case", "file"])
def test_staff_routes_refuse_a_forged_session_cookie(portal, filed_case, route):
    case_id, file_id = filed_case
    path = {
        "list": "/caseworker/cases",
        "case": case_url(case_id),
        "file": file_url(case_id, file_id),
    }[route]
    forged = portal.app.test_client()
    forged.set_cookie("staff", base64.urlsafe_b64encode(b"\x00" * 32).decode("ascii"))
    response = forged.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"


@pytest.mark.parametrize("role", [Role.COMPANY, Role.INTERMEDIARY])
def test_company_and_intermediary_accounts_get_404_on_the_case_list(portal, filed_case, role):
    case_id, _ = filed_case
    portal.account("outside-party@example.org", role)
    other = staff_client(portal, "outside-party@example.org")
    assert other.get("/caseworker/cases").status_code == 404
    assert other.get(case_url(case_id)).status_code == 404


def test_file_of_another_case_under_a_granted_case_gives_404(portal, client):
    portal.account(GRANTED)
    file_complaint(client, text="first case", files=[("one.txt", b"first file")])
    file_complaint(client, text="second case", files=[("two.txt", b"second file")])
    with portal.db as db:
        stored = {f.case_id: f.id for f in db.scalars(select(StoredFile))}
    (first_case, first_file), (second_case, second_file) = stored.items()
    staff = staff_client(portal, GRANTED)
    # Both cases are granted, so each file opens under its own case ...
    assert staff.get(file_url(first_case, first_file)).status_code == 200
    assert staff.get(file_url(second_case, second_file)).status_code == 200
    # ... and never under the other one.
    crossed = staff.get(file_url(first_case, second_file))
    assert crossed.status_code == 404
    assert b"second file" not in crossed.data
    assert b"first file" not in crossed.data


def test_sign_out_deletes_the_session_row_and_the_old_cookie_stops_working(portal, filed_case):
    staff = staff_client(portal, GRANTED)
    old_cookie = staff.get_cookie("staff").value
    token = base64.urlsafe_b64decode(old_cookie)
    with portal.db as db:
        assert db.get(StaffSession, crypto.session_lookup_id(token)) is not None

    sign_out_token = csrf_token(staff, "/caseworker/cases")
    response = staff.post("/sign-out", data={"csrf_token": sign_out_token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"

    with portal.db as db:
        assert db.get(StaffSession, crypto.session_lookup_id(token)) is None
    assert count(portal, StaffSession) == 0
    replay = portal.app.test_client()
    replay.set_cookie("staff", old_cookie)
    again = replay.get("/caseworker/cases")
    assert again.status_code == 302
    assert again.headers["Location"] == "/sign-in"


def test_sign_out_without_its_csrf_token_keeps_the_session_row(portal, filed_case):
    staff = staff_client(portal, GRANTED)
    response = staff.post("/sign-out", data={})
    assert response.status_code == 400
    assert count(portal, StaffSession) == 1


def _failed_sign_in(portal, email: str, password: str):  # type: ignore[no-untyped-def]
    client = portal.app.test_client()
    token = csrf_token(client, "/sign-in")
    return client.post("/sign-in", data={"csrf_token": token, "email": email, "password": password})


def test_wrong_password_and_unknown_email_get_the_same_answer(portal):
    portal.account(GRANTED)
    wrong_password = _failed_sign_in(portal, GRANTED, PASSWORD + "!")
    unknown_email = _failed_sign_in(portal, "nobody@example.org", PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 400
    first = ERROR_SUMMARY.search(wrong_password.get_data(as_text=True))
    second = ERROR_SUMMARY.search(unknown_email.get_data(as_text=True))
    assert first and second
    assert first.group(1) == second.group(1)
    assert "The email or the password is not right." in first.group(1)
    assert "staff" not in (wrong_password.headers.get("Set-Cookie") or "")
    assert count(portal, StaffSession) == 0
    sign_in(portal.app.test_client(), GRANTED)  # the right password still works
    assert count(portal, StaffSession) == 1
