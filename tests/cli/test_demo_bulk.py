"""``flask --app wsgi demo --cases N`` beyond a handful: bulk cases, sealed like real ones."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import Settings, create_app
from portal.demo_bulk import _STORIES, RECEIPT_CASES, make_demo_cases
from portal.models import (
    Account,
    Case,
    CaseTopic,
    Compartment,
    CompartmentKind,
    Grant,
    GrantHolder,
    ReceiptLock,
    Record,
    RecordKind,
)
from tests.conftest import Portal, sign_in
from tests.functional.helpers import staff_client

CASE_LINK = re.compile(r'href="/caseworker/cases/([0-9a-f-]{36})"')
PRINTED_EMAIL = re.compile(r"email:\s+(\S+)")
PRINTED_PASSWORD = re.compile(r"password:\s+(\S+)")
RECEIPT_LINE = re.compile(r"^\s+(\d{4}(?: \d{4}){4})$", re.M)


@pytest.fixture
def fresh_app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    yield app
    app.extensions["portal_db"].dispose()


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def printed(pattern: re.Pattern[str], output: str) -> str:
    match = pattern.search(output)
    assert match, output
    return match.group(1)


@pytest.fixture
def demo(fresh_app: Flask, tmp_path: Path) -> Result:
    setup = run(fresh_app, "setup", "--recovery-file", str(tmp_path / "recovery.txt"))
    assert setup.exit_code == 0, setup.output
    result = run(fresh_app, "demo", "--cases", "120")
    assert result.exit_code == 0, result.output
    return result


def _db(app: Flask) -> Session:
    return Session(app.extensions["portal_db"].engine)


def test_makes_the_cases_asked_for_and_receipts_for_the_first_few_only(
    fresh_app: Flask, demo: Result
) -> None:
    with _db(fresh_app) as db:
        cases = db.scalar(select(func.count()).select_from(Case))
        locks = list(db.scalars(select(ReceiptLock)))
        stages = set(db.scalars(select(Case.stage).distinct()))
        languages = set(db.scalars(select(Case.language).distinct()))
        topics = db.scalar(select(func.count(CaseTopic.case_id.distinct())))
        answers = db.scalar(
            select(func.count()).select_from(Record).where(Record.kind == RecordKind.ANSWERS)
        )
    assert cases == 120
    assert len(locks) == RECEIPT_CASES
    assert len({lock.case_id for lock in locks}) == RECEIPT_CASES
    assert "Made 120 demo case(s)" in demo.output
    assert len(RECEIPT_LINE.findall(demo.output)) == RECEIPT_CASES
    # Spread like a real caseload, every case with its sealed answers and its topics.
    assert len(stages) >= 5
    assert len(languages) >= 4
    assert answers == 120
    assert topics == 120


def test_every_case_is_granted_like_a_filed_one(fresh_app: Flask, demo: Result) -> None:
    email = printed(PRINTED_EMAIL, demo.output)
    with _db(fresh_app) as db:
        account = db.scalar(select(Account).where(Account.email == email))
        assert account is not None
        for kind in CompartmentKind.CASE, CompartmentKind.IDENTITY, CompartmentKind.STAFF:
            compartments = db.scalar(
                select(func.count()).select_from(Compartment).where(Compartment.kind == kind)
            )
            assert compartments == 120, kind
        account_grants = db.scalar(
            select(func.count()).select_from(Grant).where(Grant.account_id == account.id)
        )
        recovery_grants = db.scalar(
            select(func.count())
            .select_from(Grant)
            .where(Grant.holder == GrantHolder.RECOVERY.value)
        )
    assert account_grants == 3 * 120
    assert recovery_grants == 3 * 120


def test_the_demo_caseworker_sees_every_case_and_opens_a_bulk_one(
    fresh_app: Flask, demo: Result
) -> None:
    client = fresh_app.test_client()
    sign_in(client, printed(PRINTED_EMAIL, demo.output), printed(PRINTED_PASSWORD, demo.output))

    listing = client.get("/caseworker/cases?count=all&sort=oldest")
    assert listing.status_code == 200
    shown = listing.get_data(as_text=True)
    assert "120 cases" in shown
    assert len(set(CASE_LINK.findall(shown))) == 50

    with _db(fresh_app) as db:
        with_receipt = set(db.scalars(select(ReceiptLock.case_id)))
        bulk = db.scalars(select(Case.id).where(Case.id.not_in(with_receipt)).limit(3)).all()
        filed = next(iter(with_receipt))
    stories = [story for told in _STORIES.values() for story in told]
    for case_id in bulk:
        page = client.get(f"/caseworker/cases/{case_id}")
        assert page.status_code == 200
        text = html.unescape(page.get_data(as_text=True))
        assert any(story in text for story in stories), "answers not decrypted"
    assert client.get(f"/caseworker/cases/{filed}").status_code == 200


def test_without_cases_the_demo_still_makes_five_with_receipts(
    fresh_app: Flask, tmp_path: Path
) -> None:
    setup = run(fresh_app, "setup", "--recovery-file", str(tmp_path / "recovery.txt"))
    assert setup.exit_code == 0, setup.output

    result = run(fresh_app, "demo")

    assert result.exit_code == 0, result.output
    with _db(fresh_app) as db:
        assert db.scalar(select(func.count()).select_from(Case)) == RECEIPT_CASES
        assert db.scalar(select(func.count()).select_from(ReceiptLock)) == RECEIPT_CASES


def test_a_parallel_run_makes_every_case_once(portal: Portal) -> None:
    worker = portal.account("worker@example.org")
    with portal.app.app_context(), portal.db as db:
        result = make_demo_cases(
            db,
            portal.keyring,
            portal.settings,
            portal.data_dir,
            40,
            receipts=1,
            batch_size=7,
            seed=3,
            workers=2,
        )
        references = list(db.scalars(select(Case.reference)))
        granted = db.scalar(
            select(func.count()).select_from(Grant).where(Grant.account_id == worker.id)
        )
    assert result.made == 40
    assert len(references) == len(set(references)) == 40
    assert granted == 3 * 40
    listing = staff_client(portal, "worker@example.org").get("/caseworker/cases?count=all")
    assert "40 cases" in listing.get_data(as_text=True)
