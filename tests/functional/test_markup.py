"""Every public page is valid HTML (the Nu checker, offline) and reads in order in w3m.

The pages are collected by walking the whole filing and follow-up in every language with the
test client; then one run of the checker validates them all.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from portal import create_app
from portal.config import SUPPORTED_LANGUAGES
from tests.conftest import csrf_token
from tests.support.filing import DEFAULT_ANSWERS, answer, begin

VNU = (
    Path(__file__).resolve().parents[1]
    / "tools"
    / "node_modules"
    / "vnu-jar"
    / "build"
    / "dist"
    / "vnu.jar"
)
REQUIRED = bool(os.environ.get("CI") or os.environ.get("PORTAL_REQUIRE_BROWSER"))


def _tool_or_skip(available: bool, message: str) -> None:
    if not available:
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)


def _collect(client, lang: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    pages = {}
    query = f"?lang={lang}"
    for path in ("/", "/staying-safe", "/follow-up", "/report", "/no-such-page"):
        pages[path] = client.get(path + query).get_data(as_text=True)
    begin(client, lang)
    for step in ("who", "what", "safety", "remedy", "contact"):
        pages[f"/report/{step}"] = client.get(f"/report/{step}{query}").get_data(as_text=True)
        answer(client, step, DEFAULT_ANSWERS[step], lang)
    pages["/report/evidence"] = client.get(f"/report/evidence{query}").get_data(as_text=True)
    pages["/report/check"] = client.get(f"/report/check{query}").get_data(as_text=True)
    token = csrf_token(client, f"/report/check{query}")
    receipt_page = client.post(f"/report/send{query}", data={"csrf_token": token})
    pages["receipt"] = receipt_page.get_data(as_text=True)
    receipt = re.search(r'id="receipt">([0-9 ]+)<', pages["receipt"]).group(1)
    token = csrf_token(client, f"/follow-up{query}")
    client.post(f"/follow-up{query}", data={"csrf_token": token, "receipt": receipt})
    pages["/follow-up/case"] = client.get(f"/follow-up/case{query}").get_data(as_text=True)
    pages["/follow-up/withdraw"] = client.get(f"/follow-up/withdraw{query}").get_data(as_text=True)
    return pages


@pytest.fixture
def every_page(portal, tmp_path):  # type: ignore[no-untyped-def]
    # Six follow-ups from one address in a minute: lift the per-client limit for this walk.
    app = create_app(dataclasses.replace(portal.settings, follow_up_per_client=100))
    files = {}
    for lang in SUPPORTED_LANGUAGES:
        client = app.test_client()
        for name, html in _collect(client, lang).items():
            path = tmp_path / f"{lang}{name.replace('/', '_') or '_home'}.html"
            path.write_text(html, encoding="utf-8")
            files[(lang, name)] = path
    app.extensions["portal_db"].dispose()
    return files


def test_every_public_page_is_valid_html(every_page):
    java = shutil.which("java")
    _tool_or_skip(
        bool(java) and VNU.exists(), "java and vnu-jar are needed (make test installs them)"
    )
    result = subprocess.run(
        [
            java,
            "-jar",
            str(VNU),
            "--errors-only",
            "--format",
            "json",
            *map(str, every_page.values()),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    problems = [f"{Path(m.get('url', '')).name}: {m.get('message')}" for m in messages]
    assert not problems, "\n".join(problems[:20])


def test_every_public_page_reads_in_order_as_plain_text(every_page):
    w3m = shutil.which("w3m")
    _tool_or_skip(bool(w3m), "w3m is needed (make test installs it)")
    for (lang, name), path in every_page.items():
        text = subprocess.run(
            [w3m, "-dump", "-T", "text/html", "-O", "UTF-8", str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        html = path.read_text(encoding="utf-8")
        heading = re.sub(r"<[^>]+>", "", re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)).strip()
        exit_text = re.search(r'id="quick-exit"[^>]*>([^<]+)<', html).group(1).strip()
        first_line = next(line for line in text.splitlines() if line.strip())
        assert exit_text in first_line, (lang, name, first_line)  # the exit comes first
        after_exit = text[text.index(exit_text) + len(exit_text) :]
        assert heading.split()[0] in after_exit, (lang, name, heading)
