"""Receipts: the reporter's only way back to a case.

20 decimal digits, shown as five groups of four. 19 are random (about 63 bits); the last is a
Damm check digit, so a typo is refused before any key derivation. The receipt is never stored:
Argon2id over it (with an installation-wide salt) yields key material from which BLAKE2b derives
a lookup token (stored) and the reporter's key pair, to which the case compartment is sealed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from nacl.public import PrivateKey

from .errors import InvalidReceiptError
from .hashing import LABEL_RECEIPT_LOOKUP, LABEL_RECEIPT_WRAP, derive_subkey
from .kdf import Argon2Params, derive_key

RECEIPT_DIGITS = 20
RANDOM_DIGITS = RECEIPT_DIGITS - 1

# The Damm algorithm's weakly totally anti-symmetric quasigroup of order 10.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

# Western, Eastern Arabic and Persian digits all read as the same number.
_DIGIT_MAP = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
_DIGIT_MAP.update({ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")})
_SEPARATORS = " \t\u00a0\u202f-\u2010\u2011\u2012\u2013\u2014."


def damm_digit(digits: str) -> str:
    """The Damm check digit of a string of ASCII digits."""
    interim = 0
    for char in digits:
        interim = _DAMM[interim][int(char)]
    return str(interim)


def generate_receipt() -> str:
    """A new receipt: 19 random digits and their check digit, without spaces."""
    body = str(secrets.randbelow(10**RANDOM_DIGITS)).zfill(RANDOM_DIGITS)
    return body + damm_digit(body)


def format_receipt(receipt: str) -> str:
    """Five groups of four digits separated by spaces."""
    return " ".join(receipt[i : i + 4] for i in range(0, len(receipt), 4))


def normalize_receipt(text: str) -> str:
    """Accept any digits, spaces and dashes; return 20 ASCII digits or raise InvalidReceiptError."""
    translated = text.translate(_DIGIT_MAP)
    digits = "".join(ch for ch in translated if ch not in _SEPARATORS)
    if len(digits) != RECEIPT_DIGITS or not digits.isascii() or not digits.isdigit():
        raise InvalidReceiptError("a receipt is 20 digits")
    if damm_digit(digits) != "0":  # the check digit makes the whole number check to zero
        raise InvalidReceiptError("check digit mismatch")
    return digits


@dataclass(frozen=True)
class ReceiptKeys:
    """What a receipt yields: the stored lookup token and the reporter's own key pair.

    Every case compartment the reporter may open (the first, and each one made when access
    is revoked and keys rotate) is sealed to ``public_key``; only the receipt derives
    ``private_key``.
    """

    lookup_token: bytes
    private_key: PrivateKey

    @property
    def public_key(self) -> bytes:
        return bytes(self.private_key.public_key)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ReceiptKeys)
            and self.lookup_token == other.lookup_token
            and bytes(self.private_key) == bytes(other.private_key)
        )

    def __hash__(self) -> int:
        return hash(self.lookup_token)


def derive_receipt_keys(receipt: str, salt: bytes, params: Argon2Params) -> ReceiptKeys:
    """One Argon2id derivation over a normalised receipt."""
    master = derive_key(normalize_receipt(receipt).encode("ascii"), salt, params)
    return ReceiptKeys(
        lookup_token=derive_subkey(master, LABEL_RECEIPT_LOOKUP),
        private_key=PrivateKey(derive_subkey(master, LABEL_RECEIPT_WRAP)),
    )
