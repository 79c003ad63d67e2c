"""Several app servers at once: two gunicorn instances on different ports, one PostgreSQL and
one data dir. A caseworker's session started on one continues on the other; a filing started
on one finishes on the other; its receipt opens the case on the first."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from tests.support.http import Client
from tests.support.server import ServerProcess, run_cli
from tests.support.throwaway_pg import ThrowawayCluster

pytestmark = pytest.mark.slow

EMAIL = "cw@example.org"
PASSWORD = "two servers, one passphrase 9"
STORY = "Two-servers-canary: the guards at the ferry"
TOTP_SECRET = re.compile(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)</code>')


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    cluster = ThrowawayCluster()
    url = cluster.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    env.update(PORTAL_DATA_DIR=str(tmp_path / "data"), PORTAL_DATABASE_URL=url)
    log = tmp_path / "servers.log"
    run_cli(env, log, "setup", "--recovery-file", str(tmp_path / "recovery.txt"))
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
        "Case Worker",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    first = ServerProcess("gunicorn", env, log)
    second = ServerProcess("gunicorn", env, log)
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()
        cluster.remove()


def _field(client: Client, path: str, fields: dict[str, str | list[str]]) -> str:
    reply = client.post(path, {"csrf_token": client.csrf(path), **fields})
    assert reply.status == 200, (path, reply.status, reply.text[:2000])
    return reply.text


def test_a_session_and_a_filing_move_between_two_servers(servers) -> None:  # type: ignore[no-untyped-def]
    first, second = servers
    # A caseworker signs in (password, then enrolling the second factor) on the first server...
    staff = Client(first.url)
    page = _field(staff, "/sign-in", {"email": EMAIL, "password": PASSWORD})
    secret = TOTP_SECRET.search(page)
    assert secret, page[:2000]
    code = pyotp.TOTP(secret.group(1).replace(" ", "")).now()
    assert "Your recovery codes" in _field(staff, "/sign-in/enrol", {"code": code})
    assert staff.get("/caseworker/cases").status == 200
    # ... and carries on on the second with the same cookie.
    staff.base = second.url
    listing = staff.get("/caseworker/cases")
    assert listing.status == 200 and "There are no cases for you yet." in listing.text

    # A reporter starts on the first server and finishes on the second.
    reporter = Client(first.url)
    _field(reporter, "/report", {})
    _field(reporter, "/report/who", {"filer": "self"})
    reporter.base = second.url
    _field(reporter, "/report/what", {"what_happened": STORY, "country": "CD"})
    reply = reporter.post(
        "/report/evidence",
        {"csrf_token": reporter.csrf("/report/evidence"), "action": "continue"},
        [("attachments", "note.txt", b"two servers evidence", "text/plain")],
    )
    assert reply.status == 200 and "Check your answers" in reply.text, reply.text[:2000]
    sent = reporter.post("/report/send", {"csrf_token": reporter.csrf("/report/check")})
    receipt = re.search(r'id="receipt">([0-9 ]+)<', sent.text)
    assert receipt, sent.text[:2000]

    # The receipt opens the case on the first server; the caseworker reads it on the first too.
    follower = Client(first.url)
    opened = follower.post(
        "/follow-up", {"csrf_token": follower.csrf("/follow-up"), "receipt": receipt.group(1)}
    )
    assert opened.status == 200 and "Your complaint" in opened.text, opened.text[:2000]
    staff.base = first.url
    cases = staff.get("/caseworker/cases").text
    link = re.search(r'href="(/caseworker/cases/[0-9a-f-]{36})"', cases)
    assert link
    assert STORY in staff.get(link.group(1)).text
