"""Receipt checks share a process-wide budget: guessing cannot turn Argon2id into a flood."""

from __future__ import annotations

import dataclasses

from portal import create_app
from portal.throttle import DerivationBudget
from tests.conftest import csrf_token

VALID_LOOKING = "0000 0000 0000 0000 0000"  # passes the check digit, opens nothing


def test_budget_allows_a_burst_then_refuses():
    budget = DerivationBudget(rate=0.001, burst=3)
    assert [budget.try_spend() for _ in range(4)] == [True, True, True, False]


def test_follow_up_past_the_budget_asks_to_wait_and_runs_no_derivation(portal):
    settings = dataclasses.replace(portal.settings, follow_up_rate=0.001, follow_up_burst=2)
    app = create_app(settings)
    client = app.test_client()
    statuses = []
    for _ in range(3):
        token = csrf_token(client, "/follow-up")
        response = client.post("/follow-up", data={"csrf_token": token, "receipt": VALID_LOOKING})
        statuses.append(response.status_code)
    assert statuses == [400, 400, 429]
    assert "Wait a minute" in response.get_data(as_text=True)
    app.extensions["portal_db"].dispose()


def test_a_typo_costs_no_budget(portal):
    settings = dataclasses.replace(portal.settings, follow_up_rate=0.001, follow_up_burst=1)
    app = create_app(settings)
    client = app.test_client()
    for _ in range(3):
        token = csrf_token(client, "/follow-up")
        response = client.post(
            "/follow-up", data={"csrf_token": token, "receipt": "0000 0000 0000 0000 0001"}
        )
        assert response.status_code == 400
        assert "not a receipt number" in response.get_data(as_text=True)
    app.extensions["portal_db"].dispose()


def test_sends_past_the_filing_budget_wait_with_everything_kept(portal):
    """Every receipt is an Argon2id run: past the filing budget the check page asks the reporter
    to send again in a minute; nothing is stored and the draft, files and answers stay."""
    from sqlalchemy import func, select

    from portal.models import Case
    from tests.support.filing import add_files, answer, begin, send

    settings = dataclasses.replace(portal.settings, filing_rate=0.001, filing_burst=1)
    app = create_app(settings)
    first, second = app.test_client(), app.test_client()
    try:
        for client, text in ((first, "Budget-canary one"), (second, "Budget-canary two")):
            begin(client, None)
            answer(client, "what", {"what_happened": text}, None)
            add_files(client, [("photo.jpg", b"\xff\xd8 budget")])
        send(first, None)  # the one derivation the budget allows
        token = csrf_token(second, "/report/check")
        refused = second.post("/report/send", data={"csrf_token": token})
        html = refused.get_data(as_text=True)
        assert refused.status_code == 429
        assert "Wait a minute, then send yours again." in html
        assert "Budget-canary two" in html and "photo.jpg" in html  # the draft is untouched
        with app.extensions["portal_db"].engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(Case)) == 1
    finally:
        app.extensions["portal_db"].dispose()


def test_the_budgets_are_set_from_the_environment(tmp_path):
    from portal.config import ConfigError, Settings

    env = {
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_FOLLOW_UP_RATE": "2.5",
        "PORTAL_FOLLOW_UP_BURST": "3",
        "PORTAL_FOLLOW_UP_PER_CLIENT": "4",
        "PORTAL_FILING_RATE": "5",
        "PORTAL_FILING_BURST": "40",
    }
    settings = Settings.from_env(env)
    assert (settings.follow_up_rate, settings.follow_up_burst) == (2.5, 3)
    assert settings.follow_up_per_client == 4
    assert (settings.filing_rate, settings.filing_burst) == (5.0, 40)
    for name, bad in (
        ("PORTAL_FILING_RATE", "0"),
        ("PORTAL_FOLLOW_UP_RATE", "fast"),
        ("PORTAL_FILING_BURST", "-1"),
        ("PORTAL_FOLLOW_UP_RATE", "inf"),
    ):
        try:
            Settings.from_env({**env, name: bad})
        except ConfigError:
            continue
        raise AssertionError(f"{name}={bad} was taken")
