"""A person files a complaint with a photo, JavaScript off, and a caseworker reads it back."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def test_complaint_with_a_photo_reaches_the_caseworker(portal, live_server, no_js_page, tmp_path):
    portal.account("reader@example.org")
    page = no_js_page
    photo = os.urandom(300_000)

    page.goto(live_server + "/")
    assert page.locator("script").count() == 0
    page.get_by_role("link", name="Make a complaint").click()
    page.get_by_label("What happened?").fill("Guards fired at the crowd near the river.")
    page.get_by_label("Where did it happen?").fill("River crossing by the camp")
    page.get_by_label("When did it happen?").fill("Last Friday")
    page.get_by_label("In which country?").select_option("NG")
    page.get_by_label("Which security company?").fill("Delta Shield")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "river.jpg", "mimeType": "image/jpeg", "buffer": photo}],
    )
    page.get_by_role("button", name="Send my complaint").click()

    receipt = page.locator("#receipt").inner_text().strip()
    assert re.fullmatch(r"\d{4}( \d{4}){4}", receipt)

    page.goto(live_server + "/sign-in")
    page.get_by_label("Email").fill("reader@example.org")
    page.get_by_label("Password").fill("correct horse battery staple 42")
    page.get_by_role("button", name="Sign in").click()
    page.locator("table.cases a").first.click()
    body = page.locator("main").inner_text()
    assert "Guards fired at the crowd near the river." in body
    assert "River crossing by the camp" in body and "Delta Shield" in body
    with page.expect_download() as download_info:
        page.get_by_role("link", name="river.jpg").click()
    download = download_info.value
    assert download.suggested_filename == "river.jpg"
    assert Path(download.path()).read_bytes() == photo


def test_a_missing_answer_keeps_what_was_typed(portal, live_server, no_js_page):
    page = no_js_page
    page.goto(live_server + "/report")
    page.get_by_label("Where did it happen?").fill("Market square")
    page.get_by_role("button", name="Send my complaint").click()
    assert page.title().startswith("Error:")
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("Where did it happen?").input_value() == "Market square"
