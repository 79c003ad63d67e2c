"""Every staff URL and every staff POST, against every kind of visitor who must not get in.

No session: a redirect to sign-in. An account of another role, or a caseworker without a
grant on the case: 404 (or 400 for a malformed POST), never the case's data.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from portal.models import Role, StoredFile
from tests.conftest import csrf_token, sign_in
from tests.functional.helpers import only_case_id
from tests.support.filing import file_complaint

CANARY = "Matrix-canary: guards shot at the fishermen"


def _staff_rules(app):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/caseworker"):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield rule, method


def _url(rule, case_id, file_id) -> str:  # type: ignore[no-untyped-def]
    values = {}
    for name in rule.arguments:
        values[name] = {
            "case_id": case_id,
            "file_id": file_id,
            "request_id": uuid.uuid4(),
            "action": "grant",
            "decision": "grant",
            "name": "acknowledgement",
            "language": "en",
        }.get(name, uuid.uuid4() if name.endswith("_id") else "x")
    path = rule.rule
    for name, value in values.items():
        path = path.replace(f"<{name}>", str(value))
        for converter in ("uuid", "any(grant, assign, revoke)", "any(grant, refuse)"):
            path = path.replace(f"<{converter}:{name}>", str(value))
    return path


@pytest.fixture
def filed(portal, client):  # type: ignore[no-untyped-def]
    portal.account("holder@example.org")
    file_complaint(client, text=CANARY, files=[("photo.jpg", b"\xff\xd8 matrix")])
    case_id = only_case_id(portal)
    with portal.db as db:
        file_id = db.scalar(select(StoredFile.id))
    return case_id, file_id


OUTSIDERS = (
    ("nogrant@example.org", Role.CASEWORKER, False),
    ("company@example.org", Role.COMPANY, False),
    ("cso@example.org", Role.INTERMEDIARY, False),
)


def _visitor(portal, name: str):  # type: ignore[no-untyped-def]
    client = portal.app.test_client()
    if name != "no session":
        sign_in(client, name)
    return client


def _ends_own_session(rule) -> bool:  # type: ignore[no-untyped-def]
    """The visitor's own sign-out or password change: it may, and it ends its own session."""
    return "sign-out" in rule.rule or "password" in rule.rule


def test_no_staff_url_gives_anything_away(portal, filed):
    case_id, file_id = filed
    for email, role, intake in OUTSIDERS:
        portal.account(email, role, intake=intake)
    checked = 0
    for name in ("no session", *(email for email, _role, _intake in OUTSIDERS)):
        visitor = _visitor(portal, name)
        token = csrf_token(visitor, "/report")  # a valid token: CSRF is not what stops it
        for rule, method in _staff_rules(portal.app):
            if name != "no session" and _ends_own_session(rule):
                continue
            url = _url(rule, case_id, file_id)
            if method == "GET":
                response = visitor.get(url)
            else:
                response = visitor.post(
                    url, data={"csrf_token": token, "account": str(uuid.uuid4())}
                )
            body = response.get_data(as_text=True)
            assert CANARY not in body, (name, method, url)
            assert b"matrix" not in response.data or response.status_code != 200, (name, url)
            if name == "no session":
                assert response.status_code == 302, (name, method, url, response.status_code)
                assert "/sign-in" in response.headers["Location"]
            elif name == "nogrant@example.org":
                on_case = "<uuid:case_id>" in rule.rule
                if on_case:
                    assert response.status_code in (400, 404), (
                        name,
                        method,
                        url,
                        response.headers.get("Location"),
                    )
                else:
                    assert response.status_code in (200, 302, 400, 404), (name, method, url)
            elif rule.rule.startswith(
                ("/caseworker/cases", "/caseworker/admin", "/caseworker/record")
            ):
                assert response.status_code in (400, 404), (name, method, url, response.status_code)
            else:  # the visitor's own account pages (password, sign out everywhere)
                assert response.status_code in (200, 302, 400, 404), (name, method, url)
            checked += 1
    assert checked > 30


def test_every_staff_post_refuses_a_missing_csrf_token(portal, filed):
    case_id, file_id = filed
    staff = portal.app.test_client()
    sign_in(staff, "holder@example.org")
    for rule, method in _staff_rules(portal.app):
        if method != "POST":
            continue
        response = staff.post(_url(rule, case_id, file_id), data={"account": str(uuid.uuid4())})
        assert response.status_code == 400, (rule.rule, response.status_code)
