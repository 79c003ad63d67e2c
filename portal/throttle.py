"""A process-wide budget for anonymous Argon2id runs, so receipt guessing cannot exhaust the
server. No address or other client detail is kept."""

from __future__ import annotations

import hashlib
import os
import threading
import time


class DerivationBudget:
    """A token bucket: ``rate`` derivations a second on average, at most ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def try_spend(self) -> bool:
        """Take one token if there is one."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


class ClientThrottle:
    """At most ``limit`` attempts per client in each ``window`` seconds.

    Clients are told apart by a keyed hash of their address under a salt that is replaced every
    window, so the counters (kept in memory only) cannot be turned back into addresses, and
    nothing survives more than two windows.
    """

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._salt = os.urandom(16)
        self._started = time.monotonic()
        self._counts: dict[bytes, int] = {}

    def try_spend(self, client: str) -> bool:
        with self._lock:
            now = time.monotonic()
            if now - self._started >= self.window:
                self._salt, self._started, self._counts = os.urandom(16), now, {}
            key = hashlib.blake2b(client.encode(), key=self._salt, digest_size=16).digest()
            count = self._counts.get(key, 0)
            if count >= self.limit:
                return False
            self._counts[key] = count + 1
            return True
