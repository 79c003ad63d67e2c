"""One complaint from the public form to a caseworker, through the Flask test client."""

from __future__ import annotations

import os
import re

from tests.conftest import csrf_token, sign_in
from tests.support.filing import file_complaint

CASE_LINK = re.compile(r'href="(/caseworker/cases/[0-9a-f-]{36})"')
FILE_LINK = re.compile(r'href="(/caseworker/cases/[0-9a-f-]{36}/files/[0-9a-f-]{36})"')


def test_complaint_reaches_the_caseworker_with_its_attachment(portal, client):
    portal.account("cw@example.org")
    photo = os.urandom(700_000)
    receipt = file_complaint(client, files=[("gate photo.jpg", photo)])
    assert re.fullmatch(r"\d{4}( \d{4}){4}", receipt)

    staff = portal.app.test_client()
    sign_in(staff, "cw@example.org")
    listing = staff.get("/caseworker/cases").get_data(as_text=True)
    case_path = CASE_LINK.search(listing).group(1)
    page = staff.get(case_path)
    body = page.get_data(as_text=True)
    assert "They beat him at the gate" in body
    assert "Acme Guards" in body and "North gate" in body
    assert "gate photo.jpg" in body
    assert page.headers["Cache-Control"].startswith("no-store")
    download = staff.get(FILE_LINK.search(body).group(1))
    assert download.status_code == 200
    assert download.data == photo
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment;")


def test_follow_up_shows_the_stage(portal, client):
    receipt = file_complaint(client)
    token = csrf_token(client, "/follow-up")
    page = client.post("/follow-up", data={"csrf_token": token, "receipt": receipt})
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/follow-up/case")
    case_page = client.get(page.headers["Location"])
    assert "Nobody has read it yet" in case_page.get_data(as_text=True)
