"""Exceptions raised by the crypto library.

Every failure to authenticate, unwrap or parse is an ``IntegrityError``: callers never
see partial or wrong plaintext, and never learn which check failed.
"""


class CryptoError(Exception):
    """Base class of every error this library raises."""


class IntegrityError(CryptoError):
    """A ciphertext, wrap, tag or stream failed authentication or a binding check."""


class FormatError(IntegrityError):
    """A blob has an unknown version byte, a wrong length or a malformed structure."""


class WrongSecretError(CryptoError):
    """A password, receipt or recovery secret did not unlock what it was meant to."""


class InvalidReceiptError(CryptoError):
    """A receipt number is malformed or its check digit is wrong (no key derivation was run)."""
