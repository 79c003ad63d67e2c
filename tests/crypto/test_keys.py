"""Compartment key pairs and their wraps (crypto/keys.py): sealed grants and symmetric wraps,
each checked for recipient, compartment, purpose, expected public key and version."""

from __future__ import annotations

import os
import uuid

import pytest
from nacl.public import PrivateKey

import crypto
from crypto import WrapPurpose


@pytest.fixture
def compartment() -> PrivateKey:
    return crypto.generate_keypair()


@pytest.fixture
def account() -> PrivateKey:
    return crypto.generate_keypair()


@pytest.fixture
def owner_id() -> uuid.UUID:
    return uuid.uuid4()


def test_public_bytes_of_private_and_public_key_agree(compartment):
    assert crypto.public_bytes(compartment) == crypto.public_bytes(compartment.public_key)
    assert len(crypto.public_bytes(compartment)) == 32


def test_generated_keypairs_differ():
    assert bytes(crypto.generate_keypair()) != bytes(crypto.generate_keypair())


def test_grant_round_trips(compartment, account, owner_id):
    wrap = crypto.seal_grant(compartment, owner_id, account.public_key)
    opened = crypto.open_grant(wrap, account, owner_id, crypto.public_bytes(compartment))
    assert bytes(opened) == bytes(compartment)


def test_grant_accepts_recipient_as_raw_bytes(compartment, account, owner_id):
    wrap = crypto.seal_grant(compartment, owner_id, crypto.public_bytes(account))
    opened = crypto.open_grant(wrap, account, owner_id, crypto.public_bytes(compartment))
    assert bytes(opened) == bytes(compartment)


def test_grant_does_not_contain_the_private_key(compartment, account, owner_id):
    wrap = crypto.seal_grant(compartment, owner_id, account.public_key)
    assert bytes(compartment) not in wrap


def test_grant_opened_with_wrong_recipient_key_is_refused(compartment, account, owner_id):
    wrap = crypto.seal_grant(compartment, owner_id, account.public_key)
    with pytest.raises(crypto.IntegrityError):
        crypto.open_grant(
            wrap, crypto.generate_keypair(), owner_id, crypto.public_bytes(compartment)
        )


def test_grant_for_another_compartment_id_is_refused(compartment, account, owner_id):
    wrap = crypto.seal_grant(compartment, owner_id, account.public_key)
    with pytest.raises(crypto.IntegrityError):
        crypto.open_grant(wrap, account, uuid.uuid4(), crypto.public_bytes(compartment))


@pytest.mark.parametrize(
    ("sealed_as", "opened_as"),
    [
        (WrapPurpose.GRANT, WrapPurpose.RECOVERY),
        (WrapPurpose.RECOVERY, WrapPurpose.GRANT),
        (WrapPurpose.GRANT, WrapPurpose.RECEIPT),
    ],
)
def test_grant_of_another_purpose_is_refused(compartment, account, owner_id, sealed_as, opened_as):
    wrap = crypto.seal_grant(compartment, owner_id, account.public_key, sealed_as)
    expected = crypto.public_bytes(compartment)
    assert bytes(crypto.open_grant(wrap, account, owner_id, expected, sealed_as))
    with pytest.raises(crypto.IntegrityError):
        crypto.open_grant(wrap, account, owner_id, expected, opened_as)


def test_attacker_key_sealed_as_a_grant_is_refused_by_expected_public(account, owner_id):
    """Sealed boxes are anonymous: anyone can seal *a* key to an account. The expected public
    key (stored and MAC'd) is what makes a substituted key pair fail."""
    real = crypto.generate_keypair()
    attacker = crypto.generate_keypair()
    forged = crypto.seal_grant(attacker, owner_id, account.public_key)
    with pytest.raises(crypto.IntegrityError):
        crypto.open_grant(forged, account, owner_id, crypto.public_bytes(real))


@pytest.mark.parametrize("version", [0, 2, 255])
def test_grant_with_changed_version_byte_is_a_format_error(compartment, account, owner_id, version):
    wrap = crypto.seal_grant(compartment, owner_id, account.public_key)
    assert wrap[0] == 1
    with pytest.raises(crypto.FormatError):
        crypto.open_grant(
            bytes([version]) + wrap[1:], account, owner_id, crypto.public_bytes(compartment)
        )


def test_empty_grant_is_a_format_error(compartment, account, owner_id):
    with pytest.raises(crypto.FormatError):
        crypto.open_grant(b"", account, owner_id, crypto.public_bytes(compartment))


def test_flipped_or_truncated_grant_is_refused(compartment, account, owner_id):
    wrap = crypto.seal_grant(compartment, owner_id, account.public_key)
    expected = crypto.public_bytes(compartment)
    for index in range(1, len(wrap)):
        flipped = wrap[:index] + bytes([wrap[index] ^ 0x01]) + wrap[index + 1 :]
        with pytest.raises(crypto.IntegrityError):
            crypto.open_grant(flipped, account, owner_id, expected)
    for length in range(len(wrap)):
        with pytest.raises(crypto.IntegrityError):
            crypto.open_grant(wrap[:length], account, owner_id, expected)


# Symmetric wraps (used under password-, receipt- and session-derived keys).


def test_symmetric_wrap_round_trips(compartment, owner_id):
    key = os.urandom(32)
    wrap = crypto.wrap_under_key(compartment, owner_id, key, WrapPurpose.RECEIPT, b"ctx")
    opened = crypto.unwrap_under_key(
        wrap, owner_id, key, WrapPurpose.RECEIPT, crypto.public_bytes(compartment), b"ctx"
    )
    assert bytes(opened) == bytes(compartment)
    assert bytes(compartment) not in wrap


def test_symmetric_wrap_with_wrong_key_is_refused(compartment, owner_id):
    wrap = crypto.wrap_under_key(compartment, owner_id, os.urandom(32), WrapPurpose.RECEIPT)
    with pytest.raises(crypto.IntegrityError):
        crypto.unwrap_under_key(
            wrap, owner_id, os.urandom(32), WrapPurpose.RECEIPT, crypto.public_bytes(compartment)
        )


def test_symmetric_wrap_with_wrong_context_is_refused(compartment, owner_id):
    key = os.urandom(32)
    wrap = crypto.wrap_under_key(compartment, owner_id, key, WrapPurpose.RECEIPT, b"case-1")
    expected = crypto.public_bytes(compartment)
    for context in (b"case-2", b"", b"case-1\0"):
        with pytest.raises(crypto.IntegrityError):
            crypto.unwrap_under_key(wrap, owner_id, key, WrapPurpose.RECEIPT, expected, context)


def test_symmetric_wrap_with_wrong_owner_is_refused(compartment, owner_id):
    key = os.urandom(32)
    wrap = crypto.wrap_under_key(compartment, owner_id, key, WrapPurpose.RECEIPT)
    with pytest.raises(crypto.IntegrityError):
        crypto.unwrap_under_key(
            wrap, uuid.uuid4(), key, WrapPurpose.RECEIPT, crypto.public_bytes(compartment)
        )


def test_symmetric_wrap_with_wrong_purpose_is_refused(compartment, owner_id):
    key = os.urandom(32)
    wrap = crypto.wrap_under_key(compartment, owner_id, key, WrapPurpose.RECEIPT)
    with pytest.raises(crypto.IntegrityError):
        crypto.unwrap_under_key(
            wrap, owner_id, key, WrapPurpose.SESSION, crypto.public_bytes(compartment)
        )


def test_symmetric_wrap_with_wrong_expected_public_is_refused(compartment, owner_id):
    key = os.urandom(32)
    wrap = crypto.wrap_under_key(compartment, owner_id, key, WrapPurpose.RECEIPT)
    other = crypto.public_bytes(crypto.generate_keypair())
    with pytest.raises(crypto.IntegrityError):
        crypto.unwrap_under_key(wrap, owner_id, key, WrapPurpose.RECEIPT, other)


@pytest.mark.parametrize("version", [0, 2, 255])
def test_symmetric_wrap_with_changed_version_byte_is_a_format_error(compartment, owner_id, version):
    key = os.urandom(32)
    wrap = crypto.wrap_under_key(compartment, owner_id, key, WrapPurpose.RECEIPT)
    assert wrap[0] == 1
    with pytest.raises(crypto.FormatError):
        crypto.unwrap_under_key(
            bytes([version]) + wrap[1:],
            owner_id,
            key,
            WrapPurpose.RECEIPT,
            crypto.public_bytes(compartment),
        )


def test_truncated_symmetric_wrap_is_refused(compartment, owner_id):
    key = os.urandom(32)
    wrap = crypto.wrap_under_key(compartment, owner_id, key, WrapPurpose.RECEIPT)
    expected = crypto.public_bytes(compartment)
    for length in range(len(wrap)):
        with pytest.raises(crypto.IntegrityError):
            crypto.unwrap_under_key(wrap[:length], owner_id, key, WrapPurpose.RECEIPT, expected)
