"""The offline recovery key (crypto/recovery.py): its printable secret, typo detection, and
opening compartment keys sealed to it (P6 at the library layer)."""

from __future__ import annotations

import base64
import re
import uuid

import pytest

import crypto
from crypto import WrapPurpose
from crypto.recovery import _checksum

BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@pytest.fixture
def recovery():
    return crypto.generate_recovery_key()


def test_secret_is_prefixed_groups_of_four(recovery):
    _, secret = recovery
    assert re.fullmatch(r"PRK1(-[A-Z2-7]{4}){15}", secret)


def test_secret_round_trips(recovery):
    private_key, secret = recovery
    assert bytes(crypto.parse_recovery_secret(secret)) == bytes(private_key)
    assert crypto.encode_recovery_secret(private_key) == secret


def test_two_recovery_keys_differ():
    assert crypto.generate_recovery_key()[1] != crypto.generate_recovery_key()[1]


@pytest.mark.parametrize(
    "retype",
    [
        str.lower,
        lambda s: s.replace("-", ""),
        lambda s: s.replace("-", " "),
        lambda s: "  " + s.replace("-", "  -  ") + "\n",
        lambda s: s.lower().replace("-", ""),
        lambda s: s[:4] + " " + s[5:].replace("-", "").lower(),
    ],
    ids=["lower", "no-dashes", "spaces", "extra-spaces", "lower-no-dashes", "one-run"],
)
def test_parse_accepts_what_operators_type(recovery, retype):
    private_key, secret = recovery
    assert bytes(crypto.parse_recovery_secret(retype(secret))) == bytes(private_key)


def test_parse_maps_digits_confused_with_letters():
    private_key, secret = crypto.generate_recovery_key()
    while not any(ch in secret[4:] for ch in "OIB"):
        private_key, secret = crypto.generate_recovery_key()
    typed = secret[:4] + secret[4:].replace("O", "0").replace("I", "1").replace("B", "8")
    assert typed != secret
    assert bytes(crypto.parse_recovery_secret(typed)) == bytes(private_key)


def _body_positions(secret: str) -> list[int]:
    return [i for i, ch in enumerate(secret) if ch != "-" and i >= 4]


def test_single_changed_character_is_refused(recovery):
    """Every position but the last (whose low bits are base32 padding, see the next tests)."""
    _, secret = recovery
    positions = _body_positions(secret)[:-1]
    assert len(positions) == 59
    for index in positions:
        for replacement in BASE32:
            if replacement == secret[index]:
                continue
            typo = secret[:index] + replacement + secret[index + 1 :]
            with pytest.raises(crypto.WrongSecretError):
                crypto.parse_recovery_secret(typo)


def test_changed_data_bit_in_last_character_is_refused(recovery):
    _, secret = recovery
    last = BASE32.index(secret[-1])
    for value in range(32):
        if (value >> 4) == (last >> 4):
            continue  # only the top bit of the last character carries data
        with pytest.raises(crypto.WrongSecretError):
            crypto.parse_recovery_secret(secret[:-1] + BASE32[value])


def test_any_changed_last_character_is_refused(recovery):
    _, secret = recovery
    for replacement in BASE32:
        if replacement == secret[-1]:
            continue
        with pytest.raises(crypto.WrongSecretError):
            crypto.parse_recovery_secret(secret[:-1] + replacement)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-1],
        lambda s: s + "A",
        lambda s: s[:10] + s[11:],
        lambda s: s[5:],
        lambda s: "PRK2" + s[4:],
        lambda s: s[:-1] + "9",
        lambda s: "",
    ],
    ids=["dropped-last", "added", "dropped-inside", "no-prefix", "other-prefix", "nine", "empty"],
)
def test_malformed_secret_is_refused(recovery, mangle):
    _, secret = recovery
    with pytest.raises(crypto.WrongSecretError):
        crypto.parse_recovery_secret(mangle(secret))


def test_secret_of_another_version_is_refused(recovery):
    private_key, _ = recovery
    raw = bytes(private_key)
    payload = bytes([2]) + raw + _checksum(2, raw)
    text = base64.b32encode(payload).decode().rstrip("=")
    with pytest.raises(crypto.WrongSecretError):
        crypto.parse_recovery_secret("PRK1-" + text)


def test_compartment_sealed_to_recovery_key_opens_with_parsed_secret(recovery):
    """P6 at this layer: the typed-back secret re-opens a compartment's recovery wrap."""
    recovery_private, secret = recovery
    compartment, compartment_id = crypto.generate_keypair(), uuid.uuid4()
    wrap = crypto.seal_grant(
        compartment, compartment_id, crypto.public_bytes(recovery_private), WrapPurpose.RECOVERY
    )
    typed = crypto.parse_recovery_secret(secret.lower().replace("-", " "))
    opened = crypto.open_grant(
        wrap, typed, compartment_id, crypto.public_bytes(compartment), WrapPurpose.RECOVERY
    )
    assert bytes(opened) == bytes(compartment)
    with pytest.raises(crypto.IntegrityError):
        crypto.open_grant(
            wrap, typed, compartment_id, crypto.public_bytes(compartment), WrapPurpose.GRANT
        )
