"""Argon2id cost on this machine: the measurement behind ``crypto.kdf.PRODUCTION``.

Prints the median time of one derivation for a few memory/time settings, the production one
marked, and how many derivations per second two cores sustain.
"""

from __future__ import annotations

import os
import statistics
import time

from crypto import PRODUCTION, Argon2Params, derive_key, new_salt

CANDIDATES = [
    Argon2Params(64 * 1024, 3),
    Argon2Params(128 * 1024, 1),
    Argon2Params(128 * 1024, 2),
    Argon2Params(128 * 1024, 3),
    Argon2Params(256 * 1024, 1),
]


def median_seconds(params: Argon2Params, runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        derive_key(b"benchmark secret", new_salt(), params)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    print(f"Argon2id, one derivation, median of 5 runs ({os.cpu_count()} cores)")
    print(f"{'memory':>10} {'passes':>6} {'seconds':>8}")
    for params in CANDIDATES:
        mark = "  <- production" if params == PRODUCTION else ""
        seconds = median_seconds(params)
        print(f"{params.memory_kib // 1024:>7} MiB {params.time_cost:>6} {seconds:>8.3f}{mark}")
    production = median_seconds(PRODUCTION)
    cores = os.cpu_count() or 1
    print(f"bound on filings per second ({cores} cores): {cores / production:.1f}")


if __name__ == "__main__":
    main()
