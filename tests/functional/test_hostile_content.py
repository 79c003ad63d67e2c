"""A complaint is also an attack channel: whatever a reporter sends is shown as inert text."""

from __future__ import annotations

import re

import pytest

from caseworker.common import content_disposition
from tests.conftest import sign_in
from tests.functional.test_slice import CASE_LINK, FILE_LINK
from tests.support.filing import file_complaint

PAYLOAD = '<script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:x">y</a>'


def test_markup_in_answers_and_file_names_is_escaped_for_the_caseworker(portal, client):
    portal.account("cw@example.org")
    file_complaint(client, text=PAYLOAD, files=[("<svg onload=alert(3)>.png", b"\x89PNG")])
    staff = portal.app.test_client()
    sign_in(staff, "cw@example.org")
    case_path = CASE_LINK.search(staff.get("/caseworker/cases").get_data(as_text=True)).group(1)
    page = staff.get(case_path).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page
    assert "<img" not in page and "<svg" not in page
    assert "&lt;svg onload=alert(3)&gt;.png" in page
    assert 'href="javascript:' not in page
    download = staff.get(FILE_LINK.search(page).group(1))
    assert download.headers["Content-Type"] == "image/png" or download.headers[
        "Content-Type"
    ].startswith("application/octet-stream")
    assert "sandbox" in download.headers["Content-Security-Policy"]


def test_an_html_upload_is_never_served_as_html(portal, client):
    portal.account("cw@example.org")
    file_complaint(client, files=[("page.html", b"<html><script>alert(1)</script></html>")])
    staff = portal.app.test_client()
    sign_in(staff, "cw@example.org")
    case_path = CASE_LINK.search(staff.get("/caseworker/cases").get_data(as_text=True)).group(1)
    download = staff.get(FILE_LINK.search(staff.get(case_path).get_data(as_text=True)).group(1))
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "name",
    ['a"b.jpg', "evil\r\nSet-Cookie: x=1.jpg", "фото;.jpg", "..\\..\\boot.ini", "\u202egpj.exe"],
)
def test_attachment_header_cannot_be_broken_by_the_file_name(name):
    header = content_disposition(name)
    assert "\r" not in header and "\n" not in header
    fallback = re.match(r'attachment; filename="([^"]*)"; filename\*=UTF-8\'\'(\S+)$', header)
    assert fallback, header
    assert ";" not in fallback.group(1) and "\\" not in fallback.group(1)
