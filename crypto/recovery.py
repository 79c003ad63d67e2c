"""The offline recovery key.

Every compartment's private key is also sealed to the recovery public key. The private half is
shown once at setup as a string of base32 groups with a checksum, typed back by the operator,
and never stored on the server.

Secret layout before encoding: version (1) | private key (32) | checksum (4).
"""

from __future__ import annotations

import base64

from nacl.public import PrivateKey

from .errors import WrongSecretError
from .hashing import LABEL_RECOVERY_CHECK, constant_time_equal, keyed_hash
from .keys import generate_keypair

RECOVERY_VERSION = 1
_PREFIX = "PRK1"
_GROUP = 4


def _checksum(version: int, raw: bytes) -> bytes:
    return keyed_hash(bytes([version]), LABEL_RECOVERY_CHECK, raw, size=4)


def encode_recovery_secret(private_key: PrivateKey) -> str:
    """A printable form of the recovery private key, with a checksum, grouped for reading."""
    raw = bytes(private_key)
    payload = bytes([RECOVERY_VERSION]) + raw + _checksum(RECOVERY_VERSION, raw)
    text = base64.b32encode(payload).decode("ascii").rstrip("=")
    groups = [text[i : i + _GROUP] for i in range(0, len(text), _GROUP)]
    return "-".join([_PREFIX, *groups])


def generate_recovery_key() -> tuple[PrivateKey, str]:
    """A new recovery key pair and the secret string of its private half."""
    private_key = generate_keypair()
    return private_key, encode_recovery_secret(private_key)


def parse_recovery_secret(text: str) -> PrivateKey:
    """Parse what an operator typed; raise :class:`WrongSecretError` on any typo."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    if not cleaned.startswith(_PREFIX):
        raise WrongSecretError("not a recovery secret")
    body = cleaned[len(_PREFIX) :]
    # base32 confusables typed by people
    body = body.replace("0", "O").replace("1", "I").replace("8", "B")
    try:
        payload = base64.b32decode(body + "=" * (-len(body) % 8))
    except ValueError as exc:
        raise WrongSecretError("recovery secret is malformed") from exc
    if len(payload) != 37 or payload[0] != RECOVERY_VERSION:
        raise WrongSecretError("recovery secret is malformed")
    if base64.b32encode(payload).decode("ascii").rstrip("=") != body:
        raise WrongSecretError("recovery secret is malformed")  # non-canonical last character
    raw, checksum = payload[1:33], payload[33:]
    if not constant_time_equal(checksum, _checksum(payload[0], raw)):
        raise WrongSecretError("recovery secret checksum does not match")
    return PrivateKey(raw)
