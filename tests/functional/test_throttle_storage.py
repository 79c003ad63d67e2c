"""Rate-limit counters: per process by default, shared through Redis with ``PORTAL_REDIS_URL``,
and holding no client address in either. Redis is Debian's ``redis-server``, started here on
a free loopback port for this test session and stopped after it."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from limits.storage import MemoryStorage, RedisStorage

from caseworker.auth import BUDGET_KEY, SIGN_IN_BURST
from portal import Settings, create_app
from portal.config import ConfigError
from portal.throttle import KEY_PREFIX, ClientThrottle, DerivationBudget, rate_limit_storage
from tests.conftest import csrf_token
from tests.support.server import free_port

ADDRESS = "203.0.113.9"
OTHER = "198.51.100.7"
VALID_LOOKING = "0000 0000 0000 0000 0000"  # passes the check digit, opens nothing
CLIENT_KEY = re.compile(
    rf"^{KEY_PREFIX}:follow-up-client/[0-9a-f]{{32}}/\d+/\d+/second$"
)  # a BLAKE2b digest and the limit, nothing else
SALT_KEY = f"{KEY_PREFIX}:follow-up-client/salt"
BUDGET_KEYS = re.compile(rf"^{KEY_PREFIX}:(follow-up|sign-in)/\d+/\d+/second$")


def _redis_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("PORTAL_REQUIRE_BROWSER"))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway Redis on loopback, without persistence; its URL."""
    server = shutil.which("redis-server")
    if server is None:
        message = "Debian's redis-server is not installed (apt-get install redis-server)"
        if _redis_required():
            pytest.fail(message)
        pytest.skip(message)
    workdir = tmp_path_factory.mktemp("redis")
    log_path = workdir / "redis.log"
    for _ in range(3):  # a free port may be taken before the server binds it
        port = free_port()
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--daemonize", "no", "--dir", str(workdir)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        if _wait_for(port, process):
            break
        _stop(process)
    else:
        pytest.fail(f"redis-server did not start: {log_path.read_text(errors='replace')[-2000:]}")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> bool:
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                time.sleep(0.05)
        return False
    finally:
        client.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """The session's Redis, emptied for this test."""
    client = redis.Redis.from_url(redis_server)
    client.flushall()
    yield redis_server
    client.close()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def two_apps(portal, redis_url):  # type: ignore[no-untyped-def]
    """Build two apps on one Redis, as two workers or machines would be (``make`` takes
    the settings' changes)."""
    made = []

    def make(**changes):  # type: ignore[no-untyped-def]
        settings = dataclasses.replace(portal.settings, redis_url=redis_url, **changes)
        pair = (create_app(settings), create_app(settings))
        made.extend(pair)
        return pair

    yield make
    for app in made:
        app.extensions["portal_db"].dispose()


def try_receipt(app, address: str) -> int:  # type: ignore[no-untyped-def]
    """One receipt try from ``address``: 400 (no such receipt) or 429 (asked to wait)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf_token(client, "/follow-up")
    response = client.post("/follow-up", data={"csrf_token": token, "receipt": VALID_LOOKING})
    return response.status_code


def everything_in(client: redis.Redis) -> dict[str, bytes]:
    """Every key in Redis and its value, as bytes (strings, and lists for moving windows)."""
    stored = {}
    for raw in client.scan_iter("*"):
        key = raw.decode()
        kind = client.type(raw).decode()
        if kind == "string":
            stored[key] = client.get(raw) or b""
        elif kind == "list":
            stored[key] = b" ".join(client.lrange(raw, 0, -1))
        else:
            pytest.fail(f"unexpected Redis {kind} at {key}")
    return stored


# Shared through Redis


def test_a_client_throttled_on_one_app_is_throttled_on_the_other(two_apps):
    first, second = two_apps(follow_up_per_client=2, follow_up_burst=100)
    assert [try_receipt(first, ADDRESS), try_receipt(second, ADDRESS)] == [400, 400]
    assert try_receipt(first, ADDRESS) == 429
    assert try_receipt(second, ADDRESS) == 429
    assert try_receipt(second, OTHER) == 400  # per client: another address is not held back


def test_the_global_budget_is_shared_between_apps(two_apps):
    first, second = two_apps(follow_up_rate=0.001, follow_up_burst=2, follow_up_per_client=100)
    assert try_receipt(first, "192.0.2.1") == 400
    assert try_receipt(second, "192.0.2.2") == 400
    assert try_receipt(first, "192.0.2.3") == 429
    assert try_receipt(second, "192.0.2.4") == 429


def test_the_sign_in_budget_is_shared_between_apps(two_apps):
    first, second = two_apps()
    assert all(first.extensions[BUDGET_KEY].try_spend() for _ in range(SIGN_IN_BURST))
    assert not second.extensions[BUDGET_KEY].try_spend()


def test_redis_holds_no_client_address_only_hashes(two_apps, redis_client):
    first, second = two_apps(follow_up_per_client=2, follow_up_burst=100)
    for app in (first, second, first):
        try_receipt(app, ADDRESS)
    try_receipt(second, OTHER)
    first.extensions[BUDGET_KEY].try_spend()

    stored = everything_in(redis_client)
    for key, value in stored.items():
        for address in (ADDRESS, OTHER):
            assert address not in key and address.encode() not in value, key
    client_keys = [key for key in stored if CLIENT_KEY.match(key)]
    assert len(client_keys) == 2  # one counter per client, named by a digest
    assert sorted(int(stored[key]) for key in client_keys) == [1, 3]
    assert re.fullmatch(rb"[0-9a-f]{32}", stored[SALT_KEY])  # the salt: random, no address
    assert 0 < redis_client.pttl(SALT_KEY) <= 60_000  # and replaced within a minute
    others = set(stored) - set(client_keys) - {SALT_KEY}
    assert others and all(BUDGET_KEYS.match(key) for key in others), others
    assert all(KEY_PREFIX in key for key in stored)


def test_the_shared_salt_is_replaced_each_window_and_old_counts_go(redis_url, redis_client):
    salt_key = f"{KEY_PREFIX}:short/salt"
    throttle = ClientThrottle(1, window=1.0, storage=rate_limit_storage(redis_url), name="short")
    elsewhere = ClientThrottle(1, window=1.0, storage=rate_limit_storage(redis_url), name="short")
    assert throttle.try_spend(ADDRESS)
    assert not elsewhere.try_spend(ADDRESS)
    salt = redis_client.get(salt_key)
    [count] = [key for key in redis_client.scan_iter("*") if key != salt_key.encode()]
    assert 0 < redis_client.pttl(count) <= 1000

    time.sleep(1.2)
    assert not redis_client.exists(salt_key, count)  # nothing outlives its window
    assert elsewhere.try_spend(ADDRESS)  # a new salt, a new count
    assert redis_client.get(salt_key) not in (None, salt)
    assert not throttle.try_spend(ADDRESS)  # and both share them again


# Per process by default


def test_without_a_url_counters_are_in_this_process_and_hold_no_address(portal):
    settings = dataclasses.replace(portal.settings, follow_up_per_client=1, follow_up_burst=100)
    first, second = create_app(settings), create_app(settings)
    try:
        assert try_receipt(first, ADDRESS) == 400
        assert try_receipt(first, ADDRESS) == 429
        assert try_receipt(second, ADDRESS) == 400  # another process keeps its own counts
        storage = first.extensions["portal_follow_up_clients"].storage
        assert isinstance(storage, MemoryStorage)
        assert first.extensions["portal_follow_up_budget"].storage is storage
        assert first.extensions[BUDGET_KEY].storage is storage
        keys = [*storage.storage, *storage.expirations, *storage.events]
        assert keys and not any(ADDRESS in key for key in keys)
        assert any(re.search(r"/[0-9a-f]{32}/", key) for key in keys)
    finally:
        first.extensions["portal_db"].dispose()
        second.extensions["portal_db"].dispose()


def test_a_budget_made_alone_keeps_its_own_memory():
    budget = DerivationBudget(rate=0.0, burst=1)
    assert isinstance(budget.storage, MemoryStorage)
    assert [budget.try_spend(), budget.try_spend()] == [True, False]


# Configuration


def test_the_redis_url_is_read_from_the_environment(tmp_path: Path):
    url = "redis://:secret@127.0.0.1:6390/2"
    env = {"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_REDIS_URL": url}
    settings = Settings.from_env(env)
    assert settings.redis_url == url
    assert "secret" not in repr(settings)
    assert Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path)}).redis_url == ""


def test_a_redis_url_gives_redis_storage_and_anything_else_is_refused(redis_url):
    assert isinstance(rate_limit_storage(redis_url), RedisStorage)
    assert isinstance(rate_limit_storage(""), MemoryStorage)
    with pytest.raises(ConfigError) as refused:
        rate_limit_storage("memcached://user:secret@127.0.0.1:11211")
    assert "secret" not in str(refused.value)
