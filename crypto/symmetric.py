"""Authenticated symmetric encryption: XChaCha20-Poly1305 with associated data.

Used for keys wrapped under a derived key (account keys, receipt wraps, sessions) and by
:mod:`crypto.records` for record bodies. Nonces are random (192 bits), never chosen by callers.
"""

from __future__ import annotations

from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.secret import Aead

from .errors import FormatError, IntegrityError

KEY_BYTES = Aead.KEY_SIZE
OVERHEAD = Aead.NONCE_SIZE + Aead.MACBYTES


def encrypt(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """Encrypt and authenticate; the random nonce is prepended to the output."""
    return bytes(Aead(key).encrypt(plaintext, associated_data))


def decrypt(key: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
    """Authenticate and decrypt, or raise :class:`IntegrityError`."""
    if len(ciphertext) < OVERHEAD:
        raise FormatError("ciphertext too short")
    try:
        return bytes(Aead(key).decrypt(ciphertext, associated_data))
    except NaclCryptoError as exc:
        raise IntegrityError("decryption failed") from exc
