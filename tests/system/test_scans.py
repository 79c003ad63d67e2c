"""Security scans of the running portal on loopback: sqlmap against the follow-up and sign-in
forms, and wapiti against the public pages and forms. Both find nothing above low.

The server is gunicorn on SQLite with the test-only scan profile (``tests/system/scan_app.py``:
CSRF checking off, the per-client limit on receipt checks lifted), so that the scanners' forged
requests reach the form handlers. See "Security scans" in docs/security.md.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

import crypto
from tests.support import database as testdb
from tests.support.server import ServerProcess, run_cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(testdb.on_postgres(), reason="the scans run once, on the SQLite pass"),
]

REQUIRED = bool(os.environ.get("CI") or os.environ.get("PORTAL_REQUIRE_BROWSER"))
SCAN_APP = "tests.system.scan_app:app"
EMAIL = "cw@example.org"
PASSWORD = "scanned but never guessed 7"
SIGN_IN_ANSWER = "The email or the password is not right."
NO_SUCH_RECEIPT = "We found no complaint with this receipt number."
NOT_A_RECEIPT = "This is not a receipt number."
# Wapiti modules run. Left out: ssrf and xxe (they call out to wapiti3.ovh), csrf (off in this
# profile on purpose), wapp (downloads a fingerprint database), brute_login_form, buster and
# nikto (word-list brute force, minutes of Argon2id runs for nothing).
WAPITI_MODULES = (
    "backup,blindsql,cookieflags,crlf,csp,exec,file,htaccess,http_headers,methods,"
    "permanentxss,redirect,shellshock,sql,xss"
)
PUBLIC_PAGES = (
    "/",
    "/follow-up",
    "/sign-in",
    "/report",
    "/report/who",
    "/report/what",
    "/report/safety",
    "/report/remedy",
    "/report/contact",
    "/report/evidence",
    "/report/check",
    "/organisations/apply",
    "/staying-safe",
    "/transparency",
)
LEVELS = {"0": "info", "1": "low", "2": "medium", "3": "high", "4": "critical"}
RESPONSE = re.compile(
    r"^HTTP response \[#\d+\] \((\d{3})[^)]*\):\n(.*?)(?=^HTTP request \[#|\Z)", re.M | re.S
)


def _tool(name: str, candidates: list[Path | str | None]) -> str:
    """The tool's executable; a missing tool fails the test in CI and skips it elsewhere."""
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    message = f"{name} is not installed (see 'Security scans' in docs/security.md)"
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("scans")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    env.update(PORTAL_DATA_DIR=str(tmp / "data"))
    log = tmp / "server.log"
    run_cli(env, log, "setup", "--recovery-file", str(tmp / "recovery.txt"))
    run_cli(
        env,
        log,
        "account",
        "create",
        "--role",
        "caseworker",
        "--email",
        EMAIL,
        "--name",
        "Scan Target",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    server = ServerProcess("gunicorn", env, log, target=SCAN_APP)
    try:
        yield server
    finally:
        server.stop()


def _tool_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    # Loopback only: never through a proxy, and the tools keep their state in the test's dir.
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env.pop(name, None)
    env.update(HOME=str(home), NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    return env


def _responses(traffic: Path) -> list[tuple[int, str]]:
    """(status, body) of every response in sqlmap's traffic log."""
    return [
        (int(code), body)
        for code, body in RESPONSE.findall(traffic.read_text(encoding="utf-8", errors="replace"))
    ]


def _sqlmap(portal: ServerProcess, tmp: Path, path: str, data: str, params: list[str], *extra: str):  # type: ignore[no-untyped-def]
    sqlmap = _tool("sqlmap", [Path(sys.executable).with_name("sqlmap"), shutil.which("sqlmap")])
    traffic = tmp / "traffic.txt"
    command = [
        sqlmap,
        "--url",
        portal.url + path,
        "--data",
        data,
        "-p",
        ",".join(params),
        "--batch",
        "--level",
        "2",
        "--risk",
        "1",
        "--technique",
        "BEUST",
        "--time-limit",
        "150",
        "--disable-coloring",
        "--output-dir",
        str(tmp / "out"),
        "-t",
        str(traffic),
        *extra,
    ]
    started = time.monotonic()
    result = subprocess.run(
        command,
        env=_tool_env(tmp / "home"),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = result.stdout + result.stderr
    (tmp / "sqlmap.log").write_text(output, encoding="utf-8")
    print(f"sqlmap {path}: {time.monotonic() - started:.0f} s")
    assert result.returncode == 0, output[-3000:]
    # Nothing found...
    assert "identified the following injection point" not in output, output[-5000:]
    assert not re.search(r"parameter '[^']+' (is|appears to be) .*injectable", output), output
    assert "all tested parameters do not appear to be injectable" in output, output[-3000:]
    # ... after really testing each parameter.
    for param in params:
        assert f"testing for SQL injection on POST parameter '{param}'" in output, output
        assert f"POST parameter '{param}' does not seem to be injectable" in output, output
    tests = re.findall(r"\[INFO\] testing '([^']+)'", output)
    assert len(tests) >= 8 * len(params), tests
    # Every request was answered by the form itself: no 429 (the scan would prove nothing), and
    # no server error (a payload that reached the database badly would show up as one).
    responses = _responses(traffic)
    statuses = sorted({status for status, _body in responses})
    print(f"  {len(responses)} requests, {len(tests)} tests, statuses {statuses}")
    assert len(responses) >= 100, len(responses)
    assert statuses and all(status < 429 for status in statuses), statuses
    return responses


def test_sqlmap_finds_no_injection_in_the_follow_up_form(portal, tmp_path) -> None:  # type: ignore[no-untyped-def]
    receipt = crypto.generate_receipt()  # well formed, so it reaches the lookup: no such case
    responses = _sqlmap(portal, tmp_path, "/follow-up", f"receipt={receipt}", ["receipt"])
    bodies = [body for _status, body in responses]
    # The original value went through the Argon2id lookup; the payloads mostly stopped at the
    # receipt's format and check digit.
    assert any(NO_SUCH_RECEIPT in body for body in bodies)
    assert sum(NOT_A_RECEIPT in body for body in bodies) > len(bodies) // 2
    assert all(NO_SUCH_RECEIPT in body or NOT_A_RECEIPT in body for body in bodies)


def test_sqlmap_finds_no_injection_in_the_sign_in_form(portal, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A real account with a wrong password: every answer is the same refusal, after an Argon2id
    # run each. Payloads for SQLite only (the database under test), to keep to about a minute.
    data = urlencode({"email": EMAIL, "password": "not the password"})
    responses = _sqlmap(
        portal, tmp_path, "/sign-in", data, ["email", "password"], "--dbms", "SQLite"
    )
    assert all(SIGN_IN_ANSWER in body for _status, body in responses)


def _draft_cookie(url: str) -> tuple[str, str]:
    """Start a filing and answer "what happened", so that every step's form can be reached."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    connection.request("POST", "/report", body="", headers=headers)
    started = connection.getresponse()
    started.read()
    assert started.status == 302, started.status
    cookies: SimpleCookie = SimpleCookie()
    for header in started.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    draft = cookies["draft"].value
    body = urlencode({"what_happened": "A scan's draft: the guards at the gate."})
    connection.request(
        "POST", "/report/what", body=body, headers={**headers, "Cookie": f"draft={draft}"}
    )
    answered = connection.getresponse()
    answered.read()
    connection.close()
    assert answered.status == 302, answered.status
    return "draft", draft


def test_wapiti_finds_nothing_above_low(portal, tmp_path) -> None:  # type: ignore[no-untyped-def]
    wapiti = _tool("wapiti", [shutil.which("wapiti"), "/usr/bin/wapiti"])
    config = tmp_path / "config"
    config.mkdir()
    # An empty technology database, so that loading the modules downloads nothing.
    (config / "apps.json").write_text("{}", encoding="utf-8")
    name, value = _draft_cookie(portal.url)
    jar = {"127.0.0.1": {"/": {name: {"value": value, "version": 0, "secure": False}}}}
    jar["127.0.0.1"]["/"][name].update(expires=None, port=None)
    (tmp_path / "cookies.json").write_text(json.dumps(jar), encoding="utf-8")
    report = tmp_path / "wapiti.json"
    starts = [arg for page in PUBLIC_PAGES for arg in ("--start", portal.url + page)]
    command = [
        wapiti,
        "--url",
        portal.url + "/",
        *starts,
        "--scope",
        "folder",
        "--module",
        WAPITI_MODULES,
        "--cookie",
        str(tmp_path / "cookies.json"),
        # Every page takes ?lang=xx: attack each form once, not once per language.
        "--remove",
        "lang",
        # The CSRF token is not checked in this profile: nothing to learn from attacking it.
        # (The check page's form is still sent now and then: a few complaints get filed.)
        "--skip",
        "csrf_token",
        "--depth",
        "5",
        "--max-scan-time",
        "150",
        "--max-attack-time",
        "20",
        "--flush-session",
        "--store-session",
        str(tmp_path / "session"),
        "--store-config",
        str(config),
        "--no-bugreport",
        "--verbose",
        "1",
        "--format",
        "json",
        "--output",
        str(report),
    ]
    started = time.monotonic()
    result = subprocess.run(
        command,
        env=_tool_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    (tmp_path / "wapiti.log").write_text(output, encoding="utf-8")
    print(f"wapiti: {time.monotonic() - started:.0f} s")
    assert result.returncode == 0, output[-5000:]
    assert "Traceback" not in output, output[-5000:]
    # The scan reached the forms it is meant to attack, and ran every module.
    attacked = set(re.findall(r"^\[\+\] POST ([^?\s]+)", output, re.M))
    for form in ("/follow-up", "/sign-in", "/report/who", "/report/what", "/report/contact"):
        assert portal.url + form in attacked, (form, sorted(attacked))
    for module in WAPITI_MODULES.split(","):
        assert f"Launching module {module}" in output, module
    findings = json.loads(report.read_text(encoding="utf-8"))
    print(f"  {findings['infos']['version']}: {len(attacked)} forms attacked")
    above_low = []
    for section in ("vulnerabilities", "anomalies"):
        for category, items in findings[section].items():
            for item in items:
                level = LEVELS.get(str(item["level"]), str(item["level"]))
                print(f"  {section}: {category} [{level}] {item['path']}: {item['info']}")
                if int(item["level"]) > 1:
                    above_low.append((category, level, item["path"], item["info"]))
    assert not above_low, above_low
