"""Compartment key pairs and the wraps that grant them.

A compartment is an X25519 key pair. Access to it is a *wrap* of its private key: sealed to an
account's or the recovery key's public key (a grant), or encrypted under a symmetric key derived
from a password, receipt or session token. Every wrap says what it is: (version, purpose,
compartment id, private key). After opening, the reader checks those fields and that the public
key derived from the private key equals the one it expected.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from . import symmetric
from .encoding import decode_fields, encode_fields
from .errors import FormatError, IntegrityError
from .hashing import constant_time_equal

WRAP_VERSION = 1
PUBLIC_KEY_BYTES = 32


class WrapPurpose(StrEnum):
    """What a wrap is for; checked after every unwrap."""

    GRANT = "grant"  # compartment key sealed to an account
    RECOVERY = "recovery"  # compartment key sealed to the offline recovery key
    RECEIPT = "receipt"  # case compartment key under a receipt-derived key
    ACCOUNT = "account"  # an account's own private key under its password-derived key
    SESSION = "session"  # an unlocked key under a session token


def generate_keypair() -> PrivateKey:
    """A fresh X25519 key pair."""
    return PrivateKey.generate()


def public_bytes(key: PrivateKey | PublicKey) -> bytes:
    """The 32 raw bytes of the public half."""
    public = key.public_key if isinstance(key, PrivateKey) else key
    return bytes(public)


def _payload(purpose: WrapPurpose, owner_id: UUID, private_key: PrivateKey) -> bytes:
    return encode_fields([WRAP_VERSION, str(purpose), owner_id, bytes(private_key)])


def _check_payload(
    payload: bytes, purpose: WrapPurpose, owner_id: UUID, expected_public: bytes
) -> PrivateKey:
    fields = decode_fields(payload)
    if len(fields) != 4:
        raise FormatError("malformed wrap payload")
    version, found_purpose, found_owner, raw_private = fields
    if version != WRAP_VERSION or found_purpose != str(purpose):
        raise IntegrityError("wrap is not of the expected kind")
    if not isinstance(found_owner, bytes) or not constant_time_equal(found_owner, owner_id.bytes):
        raise IntegrityError("wrap belongs to another compartment")
    if not isinstance(raw_private, bytes) or len(raw_private) != PrivateKey.SIZE:
        raise FormatError("malformed private key")
    private_key = PrivateKey(raw_private)
    if not constant_time_equal(public_bytes(private_key), expected_public):
        raise IntegrityError("unwrapped key does not match the expected public key")
    return private_key


def seal_grant(
    private_key: PrivateKey,
    owner_id: UUID,
    recipient: PublicKey | bytes,
    purpose: WrapPurpose = WrapPurpose.GRANT,
) -> bytes:
    """Seal a compartment's private key to a recipient's public key (anonymous sender)."""
    recipient_key = recipient if isinstance(recipient, PublicKey) else PublicKey(recipient)
    sealed = SealedBox(recipient_key).encrypt(_payload(purpose, owner_id, private_key))
    return bytes([WRAP_VERSION]) + bytes(sealed)


def open_grant(
    wrap: bytes,
    recipient_private: PrivateKey,
    owner_id: UUID,
    expected_public: bytes,
    purpose: WrapPurpose = WrapPurpose.GRANT,
) -> PrivateKey:
    """Open a sealed grant and check that it is the one expected."""
    if len(wrap) < 1 or wrap[0] != WRAP_VERSION:
        raise FormatError("unknown wrap version")
    try:
        payload = SealedBox(recipient_private).decrypt(wrap[1:])
    except NaclCryptoError as exc:
        raise IntegrityError("grant does not open with this key") from exc
    return _check_payload(payload, purpose, owner_id, expected_public)


def _symmetric_ad(purpose: WrapPurpose, owner_id: UUID, context: bytes) -> bytes:
    return encode_fields([WRAP_VERSION, "symmetric-wrap", str(purpose), owner_id, context])


def wrap_under_key(
    private_key: PrivateKey,
    owner_id: UUID,
    key: bytes,
    purpose: WrapPurpose,
    context: bytes = b"",
) -> bytes:
    """Encrypt a private key under a 32-byte symmetric key; ``context`` is bound as well."""
    ciphertext = symmetric.encrypt(
        key, _payload(purpose, owner_id, private_key), _symmetric_ad(purpose, owner_id, context)
    )
    return bytes([WRAP_VERSION]) + ciphertext


def unwrap_under_key(
    wrap: bytes,
    owner_id: UUID,
    key: bytes,
    purpose: WrapPurpose,
    expected_public: bytes,
    context: bytes = b"",
) -> PrivateKey:
    """Reverse :func:`wrap_under_key`, checking every binding."""
    if len(wrap) < 1 or wrap[0] != WRAP_VERSION:
        raise FormatError("unknown wrap version")
    payload = symmetric.decrypt(key, wrap[1:], _symmetric_ad(purpose, owner_id, context))
    return _check_payload(payload, purpose, owner_id, expected_public)
