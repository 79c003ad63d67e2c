"""A person files a complaint with a photo, JavaScript off, and a caseworker reads it back."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser.walk import file_through_the_browser
from tests.conftest import PASSWORD, next_totp_code

pytestmark = pytest.mark.browser


def sign_in_and_open_first_case(page, base: str, portal, email: str) -> str:  # type: ignore[no-untyped-def]
    page.goto(base + "/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    assert page.locator("h1").inner_text() == "Enter your code"
    page.fill("input[name=code]", next_totp_code(portal.app, email))
    page.locator("main form[action$='/second-factor'] button[type=submit]").click()
    page.locator("table.cases a").first.click()
    return page.locator("main").inner_text()


def test_complaint_with_a_photo_reaches_the_caseworker(portal, live_server, no_js):
    portal.account("reader@example.org")
    page = no_js.page
    photo = os.urandom(300_000)
    receipt = file_through_the_browser(
        page,
        live_server,
        "en",
        files=[{"name": "river.jpg", "mimeType": "image/jpeg", "buffer": photo}],
    )
    assert re.fullmatch(r"\d{4}( \d{4}){4}", receipt)
    assert page.locator("script:not([src])").count() == 0
    page.check("#written_down")
    page.locator("form[action*='/report/finish'] button").click()
    assert page.locator("h1").inner_text() == "Thank you"

    body = sign_in_and_open_first_case(page, live_server, portal, "reader@example.org")
    assert "Guards fired at the crowd near the river." in body
    assert "River crossing by the camp" in body and "Delta Shield" in body
    with page.expect_download() as download_info:
        page.get_by_role("link", name="river.jpg").click()
    download = download_info.value
    assert download.suggested_filename == "river.jpg"
    assert Path(download.path()).read_bytes() == photo
    assert no_js.foreign_requests() == []


def test_the_reporter_follows_up_and_reads_the_caseworkers_message(portal, live_server, no_js):
    portal.account("reader@example.org")
    page = no_js.page
    receipt = file_through_the_browser(page, live_server, "en")
    sign_in_and_open_first_case(page, live_server, portal, "reader@example.org")
    page.fill("textarea[name=message]", "Thank you. Are you safe tonight?")
    page.locator("form[action*='/messages'] button").click()

    reporter = no_js.context.browser.new_context(java_script_enabled=False)
    other = reporter.new_page()
    other.goto(live_server + "/follow-up")
    other.fill("input[name=receipt]", receipt.replace(" ", ""))
    other.locator("main form button[type=submit]").click()
    assert "Thank you. Are you safe tonight?" in other.locator("main").inner_text()
    other.fill("textarea[name=message]", "Yes, I am with my sister.")
    other.locator("form[action*='/follow-up/reply'] button").click()
    assert "Yes, I am with my sister." in other.locator("main").inner_text()
    reporter.close()


def test_a_missing_answer_keeps_what_was_typed(portal, live_server, no_js_page):
    page = no_js_page
    page.goto(live_server + "/report")
    page.locator("main form button[type=submit]").click()
    page.locator("main form button[type=submit]").click()  # "who": skip every question
    page.fill("input[name=place]", "Market square")
    page.locator("main form button[type=submit]").last.click()
    assert page.title().startswith("Error:")
    assert page.get_by_role("alert").is_visible()
    assert page.locator("input[name=place]").input_value() == "Market square"
