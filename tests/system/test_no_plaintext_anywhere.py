"""P1 and P5 end to end: what a reporter typed is shown to the caseworker and nowhere else.

A real server process (Werkzeug's, gunicorn and waitress) runs under strace with production
Argon2id. A unique canary goes into every free-text field, the file name and a 1.2 MiB
attachment. Afterwards the database, the data dir, the temporary directory, the server's log
and every byte the server wrote to a file or pipe are searched for each canary and for the
receipt, raw and in UTF-16, base64 and hex. Only the network carries them, to the caseworker.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import database as testdb
from tests.support.http import Client
from tests.support.leaks import files_under, find_in_bytes, scan_files, scan_trace
from tests.support.server import ServerProcess, run_cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed"),
]

PASSWORD = "a long caseworker passphrase 7"
EMAIL = "cw@example.org"


def _canary(field: str) -> str:
    return f"Canary-{field}-été-{secrets.token_hex(8)}"


def _attachment(markers: list[bytes]) -> bytes:
    content = bytearray(os.urandom(1_200_000))
    for index, marker in enumerate(markers * 8):
        offset = 4099 + index * 140_001
        content[offset : offset + len(marker)] = marker
    return bytes(content)


@pytest.fixture
def environment(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    (tmp_path / "tmp").mkdir()
    env.update(PORTAL_DATA_DIR=str(tmp_path / "data"), TMPDIR=str(tmp_path / "tmp"))
    database_url = None
    if testdb.on_postgres():
        database_url = testdb.create_postgres_database("portal_p1")
        env["PORTAL_DATABASE_URL"] = database_url
    yield env, database_url
    if database_url:
        testdb.drop_postgres_database(database_url)


def _pg_dump(url: str, target: Path) -> Path:
    binary = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))[-1]
    libpq_url = url.replace("postgresql+psycopg://", "postgresql://")
    subprocess.run([str(binary), "--dbname", libpq_url, "--file", str(target)], check=True)
    return target


@pytest.mark.parametrize("server_kind", ["flask", "gunicorn", "waitress"])
def test_canaries_reach_the_caseworker_and_nothing_else(tmp_path, environment, server_kind):
    env, database_url = environment
    log, trace = tmp_path / "server.log", tmp_path / "trace.txt"
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

    answers = {field: _canary(field) for field in ("what_happened", "where", "when", "company")}
    filename = f"{_canary('filename')}.jpg"
    content = _attachment([value.encode() for value in answers.values()])
    server = ServerProcess(server_kind, env, log, trace)
    try:
        reporter = Client(server.url)
        token = reporter.csrf("/report")
        reply = reporter.post(
            "/report",
            {"csrf_token": token, "country": "CD", **answers},
            [("attachments", filename, content, "image/jpeg")],
        )
        assert reply.status == 200, reply.text[:2000]
        receipt = re.search(r'id="receipt">([0-9 ]+)<', reply.text).group(1)

        follower = Client(server.url)
        reply = follower.post(
            "/follow-up", {"csrf_token": follower.csrf("/follow-up"), "receipt": receipt}
        )
        assert "Nobody has read it yet" in reply.text

        staff = Client(server.url)
        reply = staff.post(
            "/sign-in",
            {"csrf_token": staff.csrf("/sign-in"), "email": EMAIL, "password": PASSWORD},
        )
        assert reply.status == 200 and "/caseworker/cases/" in reply.text
        case_path = re.search(r'href="(/caseworker/cases/[0-9a-f-]{36})"', reply.text).group(1)
        page = staff.get(case_path)
        for value in [*answers.values(), filename]:
            assert value in page.text
        file_path = re.search(r'href="(/caseworker/cases/[^"]+/files/[^"]+)"', page.text).group(1)
        assert staff.get(file_path).body == content
    finally:
        server.stop()

    secrets_ = {name: value.encode() for name, value in answers.items()}
    secrets_["filename"] = filename.encode()
    secrets_.update({f"content@{i}": content[i : i + 48] for i in (0, 65_536, 700_001)})
    secrets_["receipt"] = receipt.encode()
    secrets_["receipt-digits"] = receipt.replace(" ", "").encode()

    stored = [tmp_path / "data", tmp_path / "tmp", log]
    if database_url:
        stored.append(_pg_dump(database_url, tmp_path / "dump.sql"))
    assert any(files_under(tmp_path / "data" / "files")), "the attachment was not stored"
    assert scan_files(files_under(*stored), secrets_) == []
    assert trace.stat().st_size > len(content), "strace saw too little: the trace is incomplete"
    assert scan_trace(trace, secrets_) == []


def test_the_leak_scanner_finds_what_it_looks_for(tmp_path):
    """The search above can fail: a planted canary is found in a file and in a trace."""
    secret = _canary("planted").encode()
    (tmp_path / "plain.txt").write_bytes(b"xx" + secret.decode().encode("utf-16-le") + b"yy")
    assert scan_files([tmp_path / "plain.txt"], {"planted": secret})
    escaped = "".join(f"\\x{byte:02x}" for byte in b"pre" + secret)
    target = "".join(f"\\x{byte:02x}" for byte in b"/data/portal.sqlite3")
    (tmp_path / "trace.txt").write_text(f'123 pwrite64(5<{target}>, "{escaped}", 40, 0) = 40\n')
    assert scan_trace(tmp_path / "trace.txt", {"planted": secret})
    assert find_in_bytes(secret.hex().encode(), {"planted": secret})
