"""The quick exit: a plain link without JavaScript; with it, no way Back and Shift three times."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_quick_exit_is_first_in_tab_order_and_works_without_javascript(live_server, no_js):
    page = no_js.page
    page.goto(live_server + "/report")
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    assert focused.get_attribute("id") == "quick-exit"
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: not url.startswith(live_server))
    assert "elsewhere" in page.content()


def test_quick_exit_with_javascript_leaves_no_way_back(live_server, with_js):
    page = with_js.page
    page.goto(live_server + "/")
    page.goto(live_server + "/report")
    page.click("#quick-exit")
    page.wait_for_url(lambda url: not url.startswith(live_server))
    page.go_back()
    # location.replace removed the report page from history: Back lands on the page before it.
    assert page.url.rstrip("/").endswith(live_server.rsplit(":", 1)[1]) or "/report" not in page.url


def test_shift_three_times_exits(live_server, with_js):
    page = with_js.page
    page.goto(live_server + "/staying-safe")
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url(lambda url: not url.startswith(live_server))
    assert "elsewhere" in page.content()
