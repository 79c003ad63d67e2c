"""Staff key pairs wrapped under a password (crypto/accounts.py)."""

from __future__ import annotations

import uuid

import pytest

import crypto
from crypto import accounts

CHEAP = crypto.Argon2Params(memory_kib=1024, time_cost=1)
PASSWORD = "correct horse battery staple"
# Layout: version (1) | Argon2 parameters (9) | salt (16) | symmetric wrap.
PARAMS = (1, 10)
SALT = (10, 26)


@pytest.fixture
def account_id() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def created(account_id):
    return crypto.create_account_keys(account_id, PASSWORD, CHEAP)


def replace_range(blob: bytes, span: tuple[int, int], new: bytes) -> bytes:
    assert len(new) == span[1] - span[0]
    return blob[: span[0]] + new + blob[span[1] :]


def test_create_then_unlock_round_trips(account_id, created):
    keys, private_key = created
    assert keys.public_key == crypto.public_bytes(private_key)
    unlocked = crypto.unlock_account_key(
        account_id, PASSWORD, keys.wrapped_private_key, keys.public_key
    )
    assert bytes(unlocked) == bytes(private_key)


def test_wrap_does_not_contain_the_private_key_or_password(created):
    keys, private_key = created
    assert bytes(private_key) not in keys.wrapped_private_key
    assert PASSWORD.encode() not in keys.wrapped_private_key


def test_two_wraps_of_the_same_key_use_different_salts(account_id, created):
    keys, private_key = created
    again = crypto.wrap_account_key(account_id, private_key, PASSWORD, CHEAP)
    assert again[SALT[0] : SALT[1]] != keys.wrapped_private_key[SALT[0] : SALT[1]]


@pytest.mark.parametrize(
    "wrong", ["", "correct horse battery stapl", "Correct horse battery staple"]
)
def test_wrong_password_is_refused(account_id, created, wrong):
    keys, _ = created
    with pytest.raises(crypto.WrongSecretError):
        crypto.unlock_account_key(account_id, wrong, keys.wrapped_private_key, keys.public_key)


def test_wrap_is_bound_to_the_account_id(created):
    keys, _ = created
    with pytest.raises(crypto.WrongSecretError):
        crypto.unlock_account_key(uuid.uuid4(), PASSWORD, keys.wrapped_private_key, keys.public_key)


def test_unlock_checks_the_expected_public_key(account_id, created):
    keys, _ = created
    other = crypto.public_bytes(crypto.generate_keypair())
    with pytest.raises(crypto.WrongSecretError):
        crypto.unlock_account_key(account_id, PASSWORD, keys.wrapped_private_key, other)


@pytest.mark.parametrize(
    "params",
    [CHEAP, crypto.Argon2Params(memory_kib=2048, time_cost=2), crypto.Argon2Params(64, 3, 2)],
)
def test_wrapped_params_returns_the_params_used(account_id, params):
    keys, _ = crypto.create_account_keys(account_id, PASSWORD, params)
    assert crypto.wrapped_params(keys.wrapped_private_key) == params


def test_rewrap_with_new_password_retires_the_old_one(account_id, created):
    keys, private_key = created
    rewrapped = crypto.wrap_account_key(account_id, private_key, "a new passphrase", CHEAP)
    unlocked = crypto.unlock_account_key(account_id, "a new passphrase", rewrapped, keys.public_key)
    assert bytes(unlocked) == bytes(private_key)
    with pytest.raises(crypto.WrongSecretError):
        crypto.unlock_account_key(account_id, PASSWORD, rewrapped, keys.public_key)


def test_rewrap_with_stronger_params_records_them(account_id, created):
    keys, private_key = created
    stronger = crypto.Argon2Params(memory_kib=2048, time_cost=2)
    rewrapped = crypto.wrap_account_key(account_id, private_key, PASSWORD, stronger)
    assert crypto.wrapped_params(rewrapped) == stronger
    assert bytes(crypto.unlock_account_key(account_id, PASSWORD, rewrapped, keys.public_key)) == (
        bytes(private_key)
    )


@pytest.mark.parametrize(
    "tampered_params",
    [
        crypto.Argon2Params(memory_kib=2048, time_cost=1),
        crypto.Argon2Params(memory_kib=1024, time_cost=2),
        crypto.Argon2Params(memory_kib=8, time_cost=1),
    ],
)
def test_tampered_params_block_makes_unlock_fail(account_id, created, tampered_params):
    keys, _ = created
    tampered = replace_range(keys.wrapped_private_key, PARAMS, tampered_params.encode())
    with pytest.raises(crypto.WrongSecretError):
        crypto.unlock_account_key(account_id, PASSWORD, tampered, keys.public_key)


def test_params_block_rejected_by_argon2_still_raises_a_crypto_error(account_id, created):
    keys, _ = created
    tampered = replace_range(
        keys.wrapped_private_key, PARAMS, crypto.Argon2Params(8, 1, 2).encode()
    )
    with pytest.raises(crypto.CryptoError):
        crypto.unlock_account_key(account_id, PASSWORD, tampered, keys.public_key)


def test_invalid_params_block_is_a_format_error(account_id, created):
    keys, _ = created
    tampered = replace_range(keys.wrapped_private_key, PARAMS, bytes(9))
    with pytest.raises(crypto.FormatError):
        crypto.wrapped_params(tampered)
    with pytest.raises(crypto.CryptoError):
        crypto.unlock_account_key(account_id, PASSWORD, tampered, keys.public_key)


@pytest.mark.parametrize("index", [SALT[0], SALT[0] + 7, SALT[1] - 1])
def test_tampered_salt_makes_unlock_fail(account_id, created, index):
    keys, _ = created
    wrapped = keys.wrapped_private_key
    tampered = wrapped[:index] + bytes([wrapped[index] ^ 0x01]) + wrapped[index + 1 :]
    with pytest.raises(crypto.WrongSecretError):
        crypto.unlock_account_key(account_id, PASSWORD, tampered, keys.public_key)


def test_tampered_wrap_body_makes_unlock_fail(account_id, created):
    keys, _ = created
    wrapped = keys.wrapped_private_key
    for index in range(SALT[1] + 1, len(wrapped), 9):
        tampered = wrapped[:index] + bytes([wrapped[index] ^ 0x80]) + wrapped[index + 1 :]
        with pytest.raises(crypto.WrongSecretError):
            crypto.unlock_account_key(account_id, PASSWORD, tampered, keys.public_key)


@pytest.mark.parametrize("blob", [b"", b"\x01" * 25, b"\x02" + bytes(40)])
def test_malformed_account_wrap_is_a_format_error(account_id, created, blob):
    keys, _ = created
    with pytest.raises(crypto.FormatError):
        crypto.wrapped_params(blob)
    with pytest.raises(crypto.FormatError):
        crypto.unlock_account_key(account_id, PASSWORD, blob, keys.public_key)


def test_burn_password_derivation_runs_one_real_derivation(monkeypatch):
    calls = []
    real_derive = accounts.derive_key

    def spy(secret: bytes, salt: bytes, params: crypto.Argon2Params) -> bytes:
        calls.append((secret, salt, params))
        return real_derive(secret, salt, params)

    monkeypatch.setattr(accounts, "derive_key", spy)
    assert crypto.burn_password_derivation(PASSWORD, CHEAP) is None
    assert len(calls) == 1
    secret, salt, params = calls[0]
    assert secret == PASSWORD.encode()
    assert len(salt) == 16
    assert params == CHEAP


def test_burn_runs_the_same_derivation_as_a_sign_in(monkeypatch, account_id, created):
    keys, _ = created
    seen = []
    real_derive = accounts.derive_key

    def spy(secret: bytes, salt: bytes, params: crypto.Argon2Params) -> bytes:
        seen.append(params)
        return real_derive(secret, salt, params)

    monkeypatch.setattr(accounts, "derive_key", spy)
    crypto.unlock_account_key(account_id, PASSWORD, keys.wrapped_private_key, keys.public_key)
    crypto.burn_password_derivation("nobody's password", CHEAP)
    assert seen == [CHEAP, CHEAP]
