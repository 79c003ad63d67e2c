"""The data directory: SQLite file, encrypted file store and the server's own key files.

Key files are created with mode 0600 on first use and never logged or put in the database.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crypto import new_server_mac_key

# A file name, not a secret.
SECRET_KEY_FILE = "secret_key"  # noqa: S105  # nosec B105
SERVER_MAC_KEY_FILE = "server_mac_key"


@dataclass(frozen=True)
class DataDir:
    """Paths inside the data directory."""

    root: Path

    @property
    def files(self) -> Path:
        return self.root / "files"

    @property
    def incoming(self) -> Path:
        """Encrypted uploads not yet attached to a stored case."""
        return self.root / "incoming"

    def prepare(self) -> None:
        """Create the directories (mode 0700) if missing."""
        for path in (self.root, self.files, self.incoming):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)

    def secret_key(self) -> bytes:
        """Flask's signing key, generated on first use."""
        return _read_or_create(self.root / SECRET_KEY_FILE, lambda: secrets.token_bytes(32))

    def server_mac_key(self) -> bytes:
        """The key that authenticates public keys and grants held in the database."""
        return _read_or_create(self.root / SERVER_MAC_KEY_FILE, new_server_mac_key)

    def file_path(self, file_id_hex: str) -> Path:
        """Where an encrypted file lives, fanned out over 256 folders."""
        return self.files / file_id_hex[:2] / file_id_hex


def _read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """Read a 32-byte key file, or create it atomically (mode 0600) if it does not exist."""
    if not path.exists():
        value = make()
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(value)
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another process got there first
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    data = path.read_bytes()
    if len(data) != 32:
        raise RuntimeError(f"{path} is damaged: expected 32 bytes")
    return data
