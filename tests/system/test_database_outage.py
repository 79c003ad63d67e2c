"""Faults: the database stops in the middle of a filing (a real PostgreSQL of the test's own,
stopped and started again). The reporter gets a page in their language saying to try again,
with what they typed still in the form; nothing is half-stored; once the database is back the
same press of the button goes through and the complaint is filed with everything typed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from portal import Settings, create_app, migrate
from portal.models import Case
from portal.setup import initialise
from tests.conftest import TEST_ARGON2
from tests.support.filing import DEFAULT_ANSWERS, answer, begin, send, token_from
from tests.support.server import free_port
from tests.support.throwaway_pg import ThrowawayCluster

CANARY = "Outage-canary: the guards came back at night"


@pytest.fixture
def outage_portal(tmp_path: Path) -> Iterator[tuple[Flask, ThrowawayCluster]]:
    cluster = ThrowawayCluster()
    cluster.start()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=cluster.url,
        argon2=TEST_ARGON2,
        testing=True,
        smtp_port=free_port(),
    )
    app = create_app(settings)
    migrate.upgrade(app.extensions["portal_db"].engine)
    with Session(app.extensions["portal_db"].engine) as db:
        initialise(db, app.extensions["portal_keyring"], settings)
        db.commit()
    try:
        yield app, cluster
    finally:
        app.extensions["portal_db"].dispose()
        cluster.remove()


def _cases(url: str) -> int:
    engine = create_engine(url)
    try:
        with Session(engine) as db:
            return db.scalar(select(func.count()).select_from(Case)) or 0
    finally:
        engine.dispose()


def test_a_filing_survives_the_database_stopping_and_coming_back(outage_portal) -> None:  # type: ignore[no-untyped-def]
    app, cluster = outage_portal
    reporter = app.test_client()
    begin(reporter, "fr")
    answer(reporter, "who", DEFAULT_ANSWERS["who"], "fr")
    what = {**DEFAULT_ANSWERS["what"], "what_happened": CANARY}
    assert answer(reporter, "what", what, "fr").status_code == 302
    safety = {"danger_now": "no", "fear": "Outage-fear: they know my house"}
    token = token_from(reporter, "/report/safety?lang=fr")

    cluster.stop()
    down = reporter.post("/report/safety?lang=fr", data={"csrf_token": token, **safety})
    health = app.test_client().get("/healthz")
    cluster.start()

    page = down.get_data(as_text=True)
    assert down.status_code == 503
    assert 'lang="fr"' in page
    assert "Outage-fear: they know my house" in page  # what was typed is still in the form
    assert 'class="error-summary"' in page
    assert health.status_code == 503
    assert _cases(cluster.url) == 0  # nothing half-stored

    again = reporter.post("/report/safety?lang=fr", data={"csrf_token": token, **safety})
    assert again.status_code == 302, again.get_data(as_text=True)[:2000]
    assert app.test_client().get("/healthz").status_code == 200
    for step in ("remedy", "contact"):
        assert answer(reporter, step, DEFAULT_ANSWERS[step], "fr").status_code == 302
    reporter.post(
        "/report/evidence?lang=fr",
        data={"csrf_token": token_from(reporter, "/report/evidence?lang=fr"), "action": "continue"},
    )
    receipt = send(reporter, "fr")

    assert re.fullmatch(r"[0-9 ]{24}", receipt)
    assert _cases(cluster.url) == 1


def test_sending_while_the_database_is_down_keeps_the_draft_for_a_second_try(outage_portal) -> None:  # type: ignore[no-untyped-def]
    app, cluster = outage_portal
    reporter = app.test_client()
    begin(reporter)
    for step in ("who", "what", "safety", "remedy", "contact"):
        answer(reporter, step, DEFAULT_ANSWERS[step])
    token = token_from(reporter, "/report/check")

    cluster.stop()
    failed = reporter.post("/report/send", data={"csrf_token": token})
    cluster.start()

    assert failed.status_code == 503
    assert "send it again in a few minutes" in failed.get_data(as_text=True)
    assert _cases(cluster.url) == 0
    receipt = send(reporter)
    assert receipt
    assert _cases(cluster.url) == 1
