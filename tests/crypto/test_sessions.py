"""Session wrapping (crypto/sessions.py): the cookie token and the session row each open
nothing alone (P7), and every binding (token, owner, kind, expiry) is checked."""

from __future__ import annotations

import uuid

import pytest
from nacl.public import PrivateKey

import crypto
from crypto.hashing import LABEL_SESSION_WRAP, derive_subkey

EXPIRES = 1_900_000_000
KIND = "staff"


@pytest.fixture
def private_key() -> PrivateKey:
    return crypto.generate_keypair()


@pytest.fixture
def owner_id() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def token() -> bytes:
    return crypto.new_session_token()


@pytest.fixture
def wrapped(token, private_key, owner_id) -> bytes:
    return crypto.wrap_session_key(token, private_key, owner_id, KIND, EXPIRES)


def test_session_tokens_are_32_random_bytes():
    first, second = crypto.new_session_token(), crypto.new_session_token()
    assert len(first) == 32
    assert first != second


def test_session_round_trips(token, wrapped, private_key, owner_id):
    unwrapped = crypto.unwrap_session_key(
        token, wrapped, owner_id, KIND, EXPIRES, crypto.public_bytes(private_key)
    )
    assert bytes(unwrapped) == bytes(private_key)


def test_wrong_token_is_refused(wrapped, private_key, owner_id):
    with pytest.raises(crypto.IntegrityError):
        crypto.unwrap_session_key(
            crypto.new_session_token(),
            wrapped,
            owner_id,
            KIND,
            EXPIRES,
            crypto.public_bytes(private_key),
        )


def test_wrong_owner_is_refused(token, wrapped, private_key):
    with pytest.raises(crypto.IntegrityError):
        crypto.unwrap_session_key(
            token, wrapped, uuid.uuid4(), KIND, EXPIRES, crypto.public_bytes(private_key)
        )


@pytest.mark.parametrize("kind", ["reporter", "staf", "staff ", ""])
def test_wrong_kind_is_refused(token, wrapped, private_key, owner_id, kind):
    with pytest.raises(crypto.IntegrityError):
        crypto.unwrap_session_key(
            token, wrapped, owner_id, kind, EXPIRES, crypto.public_bytes(private_key)
        )


@pytest.mark.parametrize("expires", [EXPIRES + 1, EXPIRES - 1, EXPIRES + 3600, 0])
def test_wrong_expiry_is_refused(token, wrapped, private_key, owner_id, expires):
    """An attacker with database write access cannot extend a session."""
    with pytest.raises(crypto.IntegrityError):
        crypto.unwrap_session_key(
            token, wrapped, owner_id, KIND, expires, crypto.public_bytes(private_key)
        )


def test_wrong_expected_public_is_refused(token, wrapped, owner_id):
    other = crypto.public_bytes(crypto.generate_keypair())
    with pytest.raises(crypto.IntegrityError):
        crypto.unwrap_session_key(token, wrapped, owner_id, KIND, EXPIRES, other)


@pytest.mark.parametrize("bad_token", [b"", b"\0" * 31, b"\0" * 33])
def test_token_of_wrong_length_is_a_format_error(bad_token, private_key, owner_id, wrapped):
    with pytest.raises(crypto.FormatError):
        crypto.session_lookup_id(bad_token)
    with pytest.raises(crypto.FormatError):
        crypto.wrap_session_key(bad_token, private_key, owner_id, KIND, EXPIRES)
    with pytest.raises(crypto.FormatError):
        crypto.unwrap_session_key(
            bad_token, wrapped, owner_id, KIND, EXPIRES, crypto.public_bytes(private_key)
        )


def test_tampered_session_row_is_refused(token, wrapped, private_key, owner_id):
    expected = crypto.public_bytes(private_key)
    for index in range(len(wrapped)):
        tampered = wrapped[:index] + bytes([wrapped[index] ^ 0x04]) + wrapped[index + 1 :]
        with pytest.raises(crypto.IntegrityError):
            crypto.unwrap_session_key(token, tampered, owner_id, KIND, EXPIRES, expected)


def test_lookup_id_is_deterministic_and_per_token(token):
    assert crypto.session_lookup_id(token) == crypto.session_lookup_id(token)
    assert crypto.session_lookup_id(token) != crypto.session_lookup_id(crypto.new_session_token())
    assert len(crypto.session_lookup_id(token)) == 32


def test_lookup_id_differs_from_token_and_wrap_key(token):
    lookup = crypto.session_lookup_id(token)
    assert lookup != token
    assert lookup != derive_subkey(token, LABEL_SESSION_WRAP)


def test_session_row_neither_holds_the_private_key_nor_the_token(token, wrapped, private_key):
    """P7: what the server stores (lookup id and wrap) contains no unlocked key or token."""
    row = crypto.session_lookup_id(token) + wrapped
    assert bytes(private_key) not in row
    assert token not in row


def test_lookup_id_cannot_stand_in_for_the_token(token, wrapped, private_key, owner_id):
    """Someone holding the session row alone cannot unwrap by using the stored lookup id."""
    with pytest.raises(crypto.IntegrityError):
        crypto.unwrap_session_key(
            crypto.session_lookup_id(token),
            wrapped,
            owner_id,
            KIND,
            EXPIRES,
            crypto.public_bytes(private_key),
        )
