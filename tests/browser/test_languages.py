"""Filing in Arabic (right to left, with a screenshot) and in Swahili with JavaScript on."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext

from tests.browser.conftest import screenshot
from tests.browser.walk import file_through_the_browser

pytestmark = pytest.mark.browser


def _translated(app, locale: str, message: str) -> str:  # type: ignore[no-untyped-def]
    with app.test_request_context(), force_locale(locale):
        return gettext(message)


def test_arabic_filing_is_right_to_left_and_mirrored(portal, live_server, no_js):
    page = no_js.page
    page.set_viewport_size({"width": 390, "height": 844})

    def check_page(page, name: str) -> None:  # type: ignore[no-untyped-def]
        assert page.locator("html").get_attribute("dir") == "rtl", name
        assert page.locator("html").get_attribute("lang") == "ar", name
        if name == "what":
            screenshot(page, "arabic-what-happened")
            back = page.locator("a.back").bounding_box()
            box = page.locator("textarea[name=what_happened]").bounding_box()
            # Mirrored: the Back link sits at the right edge of the column, not the left.
            assert abs((back["x"] + back["width"]) - (box["x"] + box["width"])) < 2
            assert back["x"] > box["x"] + box["width"] / 2

    receipt = file_through_the_browser(page, live_server, "ar", on_page=check_page)
    screenshot(page, "arabic-receipt")
    receipt_box = page.locator("#receipt")
    assert receipt_box.get_attribute("dir") == "ltr"
    assert re.fullmatch(r"\d{4}( \d{4}){4}", receipt)
    assert page.locator("h1").inner_text() == _translated(
        portal.app, "ar", "We have received your complaint"
    )
    assert no_js.foreign_requests() == []


def test_swahili_filing_with_javascript_on(portal, live_server, with_js):
    page = with_js.page
    receipt = file_through_the_browser(page, live_server, "sw")
    assert re.fullmatch(r"\d{4}( \d{4}){4}", receipt)
    assert page.locator("html").get_attribute("lang") == "sw"
    assert page.locator("h1").inner_text() == _translated(
        portal.app, "sw", "We have received your complaint"
    )
    assert with_js.foreign_requests() == []


def test_validation_error_speaks_the_readers_language(portal, live_server, no_js):
    page = no_js.page
    page.goto(live_server + "/report?lang=es")
    page.locator("main form button[type=submit]").click()
    page.locator("main form button[type=submit]").click()
    page.fill("input[name=place]", "Plaza del mercado")
    page.locator("main form button[type=submit]").last.click()
    assert page.title().startswith(_translated(portal.app, "es", "Error:"))
    assert (
        _translated(portal.app, "es", "Tell us what happened.")
        in page.locator("[role=alert]").inner_text()
    )
    assert page.locator("input[name=place]").input_value() == "Plaza del mercado"
