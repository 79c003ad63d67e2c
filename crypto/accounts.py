"""Staff key pairs wrapped under a password.

One Argon2id run per sign-in derives the key-encryption key; a successful unwrap *is* the
password check. The wrap carries its own Argon2 parameters and salt, so parameters can be raised
later and old wraps re-wrapped at the next sign-in.

Layout: version (1) | Argon2 parameters (9) | salt (16) | symmetric wrap of the private key.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from nacl.public import PrivateKey

from .encoding import encode_fields
from .errors import FormatError, IntegrityError, WrongSecretError
from .hashing import LABEL_ACCOUNT_KEK, derive_subkey
from .kdf import ENCODED_PARAMS_BYTES, SALT_BYTES, Argon2Params, derive_key, new_salt
from .keys import WrapPurpose, generate_keypair, public_bytes, unwrap_under_key, wrap_under_key

ACCOUNT_KEY_VERSION = 1
_PREFIX = 1 + ENCODED_PARAMS_BYTES + SALT_BYTES


@dataclass(frozen=True)
class AccountKeys:
    """What is stored for an account: its public key and its password-wrapped private key."""

    public_key: bytes
    wrapped_private_key: bytes


def _kek(password: str, salt: bytes, params: Argon2Params) -> bytes:
    return derive_subkey(derive_key(password.encode("utf-8"), salt, params), LABEL_ACCOUNT_KEK)


def _context(params_block: bytes, salt: bytes) -> bytes:
    return encode_fields([ACCOUNT_KEY_VERSION, params_block, salt])


def wrap_account_key(
    account_id: UUID, private_key: PrivateKey, password: str, params: Argon2Params
) -> bytes:
    """Wrap an account's private key under a fresh salt and ``params``."""
    salt = new_salt()
    block = params.encode()
    wrapped = wrap_under_key(
        private_key,
        account_id,
        _kek(password, salt, params),
        WrapPurpose.ACCOUNT,
        _context(block, salt),
    )
    return bytes([ACCOUNT_KEY_VERSION]) + block + salt + wrapped


def create_account_keys(
    account_id: UUID, password: str, params: Argon2Params
) -> tuple[AccountKeys, PrivateKey]:
    """A new key pair for an account, wrapped under its password."""
    private_key = generate_keypair()
    keys = AccountKeys(
        public_key=public_bytes(private_key),
        wrapped_private_key=wrap_account_key(account_id, private_key, password, params),
    )
    return keys, private_key


def wrapped_params(wrapped: bytes) -> Argon2Params:
    """The Argon2 parameters a wrap was made with."""
    if len(wrapped) < _PREFIX or wrapped[0] != ACCOUNT_KEY_VERSION:
        raise FormatError("not an account key of a known version")
    return Argon2Params.decode(wrapped[1 : 1 + ENCODED_PARAMS_BYTES])


def unlock_account_key(
    account_id: UUID, password: str, wrapped: bytes, expected_public: bytes
) -> PrivateKey:
    """Derive the key-encryption key and unwrap; a bad password raises WrongSecretError."""
    params = wrapped_params(wrapped)
    block = wrapped[1 : 1 + ENCODED_PARAMS_BYTES]
    salt = wrapped[1 + ENCODED_PARAMS_BYTES : _PREFIX]
    kek = _kek(password, salt, params)
    try:
        return unwrap_under_key(
            wrapped[_PREFIX:],
            account_id,
            kek,
            WrapPurpose.ACCOUNT,
            expected_public,
            _context(block, salt),
        )
    except IntegrityError as exc:
        raise WrongSecretError("password does not unlock this account") from exc


def burn_password_derivation(password: str, params: Argon2Params) -> None:
    """Spend exactly what a real sign-in spends, for an account that does not exist."""
    _kek(password, new_salt(), params)
