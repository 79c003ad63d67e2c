"""A real headless Chromium (Debian's package) driven by Playwright, and a live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = Path(os.environ.get("PORTAL_SCREENSHOT_DIR", "/tmp/portal-screenshots"))


def _browser_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("PORTAL_REQUIRE_BROWSER"))


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists():
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if _browser_required():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class Visit:
    """A browser context that records every request, so a test can prove none left the host."""

    def __init__(self, chromium, base: str, *, javascript: bool, **options) -> None:  # type: ignore[no-untyped-def]
        self.base = base
        self.context = chromium.new_context(
            java_script_enabled=javascript, accept_downloads=True, **options
        )
        self.requests: list[str] = []
        self.documents: list[tuple[str, dict[str, str]]] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.context.on("response", self._record_document)
        # The quick exit goes to a neutral outside site: answer it here, never on the network.
        self.context.route(
            lambda url: not url.startswith(base),
            lambda route: route.fulfill(status=200, body="<title>neutral</title>elsewhere"),
        )
        self.page = self.context.new_page()

    def _record_document(self, response) -> None:  # type: ignore[no-untyped-def]
        if response.request.resource_type == "document" and response.url.startswith(self.base):
            self.documents.append((response.url, response.headers))

    def header_problems(self) -> list[str]:
        """Pages served without the protective headers every page must carry."""
        problems = []
        for url, headers in self.documents:
            if 300 <= int(headers.get(":status", "200")) < 400:
                continue
            csp = headers.get("content-security-policy", "")
            if "default-src 'none'" not in csp or "unsafe-inline" in csp:
                problems.append(f"{url}: content-security-policy {csp!r}")
            if "no-store" not in headers.get("cache-control", ""):
                problems.append(f"{url}: cache-control {headers.get('cache-control')!r}")
            if headers.get("referrer-policy") != "no-referrer":
                problems.append(f"{url}: referrer-policy")
        return problems

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.base)]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def no_js(chromium, live_server):  # type: ignore[no-untyped-def]
    visit = Visit(chromium, live_server, javascript=False)
    yield visit
    visit.close()


@pytest.fixture
def with_js(chromium, live_server):  # type: ignore[no-untyped-def]
    visit = Visit(chromium, live_server, javascript=True, bypass_csp=False)
    yield visit
    visit.close()


@pytest.fixture
def no_js_page(no_js):  # type: ignore[no-untyped-def]
    return no_js.page


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Keep a picture of the page for the test's output (and for a person to look at)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path
