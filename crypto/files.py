"""Streamed file encryption with libsodium's secretstream (XChaCha20-Poly1305).

Plaintext is cut into 64 KiB chunks; the last chunk is padded (``sodium_pad``) so that every
ciphertext chunk has the same size and the file size is hidden to within 64 KiB. Every chunk
carries the file's associated data. The final chunk carries ``TAG_FINAL``: a stream without it,
or with bytes after it, raises :class:`IntegrityError`. Memory use is constant.

Layout: version (1) | secretstream header (24) | chunks of (64 KiB + 17 bytes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO
from uuid import UUID

from nacl import bindings as sodium
from nacl.exceptions import CryptoError as NaclCryptoError

from .encoding import encode_fields
from .errors import FormatError, IntegrityError

FILE_VERSION = 1
CHUNK_BYTES = 64 * 1024
KEY_BYTES = sodium.crypto_secretstream_xchacha20poly1305_KEYBYTES
_HEADER_BYTES = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES
_ABYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES
CIPHER_CHUNK_BYTES = CHUNK_BYTES + _ABYTES
_TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL


def new_file_key() -> bytes:
    """A fresh random key for one file."""
    return os.urandom(KEY_BYTES)


def encrypted_size(plaintext_size: int) -> int:
    """Bytes on disk for a plaintext of this size."""
    chunks = plaintext_size // CHUNK_BYTES + 1
    return 1 + _HEADER_BYTES + chunks * CIPHER_CHUNK_BYTES


class FileEncryptor:
    """Encrypts a stream of writes into ``sink``; call :meth:`finish` exactly once."""

    def __init__(self, key: bytes, associated_data: bytes, sink: BinaryIO) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError("bad file key length")
        self._ad = associated_data
        self._sink = sink
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        header = sodium.crypto_secretstream_xchacha20poly1305_init_push(self._state, key)
        sink.write(bytes([FILE_VERSION]) + header)
        self._buffer = bytearray()
        self._finished = False
        self.plaintext_size = 0

    def write(self, data: bytes) -> int:
        """Buffer ``data``; full chunks are encrypted and written as soon as more follows."""
        if self._finished:
            raise ValueError("stream already finished")
        self._buffer += data
        self.plaintext_size += len(data)
        # Keep at least one byte back so the final chunk is never empty of content or padding.
        while len(self._buffer) > CHUNK_BYTES:
            self._push(bytes(self._buffer[:CHUNK_BYTES]), _TAG_MESSAGE)
            del self._buffer[:CHUNK_BYTES]
        return len(data)

    def finish(self) -> None:
        """Pad and write the final chunk(s)."""
        if self._finished:
            raise ValueError("stream already finished")
        padded = sodium.sodium_pad(bytes(self._buffer), CHUNK_BYTES)
        self._buffer.clear()
        for offset in range(0, len(padded), CHUNK_BYTES):
            last = offset + CHUNK_BYTES >= len(padded)
            self._push(padded[offset : offset + CHUNK_BYTES], _TAG_FINAL if last else _TAG_MESSAGE)
        self._finished = True

    def _push(self, chunk: bytes, tag: int) -> None:
        self._sink.write(
            sodium.crypto_secretstream_xchacha20poly1305_push(self._state, chunk, self._ad, tag)
        )


def _read_exact(source: BinaryIO, size: int) -> bytes:
    parts = []
    remaining = size
    while remaining:
        part = source.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def decrypt_stream(key: bytes, associated_data: bytes, source: BinaryIO) -> Iterator[bytes]:
    """Yield plaintext chunks; raise :class:`IntegrityError` on any tampering or truncation.

    Chunks already yielded were authenticated, but a caller streaming to a client must treat a
    later exception as fatal (abort the connection) rather than end the response cleanly.
    """
    head = _read_exact(source, 1 + _HEADER_BYTES)
    if len(head) != 1 + _HEADER_BYTES or head[0] != FILE_VERSION:
        raise FormatError("not an encrypted file of a known version")
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    try:
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, head[1:], key)
    except NaclCryptoError as exc:
        raise IntegrityError("bad stream header") from exc
    while True:
        chunk = _read_exact(source, CIPHER_CHUNK_BYTES)
        if len(chunk) != CIPHER_CHUNK_BYTES:
            raise IntegrityError("stream truncated")
        try:
            plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
                state, chunk, associated_data
            )
        except NaclCryptoError as exc:
            raise IntegrityError("stream chunk failed authentication") from exc
        if tag == _TAG_FINAL:
            if source.read(1):
                raise IntegrityError("data after the end of the stream")
            try:
                tail = bytes(sodium.sodium_unpad(plain, CHUNK_BYTES))
            except (NaclCryptoError, ValueError) as exc:
                raise IntegrityError("bad stream padding") from exc
            if tail:
                yield tail
            return
        if tag != _TAG_MESSAGE:
            raise IntegrityError("unexpected stream tag")
        yield bytes(plain)


def file_associated_data(file_id: UUID) -> bytes:
    """Associated data binding an encrypted file to its identifier."""
    return encode_fields([FILE_VERSION, "files", "content", file_id])
