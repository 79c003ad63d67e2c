"""Server MAC over clear database values (crypto/mac.py), the basis of P10."""

from __future__ import annotations

import uuid

import pytest

import crypto

CASE_ID = uuid.uuid4()
PUBLIC = bytes(range(32))


@pytest.fixture
def mac() -> crypto.ServerMac:
    return crypto.ServerMac(crypto.new_server_mac_key())


def test_new_server_mac_keys_are_random_32_bytes():
    assert len(crypto.new_server_mac_key()) == 32
    assert crypto.new_server_mac_key() != crypto.new_server_mac_key()


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_key_of_wrong_length_is_refused(length):
    with pytest.raises(ValueError):
        crypto.ServerMac(bytes(length))


def test_tag_verifies(mac):
    tag = mac.tag("compartment-public", CASE_ID, "case", PUBLIC)
    assert len(tag) == 32
    mac.verify(tag, "compartment-public", CASE_ID, "case", PUBLIC)


def test_tag_is_deterministic_under_one_key(mac):
    assert mac.tag("k", CASE_ID, 3) == mac.tag("k", CASE_ID, 3)


def test_changed_kind_is_refused(mac):
    tag = mac.tag("compartment-public", CASE_ID, PUBLIC)
    with pytest.raises(crypto.IntegrityError):
        mac.verify(tag, "account-public", CASE_ID, PUBLIC)


@pytest.mark.parametrize(
    "fields",
    [
        (uuid.uuid4(), "case", PUBLIC),
        (CASE_ID, "identity", PUBLIC),
        (CASE_ID, "case", bytes(32)),
        (CASE_ID, "case", PUBLIC[:-1]),
        (CASE_ID, "case"),
        (CASE_ID, "case", PUBLIC, 1),
        (CASE_ID, "case", PUBLIC.hex()),
    ],
    ids=["other-case", "other-compartment", "other-key", "short-key", "dropped", "added", "hex"],
)
def test_any_changed_field_is_refused(mac, fields):
    tag = mac.tag("compartment-public", CASE_ID, "case", PUBLIC)
    with pytest.raises(crypto.IntegrityError):
        mac.verify(tag, "compartment-public", *fields)


def test_value_moved_between_kind_and_fields_is_refused(mac):
    tag = mac.tag("grant", "case")
    with pytest.raises(crypto.IntegrityError):
        mac.verify(tag, "grantcase")
    with pytest.raises(crypto.IntegrityError):
        mac.verify(mac.tag("grantcase"), "grant", "case")


def test_missing_tag_is_refused(mac):
    with pytest.raises(crypto.IntegrityError):
        mac.verify(None, "compartment-public", CASE_ID, PUBLIC)


def test_truncated_or_flipped_tag_is_refused(mac):
    tag = mac.tag("grant", CASE_ID)
    for bad in (b"", tag[:-1], tag + b"\0", bytes([tag[0] ^ 1]) + tag[1:]):
        with pytest.raises(crypto.IntegrityError):
            mac.verify(bad, "grant", CASE_ID)


def test_tag_under_another_key_is_refused(mac):
    other = crypto.ServerMac(crypto.new_server_mac_key())
    tag = other.tag("compartment-public", CASE_ID, PUBLIC)
    assert tag != mac.tag("compartment-public", CASE_ID, PUBLIC)
    with pytest.raises(crypto.IntegrityError):
        mac.verify(tag, "compartment-public", CASE_ID, PUBLIC)
