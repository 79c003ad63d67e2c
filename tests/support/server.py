"""Run the portal as a real server process (optionally under strace) for system tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRACED_CALLS = (
    "write,pwrite64,writev,pwritev,pwritev2,sendto,sendmsg,sendmmsg,"
    "sendfile,copy_file_range,splice,vmsplice,tee"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def flask_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def run_cli(env: dict[str, str], log: Path, *args: str, stdin: str = "") -> str:
    """Run a ``flask --app wsgi`` command; its output is appended to ``log`` and returned."""
    result = subprocess.run(
        flask_command(*args),
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    with log.open("a", encoding="utf-8") as handle:
        handle.write(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class ServerProcess:
    """A server on loopback; stop() ends it (and strace, if tracing) cleanly."""

    def __init__(
        self,
        kind: str,
        env: dict[str, str],
        log: Path,
        trace: Path | None = None,
        workers: int = 2,
        target: str = "wsgi:app",
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if kind == "flask":
            command = flask_command(
                "run", "--host", "127.0.0.1", "--port", str(self.port), "--no-reload"
            )
        elif kind == "gunicorn":
            command = [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                target,
            ]
        elif kind == "waitress":
            command = [
                sys.executable,
                "-m",
                "waitress",
                "--listen",
                f"127.0.0.1:{self.port}",
                target,
            ]
        else:
            raise ValueError(kind)
        if trace is not None:
            command = [
                "strace",
                "-f",
                "-qq",
                "-y",
                "-xx",
                "-s",
                "1000000000",
                "-e",
                f"trace={TRACED_CALLS}",
                "-o",
                str(trace),
                *command,
            ]
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited during start-up")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        # Stop the server itself first, so strace records everything up to its exit.
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self._log.close()
