"""An upload over the limit, in a browser: a clear page in the reader's language, nothing lost."""

from __future__ import annotations

import dataclasses
import os

import pytest

from portal import create_app
from tests.browser.conftest import Visit
from tests.browser.walk import DEFAULTS, fill_step, press_continue
from tests.conftest import serving

pytestmark = pytest.mark.browser


def test_an_upload_over_the_limit_keeps_every_answer(portal, chromium):
    settings = dataclasses.replace(
        portal.settings, max_request_bytes=300 * 1024, max_upload_bytes=200 * 1024
    )
    app = create_app(settings)
    with serving(app) as base:
        visit = Visit(chromium, base, javascript=False)
        page = visit.page
        page.goto(base + "/report?lang=fr")
        page.locator("main form button[type=submit]").click()
        for step in ("who", "what", "safety", "remedy", "contact"):
            fill_step(page, DEFAULTS[step])
            press_continue(page)
        page.set_input_files(
            "input[type=file]",
            files=[{"name": "big.mp4", "mimeType": "video/mp4", "buffer": os.urandom(400_000)}],
        )
        page.locator("button[value=add]").click()
        assert page.locator("html").get_attribute("lang") == "fr"
        assert page.title().startswith("Erreur") or page.title().startswith("Error")
        assert page.get_by_role("alert").is_visible()
        assert "/report/evidence" in page.url
        page.locator("button[value=continue]").click()
        assert DEFAULTS["what"]["what_happened"] in page.locator("main").inner_text()
        visit.close()
    app.extensions["portal_db"].dispose()
