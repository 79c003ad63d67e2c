"""P1 and P5 end to end: what a reporter typed is shown to the caseworker and nowhere else.

A real server process (Werkzeug's, gunicorn and waitress) runs under strace with production
Argon2id. A unique canary goes into every free-text answer of the multi-step filing (the
identity fields included), the file name, a 1.2 MiB attachment and a message each way.
Afterwards the database, the data dir, the temporary directory, the server's log
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

import pyotp
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


# Every free-text answer of the filing, by step (identity fields included: confidential channel).
FREE_TEXT = {
    "who": ("relationship",),
    "what": ("what_happened", "when_text", "place", "company_other"),
    "safety": ("fear",),
    "remedy": ("remedy_words", "elsewhere_outcome"),
    "contact": ("name", "phone", "email", "other_contact"),
}
CHOICES = {
    "who": {"filer": "for_other", "person_agreed": "yes", "person_name_shared": "caseworkers"},
    "what": {"topics": ["use_of_force", "detention"], "country": "CD", "company": "other"},
    "safety": {"danger_now": "yes"},
    "remedy": {"remedies": ["compensation"], "complained_elsewhere": ["police"]},
    "contact": {"contact_mode": "confidential", "share_with_company": "no"},
}


def _file_multi_step(
    reporter: Client, answers: dict[str, str], filename: str, content: bytes
) -> str:
    reply = reporter.post("/report", {"csrf_token": reporter.csrf("/report")})
    assert (reply.status == 200 and "/report/who" in reply.text) or "Who is filing" in reply.text
    for step, names in FREE_TEXT.items():
        fields: dict[str, str | list[str]] = {"csrf_token": reporter.csrf(f"/report/{step}")}
        fields.update(CHOICES[step])
        fields.update({name: answers[name] for name in names})
        reply = reporter.post(f"/report/{step}", fields)
        assert reply.status == 200 and "There is a problem" not in reply.text, reply.text[:3000]
    reply = reporter.post(
        "/report/evidence",
        {"csrf_token": reporter.csrf("/report/evidence"), "action": "continue"},
        [("attachments", filename, content, "image/jpeg")],
    )
    assert reply.status == 200 and "Check your answers" in reply.text, reply.text[:3000]
    reply = reporter.post("/report/send", {"csrf_token": reporter.csrf("/report/check")})
    assert reply.status == 200, reply.text[:2000]
    return re.search(r'id="receipt">([0-9 ]+)<', reply.text).group(1)


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

    names = [name for group in FREE_TEXT.values() for name in group]
    answers = {name: _canary(name) for name in names}
    messages = {
        "reporter_message": _canary("reporter-message"),
        "staff_message": _canary("staff-message"),
    }
    filename = f"{_canary('filename')}.jpg"
    content = _attachment([value.encode() for value in answers.values()])
    server = ServerProcess(server_kind, env, log, trace)
    try:
        reporter = Client(server.url)
        receipt = _file_multi_step(reporter, answers, filename, content)

        follower = Client(server.url)
        reply = follower.post(
            "/follow-up", {"csrf_token": follower.csrf("/follow-up"), "receipt": receipt}
        )
        assert "Nobody has read it yet" in reply.text
        reply = follower.post(
            "/follow-up/reply",
            {
                "csrf_token": follower.csrf("/follow-up/case"),
                "message": messages["reporter_message"],
            },
        )
        assert messages["reporter_message"] in reply.text

        staff = Client(server.url)
        reply = staff.post(
            "/sign-in",
            {"csrf_token": staff.csrf("/sign-in"), "email": EMAIL, "password": PASSWORD},
        )
        # The first sign-in sets up the second factor from the key written out on the page.
        secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', reply.text).group(1)
        code = pyotp.TOTP(secret.replace(" ", "")).now()
        reply = staff.post(
            "/sign-in/enrol", {"csrf_token": staff.csrf("/sign-in/enrol"), "code": code}
        )
        assert reply.status == 200 and "Your recovery codes" in reply.text
        reply = staff.get("/caseworker/cases")
        assert reply.status == 200 and "/caseworker/cases/" in reply.text
        case_path = re.search(r'href="(/caseworker/cases/[0-9a-f-]{36})"', reply.text).group(1)
        page = staff.get(case_path)
        for value in [*answers.values(), filename, messages["reporter_message"]]:
            assert value in page.text, value
        file_path = re.search(r'href="(/caseworker/cases/[^"]+/files/[^"]+)"', page.text).group(1)
        assert staff.get(file_path).body == content
        reply = staff.post(
            f"{case_path}/messages",
            {"csrf_token": staff.csrf(case_path), "message": messages["staff_message"]},
        )
        assert messages["staff_message"] in reply.text
        assert messages["staff_message"] in follower.get("/follow-up/case").text
    finally:
        server.stop()

    secrets_ = {name: value.encode() for name, value in {**answers, **messages}.items()}
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
