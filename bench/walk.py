"""Where a filing's CPU goes besides Argon2id, and whether Argon2id runs contend.

    python -m bench.walk

In-process (Flask's test client, SQLite in a temporary directory, production Argon2id): 20
filings with a 1 MB attachment, the CPU time of each request of the walk, per filing. Then
production Argon2id derivations in 1, 2 and 4 processes at once: the CPU each costs and the
derivations per second, which shows whether two cores running two derivations slow each other.
"""

from __future__ import annotations

import collections
import os
import tempfile
import time
from multiprocessing import Process, Queue
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from crypto import PRODUCTION, derive_key, new_salt
from portal import create_app, migrate
from portal.config import Settings
from portal.setup import initialise
from tests.support import filing

FILINGS = 20
DERIVATIONS = 8


def request_costs(filings: int = FILINGS) -> tuple[dict[str, float], float]:
    """CPU milliseconds per filing of each (method, path) of the walk, and the whole walk's."""
    root = Path(tempfile.mkdtemp())
    settings = Settings(
        data_dir=root / "data", database_url=f"sqlite:///{root / 'walk.db'}", testing=True
    )
    migrate.upgrade(create_engine(settings.database_url))
    app = create_app(settings)
    with Session(app.extensions["portal_db"].engine) as db:
        initialise(db, app.extensions["portal_keyring"], settings)
        db.commit()
    spent: dict[str, float] = collections.defaultdict(float)
    plain_open = FlaskClient.open

    def timed(self: FlaskClient, *args: object, **kwargs: object) -> object:
        started = time.process_time()
        response = plain_open(self, *args, **kwargs)  # type: ignore[arg-type]
        path = str(args[0] if args else kwargs.get("path", "?")).split("?")[0]
        spent[f"{kwargs.get('method') or 'GET'} {path}"] += time.process_time() - started
        return response

    attachment = os.urandom(1000 * 1000)
    filing.file_complaint(app.test_client(), files=[("a.bin", attachment)])  # warm up
    FlaskClient.open = timed  # type: ignore[method-assign]
    try:
        started = time.process_time()
        for _ in range(filings):
            filing.file_complaint(app.test_client(), files=[("a.bin", attachment)])
        whole = (time.process_time() - started) / filings * 1000
    finally:
        FlaskClient.open = plain_open  # type: ignore[method-assign]
        app.extensions["portal_db"].dispose()
    return {name: seconds / filings * 1000 for name, seconds in spent.items()}, whole


def _derive(results: Queue, count: int) -> None:  # type: ignore[type-arg]
    salt = new_salt()
    started = time.process_time()
    for _ in range(count):
        derive_key(b"walk benchmark", salt, PRODUCTION)
    results.put((time.process_time() - started) / count)


def argon2_in_parallel(processes: int, count: int = DERIVATIONS) -> tuple[float, float]:
    """(CPU seconds per derivation, derivations a second) with ``processes`` deriving at once."""
    results: Queue = Queue()  # type: ignore[type-arg]
    workers = [Process(target=_derive, args=(results, count)) for _ in range(processes)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    cpu = [results.get() for _ in workers]
    return sum(cpu) / len(cpu), processes * count / wall


def main() -> None:
    costs, whole = request_costs()
    print(f"A filing's walk, in-process, CPU per filing (mean of {FILINGS}):")
    for name, milliseconds in sorted(costs.items(), key=lambda item: -item[1]):
        print(f"  {milliseconds:7.1f} ms  {name}")
    besides = whole - max(costs.values())
    print(f"  whole walk {whole:.0f} ms; all but the send {besides:.0f} ms")
    print("Production Argon2id run at once in N processes:")
    for processes in (1, 2, 4):
        cpu, rate = argon2_in_parallel(processes)
        print(f"  {processes}: {cpu:.3f} s CPU each, {rate:.2f} derivations/s")


if __name__ == "__main__":
    main()
