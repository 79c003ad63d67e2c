"""WCAG 2.2 AA with axe-core on every public page in every language, at 320 CSS pixels wide.

axe runs in a JavaScript-enabled context (it is a script); the pages themselves need none.
A page that scrolls sideways at 320 pixels fails the reflow criterion (and 200% zoom).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe

from portal.config import SUPPORTED_LANGUAGES
from portal.models import Case, SiteOption, today
from tests.browser.conftest import Visit
from tests.browser.walk import file_through_the_browser

pytestmark = pytest.mark.browser
AXE = Axe()
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def audit(page, name: str, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_load_state("load")  # a click returns once the next page commits, not loads
    page.evaluate("window.scrollTo(0, 0)")  # as loaded: nothing under the sticky quick exit
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    for violation in results.response["violations"]:
        targets = [node["target"] for node in violation["nodes"]][:3]
        problems.append(f"{name}: {violation['id']} ({violation['impact']}) {targets}")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > 320:
        problems.append(f"{name}: scrolls sideways at 320px (content is {width}px wide)")


def publish_figures(portal) -> None:  # type: ignore[no-untyped-def]
    """Switch the public figures page on, with enough cases last month for its charts."""
    last_month = today().replace(day=1) - timedelta(days=1)
    with portal.db as db:
        db.add(SiteOption(name="transparency_public", value="on"))
        for number in range(6):
            db.add(
                Case(
                    reference=f"AXE-{number:04d}",
                    received_on=last_month,
                    language="ar",
                    country="KE",
                    channel="anonymous",
                )
            )
        db.commit()


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_every_public_page_passes_axe_and_reflows(portal, chromium, live_server, lang):
    publish_figures(portal)
    visit = Visit(
        chromium,
        live_server,
        javascript=True,
        bypass_csp=True,
        viewport={"width": 320, "height": 800},
    )
    page = visit.page
    problems: list[str] = []
    receipt = file_through_the_browser(
        page, live_server, lang, on_page=lambda p, name: audit(p, name, problems)
    )
    page.check("#written_down")
    page.locator("form[action*='/report/finish'] button").click()
    audit(page, "finished", problems)
    for path in ("/staying-safe", "/follow-up", "/transparency", "/no-such-page"):
        page.goto(f"{live_server}{path}?lang={lang}")
        audit(page, path, problems)
    page.goto(f"{live_server}/organisations/apply?lang={lang}")
    audit(page, "organisation application", problems)
    page.locator("main form button[type=submit]").click()  # empty: the error state
    audit(page, "organisation application (errors)", problems)
    page.goto(f"{live_server}/follow-up?lang={lang}")
    page.locator("main form button[type=submit]").click()  # empty: the error state
    audit(page, "follow-up error", problems)
    page.fill("input[name=receipt]", receipt)
    page.locator("main form button[type=submit]").click()
    audit(page, "follow-up case", problems)
    page.goto(f"{live_server}/follow-up/withdraw?lang={lang}")
    audit(page, "withdraw", problems)
    page.goto(f"{live_server}/report?lang={lang}")
    page.locator("main form button[type=submit]").click()
    page.locator("main form button[type=submit]").click()
    page.locator("main form button[type=submit]").last.click()  # "what" left empty
    audit(page, "what (error)", problems)
    problems += visit.header_problems()
    problems += [f"request to another host: {url}" for url in visit.foreign_requests()]
    assert visit.documents, "no page was recorded"
    visit.close()
    assert not problems, "\n".join(problems)


def test_a_complaint_can_be_filed_with_the_keyboard_alone(live_server, no_js):
    page = no_js.page
    page.goto(live_server + "/report?lang=en")

    def tab_to(selector: str) -> None:
        for _ in range(80):
            page.keyboard.press("Tab")
            if page.locator(f"{selector}:focus").count():
                return
        raise AssertionError(f"{selector} cannot be reached with Tab")

    def submit() -> None:
        with page.expect_navigation():
            page.keyboard.press("Enter")

    tab_to("main form button[type=submit]")
    submit()
    tab_to("input[name=filer][value=self]")
    page.keyboard.press("Space")
    tab_to("main form button[type=submit]")
    submit()
    tab_to("textarea[name=what_happened]")
    page.keyboard.type("They took our boat at night.")
    tab_to("main form button[type=submit]")
    submit()
    for _step in ("safety", "remedy", "contact"):
        tab_to("main form button[type=submit]")
        submit()
    tab_to("button[value=continue]")
    submit()
    tab_to("form[action*='/report/send'] button")
    submit()
    assert page.locator("#receipt").count() == 1
    tab_to("#written_down")
    page.keyboard.press("Space")
    tab_to("form[action*='/report/finish'] button")
    submit()
    assert page.locator("h1").inner_text() == "Thank you"
