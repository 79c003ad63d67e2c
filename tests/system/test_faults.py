"""Faults with real gunicorn processes.

1. A worker killed (SIGKILL) in the middle of an upload, and another in the middle of sending
   (its file already moved into the store, the case not yet committed), leave no case; the
   partial ciphertext holds no plaintext and is swept at the next start once abandoned; the
   ciphertext moved into the store is removed by the purge once an hour old; the server keeps
   serving (gunicorn's master replaces the workers) and a new filing goes through.
2. A full disk under the data dir (a small tmpfs; the SQLite database elsewhere) gives the
   reporter the 503 "not saved" page in their language with nothing half-stored, and once
   space is freed the same filing, with the same file, goes through.
3. The same with the default layout (SQLite inside the data dir), the disk filling up between
   the evidence step and sending: the 503 page, no case, the evidence put back in the draft's
   staging (not deleted, not left in the store), and the same sending goes through once space
   is freed.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from portal.datadir import DataDir
from portal.models import Case, StoredFile
from portal.retention import remove_orphan_files
from tests.support.http import Client
from tests.support.server import ServerProcess, free_port, run_cli

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
RECEIPT = re.compile(r'id="receipt">([0-9 ]+)<')


# --- helpers --------------------------------------------------------------------------------


def _environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    env.update(PORTAL_DATA_DIR=str(data_dir), PORTAL_SMTP_PORT=str(free_port()), **extra)
    return env


def _cases(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with Session(engine) as db:
            return db.scalar(select(func.count()).select_from(Case)) or 0
    finally:
        engine.dispose()


def _files_under(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


def _evidence(canary: bytes, size: int) -> bytes:
    """Random bytes of ``size`` with the canary written in every 256 KiB."""
    content = bytearray(os.urandom(size))
    for offset in range(1000, size - len(canary), 256 * 1024):
        content[offset : offset + len(canary)] = canary
    return bytes(content)


def _walk_to_evidence(client: Client, story: str, lang: str = "") -> None:
    query = f"?lang={lang}" if lang else ""
    steps: list[tuple[str, dict[str, str | list[str]]]] = [
        ("/report", {}),
        ("/report/who", {"filer": "self"}),
        ("/report/what", {"what_happened": story, "country": "CD"}),
    ]
    for path, fields in steps:
        reply = client.post(path + query, {"csrf_token": client.csrf(path + query), **fields})
        assert reply.status == 200, (path, reply.status, reply.text[:2000])


def _send(client: Client, lang: str = "") -> str:
    query = f"?lang={lang}" if lang else ""
    reply = client.post(
        f"/report/send{query}", {"csrf_token": client.csrf(f"/report/check{query}")}
    )
    receipt = RECEIPT.search(reply.text)
    assert reply.status == 200 and receipt, (reply.status, reply.text[:2000])
    return receipt.group(1)


def _multipart(fields: dict[str, str], file: tuple[str, bytes] | None = None) -> tuple[str, bytes]:
    boundary = "----portal-fault-" + secrets.token_hex(12)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    if file is not None:
        name, content = file
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
            f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


class RawPost:
    """A POST written to a socket piece by piece, so the test decides when the body arrives."""

    def __init__(self, client: Client, path: str, content_type: str, body: bytes) -> None:
        port = int(client.base.rsplit(":", 1)[1])
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in client.cookies)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookies}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        self.body = body
        self.sent = 0
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.sendall(head.encode())

    def send(self, size: int, chunk: int = 256 * 1024, pause: float = 0.0) -> None:
        """Send up to ``size`` more bytes of the body; stop quietly if the server hung up."""
        end = min(len(self.body), self.sent + size)
        try:
            while self.sent < end:
                piece = self.body[self.sent : min(end, self.sent + chunk)]
                self.sock.sendall(piece)
                self.sent += len(piece)
                if pause:
                    time.sleep(pause)
        except OSError:  # the server hung up (or answered) before reading it all
            return

    def _receive(self) -> bytes:
        received = bytearray()
        with contextlib.suppress(ConnectionResetError):
            while chunk := self.sock.recv(65536):
                received += chunk
        return bytes(received)

    def answer(self) -> bytes:
        """Everything the server wrote back before closing (b"" when it wrote nothing)."""
        received = self._receive()
        self.sock.close()
        return received

    def send_all_and_answer(self) -> tuple[int, str]:
        """Send the rest while reading the answer (the server may answer before reading all)."""
        sender = threading.Thread(target=self.send, args=(len(self.body),), daemon=True)
        sender.start()
        raw = self._receive()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the sender if it is still blocked
        sender.join(timeout=60)
        self.sock.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        status = re.match(rb"HTTP/1\.[01] (\d{3})", head)
        assert status, raw[:2000]
        return int(status.group(1)), body.decode("utf-8", "replace")


def _workers(master: int) -> set[int]:
    """gunicorn's worker processes: the children of its master."""
    children = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                # pid (comm) state ppid ...: comm may hold spaces, so split after the last ")".
                if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                    children.add(int(entry.name))
    return children


def _holder_of(path: Path, pids: set[int]) -> int | None:
    """The process among ``pids`` that has ``path`` open."""
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == str(path):
                        return pid
    return None


def _wait_for(condition: Callable[[], object], what: str, seconds: float = 20) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _kill_workers(server: ServerProcess, tracer: subprocess.Popen[bytes] | None = None) -> set[int]:
    """SIGKILL every worker, then wait until the master has started fresh ones that answer.

    A worker under ``tracer`` (strace) is reported dead to the master only once the tracer
    lets go of it: the tracer is killed too, after the workers, so none of them runs on.
    """
    killed = _workers(server.process.pid)
    assert killed, "gunicorn has no workers"
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    if tracer is not None:
        tracer.kill()
        tracer.wait(timeout=30)

    def replaced() -> bool:
        current = _workers(server.process.pid)
        return len(current) == 2 and not current & killed

    _wait_for(replaced, "gunicorn to replace its workers")
    _wait_for(lambda: Client(server.url).get("/").status == 200, "the new workers to answer")
    assert server.process.poll() is None, "the gunicorn master died"
    return killed


# --- 1. a worker killed in the middle of an upload, and of a sending -------------------------


@pytest.fixture
def gunicorn_portal(tmp_path: Path) -> Iterator[tuple[ServerProcess, dict[str, str], Path]]:
    data = tmp_path / "data"
    env = _environment(data, TMPDIR=str(tmp_path))
    log = tmp_path / "server.log"
    run_cli(env, log, "setup", "--recovery-file", str(tmp_path / "recovery.txt"))
    server = ServerProcess("gunicorn", env, log)
    try:
        yield server, env, log
    finally:
        server.stop()


def test_a_worker_killed_mid_upload_or_mid_sending_leaves_no_case_and_no_orphan(
    gunicorn_portal: tuple[ServerProcess, dict[str, str], Path],
) -> None:
    server, env, log = gunicorn_portal
    data = DataDir(Path(env["PORTAL_DATA_DIR"]))
    database_url = f"sqlite:///{data.root / 'portal.sqlite3'}"
    canary = b"Killed-upload-canary-" + secrets.token_hex(8).encode()

    # A reporter reaches the evidence step and starts sending 20 MiB, slowly.
    reporter = Client(server.url)
    _walk_to_evidence(reporter, "Killed-worker story: the guards at the depot")
    content_type, body = _multipart(
        {"csrf_token": reporter.csrf("/report/evidence"), "action": "continue"},
        ("depot.bin", _evidence(canary, 20 * MIB)),
    )
    upload = RawPost(reporter, "/report/evidence", content_type, body)
    upload.send(4 * MIB, chunk=128 * 1024, pause=0.01)

    def partial() -> Path | None:
        parts = [p for p in data.incoming.glob("*.part") if p.stat().st_size >= MIB]
        return parts[0] if parts else None

    part = _wait_for(partial, "the upload to stream into incoming/")
    assert isinstance(part, Path)
    workers = _workers(server.process.pid)
    handler = _holder_of(part, workers)
    assert handler in workers, "no gunicorn worker holds the partial upload open"
    killed = _kill_workers(server)
    assert handler in killed
    assert upload.answer() == b""  # the reporter got no answer at all, not a half-stored one

    assert _cases(database_url) == 0
    assert _files_under(data.files) == []
    assert [p.name for p in _files_under(data.incoming)] == [part.name]
    partial_bytes = part.read_bytes()
    assert len(partial_bytes) >= MIB and canary not in partial_bytes  # ciphertext only

    # A second reporter sends a complete filing; the worker is killed after the file was moved
    # into the store but before the case was committed (strace holds it just after the rename).
    assert shutil.which("strace"), "strace is needed to stop a worker mid-sending (CI has it)"
    second = Client(server.url)
    _walk_to_evidence(second, "Killed-sending story: the guards at the gate")
    staged = second.post(
        "/report/evidence",
        {"csrf_token": second.csrf("/report/evidence"), "action": "continue"},
        [("attachments", "gate.bin", _evidence(canary, 300_000), "application/octet-stream")],
    )
    assert staged.status == 200 and "Check your answers" in staged.text, staged.text[:2000]
    content_type, body = _multipart({"csrf_token": second.csrf("/report/check")})
    workers = _workers(server.process.pid)
    syscalls = "rename,renameat,renameat2"
    tracer = subprocess.Popen(
        ["strace", "-qq", "-f", "-e", f"trace={syscalls}"]
        + ["-e", f"inject={syscalls}:delay_exit=30000000", "-o", str(log.with_suffix(".strace"))]
        + [arg for pid in sorted(workers) for arg in ("-p", str(pid))],
    )
    try:

        def traced() -> bool:
            status = [Path(f"/proc/{pid}/status").read_text() for pid in workers]
            return all(not re.search(r"TracerPid:\s+0\n", text) for text in status)

        _wait_for(traced, "strace to attach to the workers")
        sending = RawPost(second, "/report/send", content_type, body)
        sending.send(len(body))
        moved = _wait_for(lambda: _files_under(data.files), "the file to be moved into the store")
        _kill_workers(server, tracer)
        assert sending.answer() == b""
    finally:
        if tracer.poll() is None:
            tracer.kill()
            tracer.wait(timeout=30)
    assert isinstance(moved, list) and len(moved) == 1
    orphan = moved[0]
    assert _cases(database_url) == 0
    assert canary not in orphan.read_bytes()

    # The server still serves: a third reporter files, with a file, and gets a receipt.
    third = Client(server.url)
    _walk_to_evidence(third, "After-the-kill story: the guards at the mine")
    reply = third.post(
        "/report/evidence",
        {"csrf_token": third.csrf("/report/evidence"), "action": "continue"},
        [("attachments", "mine.txt", b"after the kill", "text/plain")],
    )
    assert reply.status == 200 and "Check your answers" in reply.text, reply.text[:2000]
    assert _send(third)
    assert _cases(database_url) == 1

    # The partial upload survived the workers' restart: young, it may be another worker's
    # upload in flight. Abandoned (two hours old by mtime), the next start sweeps it: `flask
    # purge` starts the app. The orphan in the store is younger than an hour (ctime): kept.
    assert part.exists()
    aged = time.time() - 3 * 3600
    os.utime(part, (aged, aged))
    run_cli(env, log, "purge")
    assert not part.exists()
    assert orphan.exists()
    assert _files_under(data.incoming) == []

    # The next day's purge removes the orphan and keeps the stored case's file.
    engine = create_engine(database_url)
    try:
        with Session(engine) as db:
            assert remove_orphan_files(db, data, now=time.time() + 7200) == 1
            stored = {file_id.hex for file_id in db.scalars(select(StoredFile.id))}
    finally:
        engine.dispose()
    assert not orphan.exists()
    assert len(stored) == 1
    assert [p.name for p in _files_under(data.files)] == sorted(stored)


# --- 2. a full disk under the data dir ---------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.fail(
            "this test mounts a small tmpfs as the data dir and must run as root "
            f"(CI does): mount failed: {mounted.stderr.strip()}"
        )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=False)


def test_a_full_disk_gives_the_not_saved_page_and_stores_nothing(
    tmp_path: Path, small_disk: Path
) -> None:
    data = DataDir(small_disk / "data")
    database_url = f"sqlite:///{tmp_path / 'portal.sqlite3'}"  # off the small disk
    env = _environment(
        data.root,
        TMPDIR=str(tmp_path),
        PORTAL_DATABASE_URL=database_url,
        PORTAL_MAX_UPLOAD_MB="20",  # so that the disk, not the request limit, refuses 12 MiB
        PORTAL_MAX_REQUEST_MB="25",
    )
    log = tmp_path / "server.log"
    run_cli(env, log, "setup", "--recovery-file", str(tmp_path / "recovery.txt"))
    server = ServerProcess("gunicorn", env, log)
    try:
        canary = b"Full-disk-canary-" + secrets.token_hex(8).encode()
        evidence = _evidence(canary, 12 * MIB)
        reporter = Client(server.url)
        _walk_to_evidence(reporter, "Full-disk story: the guards at the port", "fr")

        # Fill the disk to leave 6 MiB free.
        ballast = small_disk / "ballast"
        free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
        with ballast.open("wb") as handle:
            for _ in range((free - 6 * MIB) // MIB):
                handle.write(b"\xff" * MIB)
        free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
        assert 5 * MIB < free < 7 * MIB

        fields = {"csrf_token": reporter.csrf("/report/evidence?lang=fr"), "action": "continue"}
        content_type, body = _multipart(fields, ("port.bin", evidence))
        post = RawPost(reporter, "/report/evidence?lang=fr", content_type, body)
        status, page = post.send_all_and_answer()
        page = html.unescape(page)
        assert status == 503, page[:3000]
        assert 'lang="fr"' in page
        assert "Pas encore enregistré" in page
        assert "Nous n'avons pas pu enregistrer cela pour le moment." in page
        assert "Traceback" not in log.read_text(errors="replace")
        assert _cases(database_url) == 0
        assert _files_under(data.incoming) == []  # the partial ciphertext was removed
        assert _files_under(data.files) == []

        # Space freed, the same filing (same draft, same file) goes through.
        ballast.unlink()
        reply = reporter.post(
            "/report/evidence?lang=fr",
            {**fields},
            [("attachments", "port.bin", evidence, "application/octet-stream")],
        )
        assert reply.status == 200 and "Vérifiez vos réponses" in reply.text, reply.text[:2000]
        assert _send(reporter, "fr")
        assert _cases(database_url) == 1
        assert _files_under(data.incoming) == []
        stored = _files_under(data.files)
        assert len(stored) == 1 and stored[0].stat().st_size > 12 * MIB
        assert canary not in stored[0].read_bytes()
    finally:
        server.stop()


def _fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte with a ballast file; return it."""
    ballast = disk / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        for size in (MIB, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\xff" * size)
    finally:
        os.close(fd)
    assert os.statvfs(disk).f_bavail == 0
    return ballast


def test_a_disk_filling_up_before_sending_keeps_the_evidence_for_a_second_try(
    tmp_path: Path, small_disk: Path
) -> None:
    data = DataDir(small_disk / "data")
    database_url = f"sqlite:///{data.root / 'portal.sqlite3'}"  # the default: on the same disk
    env = _environment(data.root, TMPDIR=str(tmp_path))
    log = tmp_path / "server.log"
    run_cli(env, log, "setup", "--recovery-file", str(tmp_path / "recovery.txt"))
    server = ServerProcess("gunicorn", env, log)
    try:
        canary = b"Full-at-send-canary-" + secrets.token_hex(8).encode()
        evidence = _evidence(canary, 300_000)
        reporter = Client(server.url)
        _walk_to_evidence(reporter, "Full-at-send story: the guards at the camp", "fr")
        reply = reporter.post(
            "/report/evidence?lang=fr",
            {"csrf_token": reporter.csrf("/report/evidence?lang=fr"), "action": "continue"},
            [("attachments", "camp.bin", evidence, "application/octet-stream")],
        )
        assert reply.status == 200 and "Vérifiez vos réponses" in reply.text, reply.text[:2000]
        [staged] = _files_under(data.incoming)

        ballast = _fill(small_disk)
        token = reporter.csrf("/report/check?lang=fr")
        failed = reporter.post("/report/send?lang=fr", {"csrf_token": token})
        page = html.unescape(failed.text)
        assert failed.status == 503, page[:3000]
        assert 'lang="fr"' in page
        assert "Pas encore enregistré" in page
        assert "Revenez en arrière et envoyez-le de nouveau dans quelques minutes." in page
        assert "Traceback" not in log.read_text(errors="replace")
        assert _cases(database_url) == 0
        assert _files_under(data.files) == []  # nothing half-stored in the store
        assert _files_under(data.incoming) == [staged]  # the evidence is back in the draft
        assert canary not in staged.read_bytes()

        # Space freed, the same sending goes through, with the evidence.
        ballast.unlink()
        assert _send(reporter, "fr")
        assert _cases(database_url) == 1
        assert _files_under(data.incoming) == []
        [stored] = _files_under(data.files)
        assert stored.name == staged.name.split(".", 1)[0]
        assert canary not in stored.read_bytes()
    finally:
        server.stop()
