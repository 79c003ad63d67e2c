"""Request size limits, and uploads that leave nothing behind in ``incoming``."""

from __future__ import annotations

import dataclasses
import io

import pytest
from sqlalchemy.orm import Session
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from portal import create_app
from portal.models import Case, StoredFile
from portal.setup import is_initialised
from tests.conftest import csrf_token
from tests.functional.helpers import count, files_under
from tests.support.filing import answer, begin, file_complaint


@pytest.fixture
def small_portal(portal):  # type: ignore[no-untyped-def]
    """The same data dir and database, served with a 256 KiB request and 128 KiB file limit.

    The ``portal`` fixture has already run ``initialise`` on this database."""
    settings = dataclasses.replace(
        portal.settings, max_request_bytes=256 * 1024, max_upload_bytes=128 * 1024
    )
    app = create_app(settings)
    with Session(app.extensions["portal_db"].engine) as db:
        assert is_initialised(db)
    yield app
    app.extensions["portal_db"].dispose()


KEPT = "Kept-answer: guards at the river camp"


def post_with_file(client, content: bytes):  # type: ignore[no-untyped-def]
    """Answer the first steps (once), then add one file on the evidence step."""
    if client.get_cookie("draft") is None:
        begin(client)
        assert answer(client, "what", {"what_happened": KEPT}).status_code == 302
    token = csrf_token(client, "/report/evidence")
    data = {
        "csrf_token": token,
        "action": "add",
        "attachments": [(io.BytesIO(content), "big.jpg")],
    }
    return client.post("/report/evidence", data=data, content_type="multipart/form-data")


def chunked(client, form_page: str, content: bytes) -> Request:  # type: ignore[no-untyped-def]
    """An evidence upload streamed without Content-Length, as a chunked request arrives."""
    if client.get_cookie("draft") is None:
        begin(client)
        assert answer(client, "what", {"what_happened": KEPT}).status_code == 302
    token = csrf_token(client, form_page)
    data = {
        "csrf_token": token,
        "action": "add",
        "attachments": [(io.BytesIO(content), "big.jpg")],
    }
    builder = EnvironBuilder(
        path=form_page, method="POST", data=data, content_type="multipart/form-data"
    )
    environ = builder.get_environ()
    body = environ["wsgi.input"].read()
    del environ["CONTENT_LENGTH"]
    environ.update(
        {
            "wsgi.input": io.BytesIO(body),
            "wsgi.input_terminated": True,  # a server that de-chunks for us
        }
    )
    return Request(environ)  # passed as is: a dict would get its Content-Length back


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_request_over_the_limit_leaves_no_upload_and_no_case(portal, small_portal, framing):
    client = small_portal.test_client()
    small_portal.config["PROPAGATE_EXCEPTIONS"] = False
    content = b"x" * (600 * 1024)  # the parser has started an upload when the limit hits
    if framing == "chunked":
        response = client.open(chunked(client, "/report/evidence", content))
    else:
        response = post_with_file(client, content)
    assert response.status_code == 413
    assert count(portal, Case) == 0
    assert files_under(portal.data_dir.incoming) == []
    assert files_under(portal.data_dir.files) == []


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_request_over_the_limit_is_answered_with_a_413_page(small_portal, framing):
    small_portal.config["PROPAGATE_EXCEPTIONS"] = False  # as served in production
    client = small_portal.test_client()
    content = b"x" * (600 * 1024)
    if framing == "chunked":
        response = client.open(chunked(client, "/report/evidence", content))
    else:
        response = post_with_file(client, content)
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "These files are too large together." in body
    assert 'role="alert"' in body
    assert "no-store" in response.headers["Cache-Control"]


def test_an_upload_over_the_limit_keeps_every_answer_already_given(small_portal):
    client = small_portal.test_client()
    assert post_with_file(client, b"x" * (600 * 1024)).status_code == 413
    check = client.get("/report/check").get_data(as_text=True)
    assert KEPT in check


def test_text_answer_over_the_form_memory_limit_is_answered_with_a_413_page(portal, client):
    portal.app.config["PROPAGATE_EXCEPTIONS"] = False
    begin(client)
    token = csrf_token(client, "/report/what")
    huge = "y" * (4 * portal.settings.max_text_chars + 4096)
    data = {"csrf_token": token, "what_happened": huge, "country": ""}
    response = client.post("/report/what", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "What you sent is too large." in response.get_data(as_text=True)
    assert "no-store" in response.headers["Cache-Control"]
    assert count(portal, Case) == 0


def test_file_over_the_file_limit_is_refused_and_its_upload_deleted(portal, small_portal):
    client = small_portal.test_client()
    response = post_with_file(client, b"x" * (192 * 1024))
    assert response.status_code == 400
    assert "These files are too large together." in response.get_data(as_text=True)
    assert count(portal, Case) == 0
    assert files_under(portal.data_dir.incoming) == []
    assert files_under(portal.data_dir.files) == []
    assert post_with_file(client, b"x" * (64 * 1024)).status_code == 302  # under both limits
    (staged,) = files_under(portal.data_dir.incoming)  # kept, encrypted, for the draft
    assert staged.name.endswith(".staged")


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
