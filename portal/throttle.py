"""A process-wide budget for anonymous Argon2id runs, so receipt guessing cannot exhaust the
server. No address or other client detail is kept."""

from __future__ import annotations

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
