"""Budgets for anonymous Argon2id runs, so receipt guessing cannot exhaust the server.

The counters are kept by the ``limits`` library (flask-limiter's storage layer): in this
process's memory by default, or in Redis when ``PORTAL_REDIS_URL`` is set, where every worker
and machine shares them. No address or other client detail is kept in either: a client is
known only by a keyed hash of its address under a random salt replaced every window.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import time
from urllib.parse import urlsplit

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from .config import ConfigError

REDIS_SCHEMES = ("redis", "rediss", "redis+unix")
KEY_PREFIX = "portal-throttle"  # every key the portal writes to Redis starts with this
LONGEST_WINDOW = 365 * 24 * 3600  # a budget that never refills (rate 0) waits this long
SALT_BYTES = 16


def rate_limit_storage(url: str = "") -> Storage:
    """This process's memory for ``""``, else the Redis server at ``url``."""
    if not url:
        return MemoryStorage()
    if urlsplit(url).scheme not in REDIS_SCHEMES:
        # Not the URL itself: it may hold a password.
        raise ConfigError(f"PORTAL_REDIS_URL must start with one of {', '.join(REDIS_SCHEMES)}://")
    storage = storage_from_string(url, key_prefix=KEY_PREFIX)
    assert isinstance(storage, Storage)
    return storage


class DerivationBudget:
    """``rate`` derivations a second on average, at most ``burst`` at once.

    A moving window of ``burst`` derivations per ``burst / rate`` seconds (rounded up to whole
    seconds): the same burst and long-run rate as a token bucket, and never more derivations
    than one would allow in any stretch of time; spent capacity comes back as the window slides.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        storage: Storage | None = None,
        name: str = "derivation-budget",
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.storage = storage if storage is not None else MemoryStorage()
        window = LONGEST_WINDOW if rate <= 0 else math.ceil(burst / rate - 1e-9)
        self._item = RateLimitItemPerSecond(burst, min(max(window, 1), LONGEST_WINDOW), name)
        self._limiter = MovingWindowRateLimiter(self.storage)

    def try_spend(self) -> bool:
        """Take one derivation if the budget has one."""
        return self._limiter.hit(self._item)


class ClientThrottle:
    """At most ``limit`` attempts per client in each ``window`` seconds.

    Clients are told apart by a keyed hash of their address under a salt that is replaced every
    window (kept beside the counters, so that workers sharing Redis share it too), so the
    counters cannot be turned back into addresses once it is replaced, and nothing survives
    more than two windows.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        storage: Storage | None = None,
        name: str = "client-throttle",
    ) -> None:
        self.limit = limit
        self.window = window
        self.storage = storage if storage is not None else MemoryStorage()
        # A count lives a whole window from its first try, so it never ends before its salt.
        self._item = RateLimitItemPerSecond(limit, max(math.ceil(window), 1), name)
        self._limiter = FixedWindowRateLimiter(self.storage)
        self._salt: _LocalSalt | _SharedSalt
        if isinstance(self.storage, RedisStorage):
            self._salt = _SharedSalt(self.storage, f"{name}/salt", window)
        else:
            self._salt = _LocalSalt(window)

    def try_spend(self, client: str) -> bool:
        key = hashlib.blake2b(client.encode(), key=self._salt.current(), digest_size=16)
        return self._limiter.hit(self._item, key.hexdigest())


class _LocalSalt:
    """A random salt in this process's memory, replaced once a window has passed."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._lock = threading.Lock()
        self._salt = os.urandom(SALT_BYTES)
        self._started = time.monotonic()

    def current(self) -> bytes:
        with self._lock:
            now = time.monotonic()
            if now - self._started >= self.window:
                self._salt, self._started = os.urandom(SALT_BYTES), now
            return self._salt


class _SharedSalt:
    """A random salt in Redis that expires after a window; the first to miss it sets the next."""

    def __init__(self, storage: RedisStorage, name: str, window: float) -> None:
        self._redis = storage.get_connection()
        self._key = storage.prefixed_key(name)
        self._ttl_ms = max(int(window * 1000), 1)

    def current(self) -> bytes:
        for _ in range(5):
            stored = self._redis.get(self._key)
            if stored is None:
                fresh = os.urandom(SALT_BYTES).hex()
                if self._redis.set(self._key, fresh, nx=True, px=self._ttl_ms):
                    return bytes.fromhex(fresh)
                continue  # another worker set it first: read theirs
            return bytes.fromhex(stored.decode() if isinstance(stored, bytes) else stored)
        raise RuntimeError("could not read or set the throttle salt in Redis")
