"""Uploads are encrypted as they stream in: plaintext never reaches the disk.

Werkzeug spools large request bodies to a temporary file. :class:`PortalRequest` replaces that
spool with :class:`EncryptingUpload`, which encrypts each 64 KiB chunk under a fresh file key as
it arrives and writes only ciphertext, into the data dir's ``incoming`` folder. Uploads that no
stored case claims are deleted when the request ends (and by the sweep at start-up).
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import IO, Any

from flask import Request, current_app, g

import crypto
from crypto.files import file_associated_data

PART_SUFFIX = ".part"  # being received
STAGED_SUFFIX = ".staged"  # received, waiting in a draft for its complaint to be sent


class EncryptingUpload:
    """A write-only file object that encrypts into ``directory``; reading is refused."""

    def __init__(self, directory: Path, content_type: str | None, filename: str | None) -> None:
        self.file_id = uuid.uuid4()
        self.key = crypto.new_file_key()
        self.content_type = content_type or "application/octet-stream"
        self.path = directory / f"{self.file_id.hex}{PART_SUFFIX}"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._sink: IO[bytes] = os.fdopen(fd, "wb")
        self._encryptor = crypto.FileEncryptor(
            self.key, file_associated_data(self.file_id), self._sink
        )
        self.closed_for_writing = False

    # The subset of the file protocol Werkzeug's multipart parser uses.
    def write(self, data: bytes) -> int:
        return self._encryptor.write(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        # Werkzeug seeks to 0 when a part ends: that is where the stream is finished.
        if offset == 0 and whence == 0:
            self.finish()
            return 0
        raise OSError("an encrypting upload cannot seek")

    def tell(self) -> int:
        return self._encryptor.plaintext_size

    def read(self, *_args: Any) -> bytes:
        raise OSError("an encrypting upload cannot be read back as plaintext")

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return not self.closed_for_writing

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.finish()

    @property
    def size(self) -> int:
        """Plaintext bytes received."""
        return self._encryptor.plaintext_size

    def finish(self) -> None:
        if not self.closed_for_writing:
            self._encryptor.finish()
            self._sink.flush()
            os.fsync(self._sink.fileno())
            self._sink.close()
            self.closed_for_writing = True

    def plaintext(self, limit: int) -> bytes | None:
        """The whole upload decrypted in memory, or None when it is over ``limit`` bytes: for the
        small files the server reads itself (a registry's CSV), never a reporter's evidence."""
        self.finish()
        if self.size > limit:
            return None
        with self.path.open("rb") as source:
            chunks = crypto.decrypt_stream(self.key, file_associated_data(self.file_id), source)
            return b"".join(chunks)

    def discard(self) -> None:
        """Remove the ciphertext if it is still here (a draft or a case has moved it away)."""
        if not self.closed_for_writing:
            self._sink.close()
            self.closed_for_writing = True
        self.path.unlink(missing_ok=True)


class PortalRequest(Request):
    """Flask's request, with uploads encrypted on arrival."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        directory: Path = current_app.extensions["portal_data_dir"].incoming
        upload = EncryptingUpload(directory, content_type, filename)
        g.setdefault("pending_uploads", []).append(upload)
        return upload  # type: ignore[return-value]


def discard_unclaimed_uploads(_exc: BaseException | None = None) -> None:
    """Teardown: delete every upload of this request that no case claimed."""
    for upload in g.pop("pending_uploads", []):
        upload.discard()


def sweep_incoming(directory: Path, older_than_seconds: int = 2 * 3600) -> int:
    """Delete abandoned uploads: partial ones (a worker killed mid-upload) and staged ones whose
    draft expired (drafts live an hour after their last change)."""
    removed = 0
    cutoff = time.time() - older_than_seconds
    for path in [*directory.glob(f"*{PART_SUFFIX}"), *directory.glob(f"*{STAGED_SUFFIX}")]:
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
