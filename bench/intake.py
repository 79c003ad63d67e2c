"""Public-side budgets, measured against real server processes on loopback (SQLite).

- page weight: every public page in every language, HTML plus its stylesheet and script,
  gzip-compressed (budget: 14 KB each);
- render time: server time to render each public page, median (budget: 20 ms), measured
  in-process so the network is not counted;
- submission: a complaint without attachments, production Argon2id included, median of
  20 filings (budget: 0.4 s);
- upload memory: the server's peak resident memory before and after streaming a 200 MB
  attachment into the evidence step (budget: growth under 32 MB).
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

from tests.support.filing import DEFAULT_ANSWERS
from tests.support.http import Client

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "fr", "es", "ar", "sw", "pt")
STEPS = ("who", "what", "safety", "remedy", "contact")
ASSET = re.compile(r'(?:href|src)="(/assets/[^"]+)"')
MB = 1000 * 1000


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(data_dir: Path, **env_extra: str) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(PORTAL_DATA_DIR=str(data_dir), **env_extra)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run(
        [*flask, "setup", "--recovery-file", str(data_dir.parent / f"{data_dir.name}.rk")],
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
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/", timeout=1).close()
            return server, base
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def _memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _fill_steps(client: Client, lang: str, visit: dict[str, str] | None = None) -> None:
    query = f"?lang={lang}"
    client.post(f"/report{query}", {"csrf_token": client.csrf(f"/report{query}")})
    for step in STEPS:
        if visit is not None:
            visit[f"/report/{step}"] = client.get(f"/report/{step}{query}").text
        fields: dict[str, str | list[str]] = {"csrf_token": client.csrf(f"/report/{step}{query}")}
        fields.update(
            {k: v if isinstance(v, list) else str(v) for k, v in DEFAULT_ANSWERS[step].items()}
        )
        client.post(f"/report/{step}{query}", fields)


def page_weight(base: str) -> int:
    print("Page weight, gzip -6, page + stylesheet + script (budget 14 KB):")
    worst = 0
    for lang in LANGUAGES:
        client = Client(base)
        pages = {
            p: client.get(f"{p}?lang={lang}").text
            for p in ("/", "/staying-safe", "/follow-up", "/report")
        }
        _fill_steps(client, lang, pages)
        pages["/report/evidence"] = client.get(f"/report/evidence?lang={lang}").text
        pages["/report/check"] = client.get(f"/report/check?lang={lang}").text
        sizes = {}
        for path, html in pages.items():
            assets = sum(
                len(gzip.compress(client.get(a).body, 6)) for a in set(ASSET.findall(html))
            )
            sizes[path] = len(gzip.compress(html.encode(), 6)) + assets
        largest = max(sizes, key=sizes.__getitem__)
        worst = max(worst, sizes[largest])
        print(
            f"  {lang}: largest {largest} {sizes[largest] / 1000:.1f} KB; "
            f"home {sizes['/'] / 1000:.1f} KB"
        )
    return worst


def render_time() -> None:
    """Server time per public page, in-process (no network), median of 50 renders."""
    from crypto import PRODUCTION
    from portal import Settings, create_app

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/bench.sqlite3", argon2=PRODUCTION
        )
        app = create_app(settings)
        from portal import migrate

        migrate.upgrade(app.extensions["portal_db"].engine)
        client = app.test_client()
        print("Server time to render a public page, median of 50 (budget 20 ms):")
        for path in ("/?lang=ar", "/report?lang=sw", "/follow-up?lang=fr", "/staying-safe?lang=pt"):
            samples = []
            for _ in range(50):
                start = time.perf_counter()
                response = client.get(path)
                samples.append(time.perf_counter() - start)
                assert response.status_code == 200
            print(f"  {path:<24} {statistics.median(samples) * 1000:6.1f} ms")


def submission_latency(base: str, runs: int = 20) -> None:
    samples = []
    for _ in range(runs):
        client = Client(base)
        _fill_steps(client, "en")
        token = client.csrf("/report/check")
        start = time.perf_counter()
        reply = client.post("/report/send", {"csrf_token": token})
        samples.append(time.perf_counter() - start)
        assert 'id="receipt"' in reply.text
    samples.sort()
    print(f"Submission without attachments, Argon2id included, {runs} filings (budget 0.4 s):")
    print(f"  median {statistics.median(samples):.3f} s, slowest {samples[-1]:.3f} s")


def _stream_upload(base: str, client: Client, size: int) -> None:
    token = client.csrf("/report/evidence")
    cookie = "; ".join(f"{c.name}={c.value}" for c in client.cookies)
    boundary = "bench" + secrets.token_hex(8)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="action"\r\n\r\nadd\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
        'filename="recording.wav"\r\nContent-Type: audio/wav\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=600)
    connection.putrequest("POST", "/report/evidence")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    connection.putheader("Cookie", cookie)
    connection.endheaders()
    connection.send(head)
    block = os.urandom(1024 * 1024)
    sent = 0
    while sent < size:
        piece = block[: min(len(block), size - sent)]
        connection.send(piece)
        sent += len(piece)
    connection.send(tail)
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status not in (302, 303):
        raise RuntimeError(f"upload refused: {response.status}")


def upload_memory(tmp: Path) -> None:
    server, base = _start(tmp / "upload", PORTAL_MAX_UPLOAD_MB="250", PORTAL_MAX_REQUEST_MB="260")
    try:
        warm = Client(base)
        _fill_steps(warm, "en")
        warm.post("/report/send", {"csrf_token": warm.csrf("/report/check")})  # Argon2id's peak
        client = Client(base)
        _fill_steps(client, "en")
        before = _memory_kib(server.pid, "VmHWM")
        start = time.perf_counter()
        _stream_upload(base, client, 200 * MB)
        elapsed = time.perf_counter() - start
        after = _memory_kib(server.pid, "VmHWM")
        print("Streaming a 200 MB attachment into the evidence step (budget: growth < 32 MB):")
        print(
            f"  peak resident memory {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB "
            f"after: growth {(after - before) / 1024:.1f} MiB ({elapsed:.1f} s)"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server, base = _start(Path(tmp) / "data")
        try:
            page_weight(base)
            submission_latency(base)
        finally:
            server.terminate()
            server.wait(timeout=30)
        render_time()
        upload_memory(Path(tmp))


if __name__ == "__main__":
    main()
