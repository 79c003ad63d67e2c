"""Every staff URL and every staff POST, against every kind of visitor who must not get in.

No session: a redirect to sign-in. An account of another role, or a caseworker without a
grant on the case: 404 (or 400 for a malformed POST), never the case's data.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from portal.models import Company, Referral, Role, StoredFile
from tests.conftest import csrf_token, sign_in
from tests.functional.helpers import only_case_id
from tests.support.filing import file_complaint

CANARY = "Matrix-canary: guards shot at the fishermen"


def _staff_rules(app):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/caseworker", "/company", "/intermediary")):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield rule, method


def _url(rule, case_id, file_id, referral_id=None) -> str:  # type: ignore[no-untyped-def]
    values = {}
    for name in rule.arguments:
        values[name] = {
            "case_id": case_id,
            "file_id": file_id,
            "referral_id": referral_id or uuid.uuid4(),
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
    """A case with an attachment, referred (with the canary) to Shield Ltd's mechanism."""
    with portal.db as db:
        shield = Company(id=uuid.uuid4(), name="Shield Ltd")
        db.add(shield)
        db.commit()
    portal.account("holder@example.org")
    portal.account("officer@shield.example", Role.COMPANY, company="Shield Ltd")
    file_complaint(
        client,
        text=CANARY,
        files=[("photo.jpg", b"\xff\xd8 matrix")],
        answers={"what": {"company": str(shield.id), "company_other": ""}},
    )
    case_id = only_case_id(portal)
    with portal.db as db:
        file_id = db.scalar(select(StoredFile.id))
    holder = portal.app.test_client()
    sign_in(holder, "holder@example.org")
    refer = f"/caseworker/cases/{case_id}/refer"
    token = csrf_token(holder, refer)
    holder.post(
        f"/caseworker/cases/{case_id}/consent",
        data={"csrf_token": token, "recipient": "company", "scope": "account"},
    )
    started = holder.post(refer, data={"csrf_token": token, "company": str(shield.id)})
    referral_url = started.headers["Location"]
    sent = holder.post(
        referral_url + "/compose",
        data={
            "csrf_token": token,
            "answer": "what_happened",
            "question-what_happened": "What happened",
            "text-what_happened": CANARY,
        },
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    with portal.db as db:
        referral_id = db.scalar(select(Referral.id))
    # The case's own officer reads it: the referral is real and reachable by the right account.
    officer = portal.app.test_client()
    sign_in(officer, "officer@shield.example")
    assert CANARY in officer.get(f"/company/referrals/{referral_id}").get_data(as_text=True)
    return case_id, file_id, referral_id


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
    """Another company's officer included: nothing of Shield Ltd's referral reaches it."""
    case_id, file_id, referral_id = filed
    for email, role, intake in OUTSIDERS:
        portal.account(email, role, intake=intake)
    checked = 0
    for name in ("no session", *(email for email, _role, _intake in OUTSIDERS)):
        visitor = _visitor(portal, name)
        token = csrf_token(visitor, "/report")  # a valid token: CSRF is not what stops it
        for rule, method in _staff_rules(portal.app):
            if name != "no session" and _ends_own_session(rule):
                continue
            url = _url(rule, case_id, file_id, referral_id)
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
            elif rule.rule.startswith("/intermediary"):
                # Only intermediaries reach these; this case is no organisation's.
                allowed = (
                    (200, 302, 400, 404)
                    if name == "cso@example.org" and "<uuid:case_id>" not in rule.rule
                    else (400, 404)
                )
                assert response.status_code in allowed, (name, method, url, response.status_code)
            elif rule.rule == "/company/":
                # Only company officers have a referral list; this one's is empty.
                expected = (200,) if name == "company@example.org" else (404,)
                assert response.status_code in expected, (name, url, response.status_code)
                assert 'href="/company/referrals/' not in body
            elif rule.rule.startswith(
                (
                    "/caseworker/cases",
                    "/caseworker/admin",
                    "/caseworker/record",
                    "/caseworker/statistics",
                    "/company/",
                )
            ):
                assert response.status_code in (400, 404), (name, method, url, response.status_code)
            else:  # the visitor's own account pages (password, sign out everywhere)
                assert response.status_code in (200, 302, 400, 404), (name, method, url)
            checked += 1
    assert checked > 30


def test_every_staff_post_refuses_a_missing_csrf_token(portal, filed):
    case_id, file_id, referral_id = filed
    staff = portal.app.test_client()
    sign_in(staff, "holder@example.org")
    for rule, method in _staff_rules(portal.app):
        if method != "POST":
            continue
        if rule.rule.startswith(("/company/", "/intermediary")):
            continue  # below, as the officer or intermediary who may use them
        response = staff.post(_url(rule, case_id, file_id), data={"account": str(uuid.uuid4())})
        assert response.status_code == 400, (rule.rule, response.status_code)
    portal.account("cso@example.org", Role.INTERMEDIARY)
    intermediary = portal.app.test_client()
    sign_in(intermediary, "cso@example.org")
    for rule, method in _staff_rules(portal.app):
        if method == "POST" and rule.rule.startswith("/intermediary"):
            response = intermediary.post(_url(rule, case_id, file_id), data={"message": "x"})
            assert response.status_code in (400, 404), (rule.rule, response.status_code)
    officer = portal.app.test_client()
    sign_in(officer, "officer@shield.example")
    for rule, method in _staff_rules(portal.app):
        if method == "POST" and rule.rule.startswith("/company/"):
            response = officer.post(_url(rule, case_id, file_id, referral_id), data={})
            assert response.status_code in (400, 404), (rule.rule, response.status_code)
