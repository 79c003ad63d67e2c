"""Argon2id parameters and derivation (crypto/kdf.py)."""

from __future__ import annotations

import pytest

import crypto
from crypto.errors import FormatError
from crypto.kdf import Argon2Params

CHEAP = crypto.Argon2Params(memory_kib=1024, time_cost=1)
SALT = bytes(range(16))


def test_production_parameters_are_production_strength():
    """The one test that looks at crypto.PRODUCTION's values (P5: at least 128 MiB)."""
    assert crypto.PRODUCTION.memory_kib >= 131072
    assert crypto.PRODUCTION.time_cost >= 1
    assert crypto.PRODUCTION.is_production_strength
    assert not CHEAP.is_production_strength


@pytest.mark.slow
def test_one_production_derivation_runs():
    strong = crypto.derive_key(b"12345678901234567890", SALT, crypto.PRODUCTION)
    assert len(strong) == 32
    assert strong != crypto.derive_key(b"12345678901234567890", SALT, CHEAP)


def test_derivation_is_deterministic_and_32_bytes():
    first = crypto.derive_key(b"secret", SALT, CHEAP)
    assert first == crypto.derive_key(b"secret", SALT, CHEAP)
    assert len(first) == 32


@pytest.mark.parametrize(
    ("secret", "salt", "params"),
    [
        (b"secreT", SALT, CHEAP),
        (b"secret", bytes(16), CHEAP),
        (b"secret", SALT, Argon2Params(memory_kib=2048, time_cost=1)),
        (b"secret", SALT, Argon2Params(memory_kib=1024, time_cost=2)),
        (b"secret", SALT, Argon2Params(memory_kib=1024, time_cost=1, parallelism=2)),
    ],
    ids=["secret", "salt", "memory", "time", "parallelism"],
)
def test_derivation_depends_on_every_input(secret, salt, params):
    assert crypto.derive_key(secret, salt, params) != crypto.derive_key(b"secret", SALT, CHEAP)


@pytest.mark.parametrize("length", [0, 8, 15, 17, 32])
def test_salt_must_be_16_bytes(length):
    with pytest.raises(ValueError):
        crypto.derive_key(b"secret", bytes(length), CHEAP)


def test_new_salts_are_random_16_bytes():
    assert len(crypto.new_salt()) == 16
    assert crypto.new_salt() != crypto.new_salt()


@pytest.mark.parametrize(
    "params", [CHEAP, Argon2Params(131072, 3, 4), Argon2Params(4 * 1024 * 1024, 64, 16)]
)
def test_params_encode_decode_round_trip(params):
    encoded = params.encode()
    assert len(encoded) == 9
    assert Argon2Params.decode(encoded) == params


@pytest.mark.parametrize(
    "data",
    [b"", bytes(8), bytes(10), Argon2Params(7, 1, 1).encode(), Argon2Params(1024, 0, 1).encode(),
     Argon2Params(1024, 1, 0).encode()],
    ids=["empty", "short", "long", "memory<8", "time=0", "parallelism=0"],
)  # fmt: skip
def test_bad_params_block_is_a_format_error(data):
    with pytest.raises(crypto.FormatError):
        Argon2Params.decode(data)


@pytest.mark.parametrize(
    "params",
    [
        Argon2Params(memory_kib=1024, time_cost=100),
        Argon2Params(memory_kib=65536, time_cost=100),
        Argon2Params(memory_kib=131071, time_cost=2),
    ],
)
def test_params_below_production_memory_are_not_production_strength(params):
    assert not params.is_production_strength


@pytest.mark.parametrize(
    "params",
    [Argon2Params(2**32 - 1, 2, 1), Argon2Params(131072, 2**32 - 1, 1), Argon2Params(8, 1, 2)],
)
def test_stored_params_out_of_bounds_are_refused(params):
    with pytest.raises(FormatError):
        Argon2Params.decode(params.encode())
