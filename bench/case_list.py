"""The caseworker's case list at 100 and at 100,000 cases (budget: ratio of medians under 1.5).

Seeds two SQLite databases through ``portal.demo_bulk`` (the same code as ``flask --app wsgi
demo --cases N``), each with one caseworker in the intake team, then measures the server time of
``/caseworker/cases`` in-process (no network), signed in, over a few filter combinations. The two
sizes are measured in alternation, so that whatever else the machine is doing weighs on both.

    python -m bench.case_list                 # 100 and 100,000 cases
    python -m bench.case_list --large 20000   # a quicker run
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

import crypto
from crypto import PRODUCTION
from portal import Settings, create_app, migrate
from portal.demo_bulk import make_demo_cases
from portal.models import Account, Role, StaffSession
from portal.setup import initialise
from portal.staff import create_account, start_session

EMAIL = "bench.caseworker@example.org"
PASSWORD = "bench caseworker 47 lanterns"
BUDGET = 1.5
# What a caseworker does all day: the default list, what is late, urgent first by age, their
# own cases, one language and topic, one stage, and a page further on.
QUERIES = (
    "",
    "?due=overdue",
    "?urgent=1&sort=oldest",
    "?assigned=me",
    "?language=fr&topic=use_of_force",
    "?stage=assessment&sort=newest",
    "?page=3",
)


@dataclass
class Seeded:
    """A seeded portal and a browser signed in to it."""

    size: int
    app: Flask
    client: FlaskClient
    seconds: float


def _signed_in_client(app: Flask, settings: Settings, account_id: object) -> FlaskClient:
    """A test client holding a live session cookie, made without the sign-in form.

    The session is started the way sign-in starts it (``portal.staff.start_session``), marked
    as having passed the second factor, and its cookie set as ``caseworker.session`` sets it.
    """
    from caseworker.session import set_session_cookie

    with Session(app.extensions["portal_db"].engine) as db:
        account = db.get(Account, account_id)
        assert account is not None
        private_key = crypto.unlock_account_key(
            account.id, PASSWORD, account.wrapped_private_key, account.public_key
        )
        token = start_session(db, settings, account, private_key)
        db.flush()
        db.execute(
            update(StaffSession)
            .where(StaffSession.id == crypto.session_lookup_id(token))
            .values(second_factor_done=True)
        )
        db.commit()
    carrier = Response()
    with app.test_request_context("/"):
        set_session_cookie(carrier, token)
    client = app.test_client()
    for header in carrier.headers.getlist("Set-Cookie"):
        name, _, value = header.split(";", 1)[0].partition("=")
        client.set_cookie(name, value)
    return client


def seed(root: Path, size: int) -> Seeded:
    """A portal with ``size`` demo cases and one intake caseworker, and its signed-in client."""
    data_dir = root / f"cases-{size}"
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir}/portal.sqlite3",
        argon2=PRODUCTION,
    )
    app = create_app(settings)
    ext = app.extensions
    migrate.upgrade(ext["portal_db"].engine)
    started = time.perf_counter()
    with app.app_context(), Session(ext["portal_db"].engine) as db:
        initialise(db, ext["portal_keyring"], settings)
        account = create_account(
            db,
            ext["portal_keyring"],
            settings,
            email=EMAIL,
            display_name="Bench Caseworker",
            role=Role.CASEWORKER,
            password=PASSWORD,
            intake=True,
        )
        db.commit()
        account_id = account.id
        make_demo_cases(db, ext["portal_keyring"], settings, ext["portal_data_dir"], size, seed=1)
    seconds = time.perf_counter() - started
    client = _signed_in_client(app, settings, account_id)
    return Seeded(size=size, app=app, client=client, seconds=seconds)


def _time(client: FlaskClient, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - start
    if response.status_code != 200 or b'class="cases"' not in response.data:
        raise RuntimeError(f"{path}: {response.status_code}, no case list")
    return elapsed


def measure(small: Seeded, large: Seeded, rounds: int) -> float:
    """Print the medians per query and overall; return the overall ratio large/small."""
    samples: dict[int, list[float]] = {small.size: [], large.size: []}
    print(f"Server time of /caseworker/cases, median of {rounds} (budget: ratio < {BUDGET}):")
    print(f"  {'query':<36} {small.size:>9,} {large.size:>9,}  ratio")
    for query in QUERIES:
        path = "/caseworker/cases" + query
        for seeded in (small, large):  # warm both: compiled statements, page cache
            for _ in range(3):
                _time(seeded.client, path)
        mine: dict[int, list[float]] = {small.size: [], large.size: []}
        for _ in range(rounds):
            for seeded in (small, large):
                mine[seeded.size].append(_time(seeded.client, path))
        low = statistics.median(mine[small.size])
        high = statistics.median(mine[large.size])
        label = query or "(no filter)"
        print(f"  {label:<36} {low * 1000:7.1f}ms {high * 1000:7.1f}ms  {high / low:5.2f}")
        for size, values in mine.items():
            samples[size] += values
    low = statistics.median(samples[small.size])
    high = statistics.median(samples[large.size])
    ratio = high / low
    verdict = "within" if ratio < BUDGET else "OVER"
    print(
        f"  {'all queries':<36} {low * 1000:7.1f}ms {high * 1000:7.1f}ms  {ratio:5.2f}"
        f"  ({verdict} budget)"
    )
    return ratio


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100, help="cases in the small database")
    parser.add_argument("--large", type=int, default=100_000, help="cases in the large one")
    parser.add_argument("--rounds", type=int, default=15, help="requests per query and size")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        seeded = []
        for size in (args.small, args.large):
            result = seed(Path(tmp), size)
            print(f"Seeding {size:,} cases (demo_bulk, SQLite): {result.seconds:.1f} s")
            seeded.append(result)
        small, large = seeded
        try:
            measure(small, large, args.rounds)
        finally:
            for result in seeded:
                result.app.extensions["portal_db"].dispose()


if __name__ == "__main__":
    main()
