"""A PostgreSQL cluster of a test's own (tests/support/pg_cluster.sh), to stop and start."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.server import free_port

SCRIPT = Path(__file__).resolve().parent / "pg_cluster.sh"


class ThrowawayCluster:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="portal-pg-", dir="/tmp"))
        os.chmod(self.dir, 0o755)  # the postgres user runs it when the tests run as root
        self.port = free_port()
        self.url = ""

    def start(self) -> str:
        try:
            done = subprocess.run(
                ["bash", str(SCRIPT), "start", str(self.dir), str(self.port)],
                check=True,
                capture_output=True,
                text=True,
            )
        except (subprocess.CalledProcessError, FileNotFoundError) as exc:
            pytest.fail(f"this test needs PostgreSQL (apt-get install postgresql): {exc}")
        self.url = done.stdout.strip()
        return self.url

    def stop(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "stop", str(self.dir)], check=True)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
