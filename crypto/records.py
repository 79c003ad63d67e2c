"""Hybrid records: the one place where content is encrypted to a compartment.

A record is sealed with a fresh random record key (XChaCha20-Poly1305 over the padded content);
the record key is sealed to the compartment's public key; a key-commitment tag binds the record
key to this ciphertext's context. Associated data is (format version, table, column, case id,
record id): a ciphertext moved to any other place fails to open.

Layout: version (1) | sealed record key (80) | commitment (32) | nonce + ciphertext + tag.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from uuid import UUID

from nacl.bindings import sodium_pad, sodium_unpad
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from . import symmetric
from .encoding import encode_fields
from .errors import FormatError, IntegrityError
from .hashing import LABEL_KEY_COMMIT, check_tag, keyed_hash

RECORD_VERSION = 1
PAD_BLOCK = 512
# A sealed box adds an ephemeral public key (32) and a tag (16) to the 32-byte record key.
_SEALED_KEY_BYTES = symmetric.KEY_BYTES + 32 + 16
_COMMIT_BYTES = 32
_HEADER_BYTES = 1 + _SEALED_KEY_BYTES + _COMMIT_BYTES


@dataclass(frozen=True)
class RecordContext:
    """Where a ciphertext belongs. Every field is bound into its associated data."""

    table: str
    column: str
    case_id: UUID
    record_id: UUID

    def associated_data(self) -> bytes:
        return encode_fields(
            [RECORD_VERSION, self.table, self.column, self.case_id, self.record_id]
        )


def seal_record(public_key: PublicKey | bytes, context: RecordContext, content: bytes) -> bytes:
    """Encrypt ``content`` so that only the holder of the compartment's private key reads it."""
    recipient = public_key if isinstance(public_key, PublicKey) else PublicKey(public_key)
    record_key = os.urandom(symmetric.KEY_BYTES)
    ad = context.associated_data()
    sealed_key = bytes(SealedBox(recipient).encrypt(record_key))
    commitment = keyed_hash(record_key, LABEL_KEY_COMMIT, ad)
    body = symmetric.encrypt(record_key, sodium_pad(content, PAD_BLOCK), ad)
    return bytes([RECORD_VERSION]) + sealed_key + commitment + body


def open_record(private_key: PrivateKey, context: RecordContext, blob: bytes) -> bytes:
    """Decrypt a record sealed by :func:`seal_record` for exactly this context."""
    if len(blob) < _HEADER_BYTES + symmetric.OVERHEAD or blob[0] != RECORD_VERSION:
        raise FormatError("not a record of a known version")
    sealed_key = blob[1 : 1 + _SEALED_KEY_BYTES]
    commitment = blob[1 + _SEALED_KEY_BYTES : _HEADER_BYTES]
    ad = context.associated_data()
    try:
        record_key = SealedBox(private_key).decrypt(sealed_key)
    except NaclCryptoError as exc:
        raise IntegrityError("record key does not open") from exc
    check_tag(keyed_hash(record_key, LABEL_KEY_COMMIT, ad), commitment)
    padded = symmetric.decrypt(record_key, blob[_HEADER_BYTES:], ad)
    try:
        return bytes(sodium_unpad(padded, PAD_BLOCK))
    except (NaclCryptoError, ValueError) as exc:
        raise FormatError("bad record padding") from exc
