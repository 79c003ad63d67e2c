"""Public-side figures against a real server process on loopback (SQLite, production Argon2id).

- page weight: each public page plus its stylesheet, gzip-compressed;
- submission latency: median and slowest of ten filings of a complaint (with a 1 MB attachment);
- upload memory: the server's peak resident memory after streaming a 10 MiB and an 80 MiB
  attachment (constant memory means the second barely differs from the first).
"""

from __future__ import annotations

import gzip
import http.client
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(data_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    env = {**os.environ, "PORTAL_DATA_DIR": str(data_dir)}
    env.pop("PORTAL_DATABASE_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run(
        [*flask, "setup", "--recovery-file", str(data_dir.parent / "recovery.txt")],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    server = subprocess.Popen(
        [*flask, "run", "--port", str(port), "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
            return server, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _form_session(port: int) -> tuple[str, str]:
    """A CSRF token and the cookie it belongs to."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/report") as response:
        cookie = response.headers["Set-Cookie"].split(";", 1)[0]
        token = CSRF.search(response.read().decode()).group(1)
    return token, cookie


def _file(port: int, size: int, chunk: int = 1024 * 1024) -> float:
    """File a complaint streaming a ``size``-byte attachment; returns seconds taken."""
    token, cookie = _form_session(port)
    boundary = "bench" + secrets.token_hex(8)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="what_happened"\r\n\r\n'
        "Benchmark complaint text.\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="country"\r\n\r\n\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
        'filename="evidence.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    connection.putrequest("POST", "/report")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    connection.putheader("Cookie", cookie)
    connection.endheaders()
    connection.send(head)
    block = os.urandom(chunk)
    sent = 0
    while sent < size:
        piece = block[: min(chunk, size - sent)]
        connection.send(piece)
        sent += len(piece)
    connection.send(tail)
    response = connection.getresponse()
    body = response.read().decode()
    elapsed = time.perf_counter() - start
    connection.close()
    if response.status != 200 or 'id="receipt"' not in body:
        raise RuntimeError(f"filing failed: {response.status}")
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server, port = _start(Path(tmp) / "data")
        try:
            print("Page weight (gzip -6, page + stylesheet):")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/portal.css") as r:
                css = len(gzip.compress(r.read(), 6))
            for path in ("/", "/report", "/follow-up"):
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as r:
                    page = len(gzip.compress(r.read(), 6))
                print(f"  {path:<12} {page:>6} B page + {css} B css = {page + css:>6} B")

            samples = [_file(port, 1_000_000) for _ in range(10)]
            samples.sort()
            print("Submission latency, 1 MB attachment, 10 filings one after another:")
            print(f"  median {statistics.median(samples):.3f} s, slowest {samples[-1]:.3f} s")

            print("Server peak resident memory while streaming one large attachment:")
            before = _peak_rss_kib(server.pid)
            for size_mib in (10, 80):
                _file(port, size_mib * 1024 * 1024)
                peak = _peak_rss_kib(server.pid)
                print(
                    f"  after {size_mib:>3} MiB: peak {peak / 1024:.1f} MiB "
                    f"(started at {before / 1024:.1f} MiB)"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
