"""Argon2id, the one password-hashing function of the project.

The production parameters are constants, measured on the project's 2-core reference machine:
128 MiB of memory and two passes took about 0.24 s per derivation (see README, "Argon2id
cost"). Tests may pass cheaper :class:`Argon2Params` explicitly; nothing in production reads a
cost from the environment below these values.
"""

from __future__ import annotations

import os
import struct
import threading
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw

from .errors import FormatError

SALT_BYTES = 16
# Upper bounds for parameters read back from storage (a database writer must not be able to
# make the next sign-in allocate terabytes or run forever).
MAX_MEMORY_KIB = 4 * 1024 * 1024
MAX_TIME_COST = 64
MAX_PARALLELISM = 16
OUTPUT_BYTES = 32


@dataclass(frozen=True)
class Argon2Params:
    """Cost parameters of one Argon2id derivation."""

    memory_kib: int
    time_cost: int
    parallelism: int = 1

    def encode(self) -> bytes:
        """Nine bytes stored beside what the parameters protect."""
        return struct.pack(">IIB", self.memory_kib, self.time_cost, self.parallelism)

    @classmethod
    def decode(cls, data: bytes) -> Argon2Params:
        if len(data) != 9:
            raise FormatError("bad Argon2 parameter block")
        memory_kib, time_cost, parallelism = struct.unpack(">IIB", data)
        params = cls(memory_kib, time_cost, parallelism)
        if not params.is_within_bounds:
            raise FormatError("Argon2 parameters out of bounds")
        return params

    @property
    def is_within_bounds(self) -> bool:
        """Sane limits, so a stored parameter block can neither fail nor stall a derivation."""
        return (
            1 <= self.parallelism <= MAX_PARALLELISM
            and 8 * self.parallelism <= self.memory_kib <= MAX_MEMORY_KIB
            and 1 <= self.time_cost <= MAX_TIME_COST
        )

    @property
    def is_production_strength(self) -> bool:
        return self.memory_kib >= PRODUCTION.memory_kib and self.time_cost >= PRODUCTION.time_cost


# Measured on the 2-core machine: 131072 KiB, t=2, p=1 -> ~0.24 s.
PRODUCTION = Argon2Params(memory_kib=128 * 1024, time_cost=2, parallelism=1)
ENCODED_PARAMS_BYTES = 9

# Caps concurrent derivations per process so that Argon2id cannot exhaust memory or CPU.
_MAX_CONCURRENT = max(1, os.cpu_count() or 1)
_slots = threading.BoundedSemaphore(_MAX_CONCURRENT)


def new_salt() -> bytes:
    """A fresh random 16-byte salt."""
    return os.urandom(SALT_BYTES)


def derive_key(secret: bytes, salt: bytes, params: Argon2Params) -> bytes:
    """Run Argon2id once and return 32 bytes of key material."""
    if len(salt) != SALT_BYTES:
        raise ValueError("salt must be 16 bytes")
    if not params.is_within_bounds:
        raise ValueError("Argon2 parameters out of bounds")
    with _slots:
        return hash_secret_raw(
            secret=secret,
            salt=salt,
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            hash_len=OUTPUT_BYTES,
            type=Type.ID,
        )
