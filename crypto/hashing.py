"""Keyed BLAKE2b: subkey derivation, lookup tokens, MACs and key commitments.

Every use names a distinct ``person`` label (at most 16 bytes), so outputs for one purpose
are useless for another.
"""

from __future__ import annotations

import hmac

from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from .errors import IntegrityError

# Labels in one place: a new purpose gets a new label, never a reused one.
LABEL_RECEIPT_LOOKUP = b"rcpt-lookup"
LABEL_RECEIPT_WRAP = b"rcpt-wrap"
LABEL_ACCOUNT_KEK = b"acct-kek"
LABEL_SESSION_ID = b"sid"
LABEL_SESSION_WRAP = b"swrap"
LABEL_KEY_COMMIT = b"key-commit"
LABEL_SERVER_MAC = b"server-mac"
LABEL_RECOVERY_CHECK = b"recovery-check"
LABEL_DRAFT_ID = b"draft-id"
LABEL_DRAFT_KEY = b"draft-key"
LABEL_RECOVERY_CODE = b"recovery-code"
LABEL_AUDIT_CHAIN = b"audit-chain"


def keyed_hash(key: bytes, label: bytes, data: bytes = b"", size: int = 32) -> bytes:
    """BLAKE2b of ``data`` under ``key``, personalised with ``label``."""
    if not 1 <= len(label) <= 16:
        raise ValueError("label must be 1 to 16 bytes")
    return blake2b(
        data,
        digest_size=size,
        key=key,
        person=label.ljust(16, b"\0"),
        encoder=RawEncoder,
    )


def derive_subkey(key: bytes, label: bytes, size: int = 32) -> bytes:
    """A subkey of ``key`` for the purpose named by ``label``."""
    return keyed_hash(key, label, b"", size)


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare two byte strings without leaking where they differ."""
    return hmac.compare_digest(a, b)


def check_tag(expected: bytes, actual: bytes) -> None:
    """Raise :class:`IntegrityError` unless the tags are equal."""
    if not constant_time_equal(expected, actual):
        raise IntegrityError("authentication tag mismatch")
