"""Session wrapping: an unlocked key held encrypted under a secret only the cookie carries.

The cookie holds 32 random bytes T. The server stores BLAKE2b(T, "sid") to find the session and
the unlocked private key encrypted under BLAKE2b(T, "swrap"), bound to the owner and the expiry.
Neither the row nor the cookie alone opens anything.
"""

from __future__ import annotations

import os
from uuid import UUID

from nacl.bindings import sodium_pad, sodium_unpad
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey

from . import symmetric
from .encoding import encode_fields
from .errors import FormatError, IntegrityError
from .hashing import (
    LABEL_DRAFT_ID,
    LABEL_DRAFT_KEY,
    LABEL_SESSION_ID,
    LABEL_SESSION_WRAP,
    derive_subkey,
)
from .keys import WrapPurpose, unwrap_under_key, wrap_under_key

TOKEN_BYTES = 32


def new_session_token() -> bytes:
    """32 fresh random bytes for a cookie."""
    return os.urandom(TOKEN_BYTES)


def session_lookup_id(token: bytes) -> bytes:
    """The stored identifier of the session the token belongs to."""
    _check_token(token)
    return derive_subkey(token, LABEL_SESSION_ID)


def _check_token(token: bytes) -> None:
    if len(token) != TOKEN_BYTES:
        raise FormatError("bad session token")


def _context(kind: str, expires_at: int) -> bytes:
    return encode_fields(["session", kind, expires_at])


def wrap_session_key(
    token: bytes, private_key: PrivateKey, owner_id: UUID, kind: str, expires_at: int
) -> bytes:
    """Encrypt ``private_key`` for the session; ``owner_id``, ``kind`` and expiry are bound."""
    _check_token(token)
    return wrap_under_key(
        private_key,
        owner_id,
        derive_subkey(token, LABEL_SESSION_WRAP),
        WrapPurpose.SESSION,
        _context(kind, expires_at),
    )


def unwrap_session_key(
    token: bytes,
    wrapped: bytes,
    owner_id: UUID,
    kind: str,
    expires_at: int,
    expected_public: bytes,
) -> PrivateKey:
    """Recover the session's key; raises IntegrityError if anything does not match."""
    _check_token(token)
    return unwrap_under_key(
        wrapped,
        owner_id,
        derive_subkey(token, LABEL_SESSION_WRAP),
        WrapPurpose.SESSION,
        expected_public,
        _context(kind, expires_at),
    )


DRAFT_VERSION = 1
_DRAFT_PAD = 1024


def draft_lookup_id(token: bytes) -> bytes:
    """The stored identifier of the draft a cookie token belongs to."""
    _check_token(token)
    return derive_subkey(token, LABEL_DRAFT_ID)


def seal_draft(token: bytes, content: bytes) -> bytes:
    """Encrypt a filing in progress under a key only the cookie token derives (padded to 1 KiB)."""
    _check_token(token)
    ad = encode_fields([DRAFT_VERSION, "draft", draft_lookup_id(token)])
    key = derive_subkey(token, LABEL_DRAFT_KEY)
    return bytes([DRAFT_VERSION]) + symmetric.encrypt(key, sodium_pad(content, _DRAFT_PAD), ad)


def open_draft(token: bytes, blob: bytes) -> bytes:
    """Decrypt a draft sealed by :func:`seal_draft` with the same token."""
    _check_token(token)
    if len(blob) < 1 or blob[0] != DRAFT_VERSION:
        raise FormatError("not a draft of a known version")
    ad = encode_fields([DRAFT_VERSION, "draft", draft_lookup_id(token)])
    padded = symmetric.decrypt(derive_subkey(token, LABEL_DRAFT_KEY), blob[1:], ad)
    try:
        return bytes(sodium_unpad(padded, _DRAFT_PAD))
    except (NaclCryptoError, ValueError) as exc:
        raise IntegrityError("bad draft padding") from exc
