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
