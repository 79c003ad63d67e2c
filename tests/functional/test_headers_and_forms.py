"""Security headers on every page, CSRF on every form, accessible form errors, receipt entry,
request size limits, and uploads that leave nothing behind in ``incoming``."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re

import pytest
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import EnvironBuilder

from portal import create_app
from portal.models import Case, StaffSession, StoredFile
from portal.setup import initialise, is_initialised
from tests.conftest import PASSWORD, csrf_token, sign_in
from tests.functional.helpers import case_url, count, files_under, only_case_id
from tests.functional.test_slice import file_complaint

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
    client.get("/report")
    data = {
        "what_happened": "no token",
        "country": "",
        "attachments": [(io.BytesIO(b"x" * 100_000), "photo.jpg")],
    }
    response = client.post("/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert 'id="receipt"' not in response.get_data(as_text=True)
    assert count(portal, Case) == 0
    assert files_under(portal.data_dir.incoming) == []
    assert files_under(portal.data_dir.files) == []


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
    token = csrf_token(client, "/report")
    data = {
        "csrf_token": token,
        "what_happened": "",
        "where": "Kept-where Mine road",
        "when": "Kept-when last Tuesday",
        "company": "Kept-company Shield Ltd",
        "country": "CD",
    }
    response = client.post("/report", data=data)
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
    assert follow_up(client, receipt).status_code == 200


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
    assert response.status_code == 200
    assert "Nobody has read it yet" in response.get_data(as_text=True)


# Sizes and uploads


@pytest.fixture
def small_portal(portal):  # type: ignore[no-untyped-def]
    """The same data dir and database, served with a 64 KiB request limit."""
    settings = dataclasses.replace(
        portal.settings, max_request_bytes=64 * 1024, max_file_bytes=32 * 1024
    )
    app = create_app(settings)
    with Session(app.extensions["portal_db"].engine) as db:
        if not is_initialised(db):
            initialise(db, app.extensions["portal_keyring"], settings)
            db.commit()
    yield app
    app.extensions["portal_db"].dispose()


def post_with_file(client, content: bytes):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/report")
    data = {
        "csrf_token": token,
        "what_happened": "a report with a file",
        "country": "",
        "attachments": [(io.BytesIO(content), "big.jpg")],
    }
    return client.post("/report", data=data, content_type="multipart/form-data")


def chunked(client, form_page: str, content: bytes) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The environ of a report upload streamed without Content-Length (chunked)."""
    token = csrf_token(client, form_page)
    data = {
        "csrf_token": token,
        "what_happened": "streamed",
        "country": "",
        "attachments": [(io.BytesIO(content), "big.jpg")],
    }
    builder = EnvironBuilder(
        path="/report", method="POST", data=data, content_type="multipart/form-data"
    )
    environ = builder.get_environ()
    body = environ["wsgi.input"].read()
    del environ["CONTENT_LENGTH"]
    environ.update(
        {
            "wsgi.input": io.BytesIO(body),
            "wsgi.input_terminated": True,  # a server that de-chunks for us
            "HTTP_COOKIE": f"form={client.get_cookie('form').value}",
        }
    )
    return environ


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_request_over_the_limit_leaves_no_upload_and_no_case(portal, small_portal, framing):
    client = small_portal.test_client()
    small_portal.config["PROPAGATE_EXCEPTIONS"] = False
    content = b"x" * (200 * 1024)
    # The 413 itself escapes the app (see the xfail test below); what is stored must not change.
    with contextlib.suppress(RequestEntityTooLarge):
        if framing == "chunked":
            client.open(chunked(client, "/report", content))
        else:
            post_with_file(client, content)
    assert count(portal, Case) == 0
    assert files_under(portal.data_dir.incoming) == []
    assert files_under(portal.data_dir.files) == []


TOO_LARGE_ESCAPES = (
    "Content-Length over max_request_bytes: portal/app.py _http_error calls gettext, whose "
    "locale selector (portal/i18n.py:30) reads request.values, which re-checks the body and "
    "raises RequestEntityTooLarge inside the error handler; it escapes Flask.wsgi_app"
)


@pytest.mark.xfail(strict=True, raises=RequestEntityTooLarge, reason=TOO_LARGE_ESCAPES)
def test_request_over_the_limit_is_answered_with_a_413_page(small_portal):
    small_portal.config["PROPAGATE_EXCEPTIONS"] = False  # as served in production
    client = small_portal.test_client()
    response = post_with_file(client, b"x" * (200 * 1024))
    assert response.status_code == 413
    assert "What you sent is too large." in response.get_data(as_text=True)
    assert "no-store" in response.headers["Cache-Control"]


def test_text_answer_over_the_form_memory_limit_is_answered_with_a_413_page(portal, client):
    portal.app.config["PROPAGATE_EXCEPTIONS"] = False
    token = csrf_token(client, "/report")
    huge = "y" * (4 * portal.settings.max_text_chars + 4096)
    data = {"csrf_token": token, "what_happened": huge, "country": ""}
    response = client.post("/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "What you sent is too large." in response.get_data(as_text=True)
    assert "no-store" in response.headers["Cache-Control"]
    assert count(portal, Case) == 0


def test_file_over_the_file_limit_is_refused_and_its_upload_deleted(portal, small_portal):
    client = small_portal.test_client()
    response = post_with_file(client, b"x" * (48 * 1024))
    assert response.status_code == 400
    assert "A file is too large." in response.get_data(as_text=True)
    assert count(portal, Case) == 0
    assert files_under(portal.data_dir.incoming) == []
    assert files_under(portal.data_dir.files) == []
    assert post_with_file(client, b"x" * (16 * 1024)).status_code == 200  # under both limits


def test_stored_upload_leaves_incoming_empty_and_lives_encrypted_in_files(portal, client):
    content = b"Plain-canary attachment " * 40_000  # about 1 MiB: spooled, not in memory
    file_complaint(client, files=[("statement.txt", content)])
    (stored_path,) = files_under(portal.data_dir.files)
    with portal.db as db:
        (stored,) = db.query(StoredFile).all()
    assert files_under(portal.data_dir.incoming) == []
    assert stored_path.name == stored.id.hex
    assert stored_path.stat().st_size == stored.stored_bytes >= len(content)
    assert b"Plain-canary" not in stored_path.read_bytes()
