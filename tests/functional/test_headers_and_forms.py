"""Security headers on every page, CSRF on every form, accessible form errors, receipt entry.

Request size limits and uploads are in test_uploads_and_limits.py."""

from __future__ import annotations

import io
import re

import pytest

from portal.models import Case, Draft, StaffSession
from tests.conftest import PASSWORD, csrf_token, sign_in
from tests.functional.helpers import case_url, count, files_under, only_case_id
from tests.support.filing import answer, begin, file_complaint

CASEWORKER = "cw@example.org"
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.I | re.S)
EASTERN_ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name.lower()] = values
    return directives


@pytest.fixture
def pages(portal, client):  # type: ignore[no-untyped-def]
    """Every kind of page, as (name, response): public, error and signed-in staff pages."""
    portal.account(CASEWORKER)
    file_complaint(client)
    staff = portal.app.test_client()
    sign_in(staff, CASEWORKER)
    visitor = portal.app.test_client()
    return [
        ("home", visitor.get("/")),
        ("report", visitor.get("/report")),
        ("follow-up", visitor.get("/follow-up")),
        ("sign-in", visitor.get("/sign-in")),
        ("not found", visitor.get("/no/such/page")),
        ("case list", staff.get("/caseworker/cases")),
        ("case page", staff.get(case_url(only_case_id(portal)))),
    ]


def test_every_page_has_the_expected_status(pages):
    statuses = {name: response.status_code for name, response in pages}
    assert statuses == {
        "home": 200,
        "report": 200,
        "follow-up": 200,
        "sign-in": 200,
        "not found": 404,
        "case list": 200,
        "case page": 200,
    }


def test_every_page_has_a_strict_content_security_policy(pages):
    for name, response in pages:
        header = response.headers.get("Content-Security-Policy")
        assert header, name
        assert "'unsafe-inline'" not in header, name
        assert "'unsafe-eval'" not in header, name
        directives = csp_directives(header)
        scripts = directives.get("script-src", directives.get("default-src"))
        assert scripts is not None, name
        assert "*" not in scripts, name
        assert directives.get("frame-ancestors") == ["'none'"], name


def test_every_page_sends_the_other_protective_headers(pages):
    for name, response in pages:
        headers = response.headers
        assert headers.get("Referrer-Policy") == "no-referrer", name
        assert headers.get("X-Frame-Options") == "DENY", name
        assert headers.get("X-Content-Type-Options") == "nosniff", name
        assert "no-store" in headers.get("Cache-Control", ""), name


def test_no_page_has_inline_script(pages):
    for name, response in pages:
        body = response.get_data(as_text=True)
        assert body.count("<script") == len(SCRIPT.findall(body)), name
        for attributes, content in SCRIPT.findall(body):
            assert "src=" in attributes, name
            assert content.strip() == "", name
        assert not re.search(r"\son[a-z]+\s*=", body, re.I), f"event handler attribute in {name}"


def test_home_page_sets_no_cookie(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


# CSRF


def test_report_without_csrf_token_is_refused_and_stores_nothing(portal, client):
    begin(client)
    data = {"attachments": [(io.BytesIO(b"x" * 100_000), "photo.jpg")], "action": "add"}
    response = client.post("/report/evidence", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    response = client.post("/report/send", data={})
    assert response.status_code == 400
    assert 'id="receipt"' not in response.get_data(as_text=True)
    assert count(portal, Case) == 0
    assert files_under(portal.data_dir.incoming) == []
    assert files_under(portal.data_dir.files) == []


def test_starting_a_report_without_csrf_token_makes_no_draft(portal, client):
    client.get("/report")
    assert client.post("/report", data={}).status_code == 400
    assert count(portal, Draft) == 0


def test_follow_up_without_csrf_token_is_refused(portal, client):
    receipt = file_complaint(client)
    response = client.post("/follow-up", data={"receipt": receipt})
    assert response.status_code == 400
    assert "Nobody has read it yet" not in response.get_data(as_text=True)


def test_sign_in_without_csrf_token_is_refused_and_starts_no_session(portal, client):
    portal.account(CASEWORKER)
    client.get("/sign-in")
    response = client.post("/sign-in", data={"email": CASEWORKER, "password": PASSWORD})
    assert response.status_code == 400
    assert count(portal, StaffSession) == 0
    assert client.get_cookie("staff") is None


# Form errors and receipt entry


def test_report_without_what_happened_shows_an_accessible_error_and_keeps_the_answers(
    portal, client
):
    begin(client)
    data = {
        "what_happened": "",
        "place": "Kept-where Mine road",
        "when_text": "Kept-when last Tuesday",
        "company": "other",
        "company_other": "Kept-company Shield Ltd",
        "country": "CD",
    }
    response = answer(client, "what", data)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'class="error-summary" role="alert"', body)
    assert "Tell us what happened." in body
    assert re.search(r"<title>\s*Error:", body)
    for value in ("Kept-where Mine road", "Kept-when last Tuesday", "Kept-company Shield Ltd"):
        assert f'value="{value}"' in body
    assert re.search(r'<option selected value="CD">|<option value="CD" selected', body)
    assert count(portal, Case) == 0


def follow_up(client, receipt_text: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/follow-up")
    return client.post("/follow-up", data={"csrf_token": token, "receipt": receipt_text})


def test_receipt_with_a_wrong_check_digit_is_not_a_receipt_number(client):
    receipt = file_complaint(client)
    wrong = receipt[:-1] + str((int(receipt[-1]) + 1) % 10)
    response = follow_up(client, wrong)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This is not a receipt number." in body
    assert "Nobody has read it yet" not in body
    assert follow_up(client, receipt).status_code == 302


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param(lambda r: r.translate(EASTERN_ARABIC), id="eastern-arabic-digits"),
        pytest.param(lambda r: r.replace(" ", "-"), id="dashes"),
        pytest.param(lambda r: r.replace(" ", ""), id="no-spaces"),
    ],
)
def test_receipt_entry_accepts_other_spellings_of_the_same_number(client, spelling):
    receipt = file_complaint(client)
    typed = spelling(receipt)
    assert typed != receipt
    response = follow_up(client, typed)
    assert response.status_code == 302
    case_page = client.get(response.headers["Location"])
    assert "Nobody has read it yet" in case_page.get_data(as_text=True)


@pytest.fixture
def every_get_route(portal, client):  # type: ignore[no-untyped-def]
    """Every GET route of the app, visited by who may use it (public visitor, caseworker
    holding the case, admin, company officer), with real ids where a route takes one."""
    from portal.models import Company, Role, StoredFile

    with portal.db as db:
        db.add(Company(name="Header Guards"))
        db.commit()
    portal.account(CASEWORKER)
    portal.account("admin@example.org", Role.ADMIN)
    portal.account("officer@example.org", Role.COMPANY, company="Header Guards")
    file_complaint(client, files=[("photo.jpg", b"\xff\xd8 header test")])
    case_id = only_case_id(portal)
    with portal.db as db:
        from sqlalchemy import select

        file_id = db.scalar(select(StoredFile.id))
    clients = {}
    for name, email in (
        ("caseworker", CASEWORKER),
        ("admin", "admin@example.org"),
        ("company", "officer@example.org"),
    ):
        clients[name] = portal.app.test_client()
        sign_in(clients[name], email)
    clients["public"] = portal.app.test_client()
    values = {
        "case_id": case_id,
        "file_id": file_id,
        "step": "who",
        "name": "acknowledgement",
        "language": "en",
        "filename": "portal.css",
    }
    visited = []
    for rule in portal.app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        path = rule.rule
        for argument in rule.arguments:
            value = values.get(argument, "00000000-0000-0000-0000-000000000000")
            path = re.sub(rf"<(?:[^:>]+:)?{argument}>", str(value), path)
        if path.startswith("/company"):
            who = "company"
        elif path.startswith(("/caseworker/admin", "/caseworker/statistics")):
            who = "admin"
        elif path.startswith("/caseworker"):
            who = "caseworker"
        else:
            who = "public"
        visited.append((f"{who} {path}", clients[who].get(path)))
    assert len(visited) > 30
    return visited


def test_every_route_sends_the_security_headers_whatever_its_answer(every_get_route):
    statuses = {}
    for name, response in every_get_route:
        statuses[name] = response.status_code
        headers = response.headers
        csp = headers.get("Content-Security-Policy", "")
        assert "default-src 'none'" in csp, name
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, name
        assert headers.get("Referrer-Policy") == "no-referrer", name
        assert headers.get("X-Content-Type-Options") == "nosniff", name
        assert headers.get("X-Frame-Options") == "DENY", name
        if not name.startswith("public /assets/"):
            assert "no-store" in headers.get("Cache-Control", ""), name
    # Most of them really served their page to the account that may use it.
    assert sum(status == 200 for status in statuses.values()) > len(statuses) // 2, statuses
