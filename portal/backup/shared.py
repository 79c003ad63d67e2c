"""What creating and restoring share: the error for the operator, the key files, and private
files written safely."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import IO

from ..datadir import SECRET_KEY_FILE, SERVER_MAC_KEY_FILE

KEY_FILES = (SERVER_MAC_KEY_FILE, SECRET_KEY_FILE)
KEY_SIZE = 32
_CHUNK = 1024 * 1024

Say = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore refused or failed; the message is for the operator."""


def _read_key(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(data) != KEY_SIZE:
        raise BackupError(f"{path} is damaged: expected {KEY_SIZE} bytes.")
    return data


def _create_private(path: Path) -> IO[bytes]:
    """A new file, mode 0600, open for writing; refuses to replace anything."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _fsync_directory(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _midnight(day: date) -> float:
    return datetime.combine(day, time(), tzinfo=UTC).timestamp()
