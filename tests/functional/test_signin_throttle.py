"""Failed sign-ins pause an account with a growing delay, a process-wide budget caps Argon2id
runs, and neither tells whether an account exists: the same answer and one derivation each.

No timing is measured: the work is counted by wrapping the Argon2id function."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

import crypto.accounts
from caseworker.auth import BUDGET_KEY
from portal import totp
from portal.models import AuditEvent, StaffSession
from portal.staff import throttle_delay
from portal.throttle import DerivationBudget
from tests.conftest import PASSWORD, csrf_token, next_totp_code, sign_in
from tests.functional.helpers import account_by_email, count

CASEWORKER = "cw@example.org"
WRONG = PASSWORD + "!"
ERROR_SUMMARY = re.compile(r'<div class="error-summary" role="alert"[^>]*>(.*?)</div>', re.S)
FAILED = "The email or the password is not right."


@pytest.fixture
def argon2_runs(monkeypatch):  # type: ignore[no-untyped-def]
    """How many times Argon2id ran (sign-in derives through crypto.accounts)."""
    runs = []
    real = crypto.accounts.derive_key

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(crypto.accounts, "derive_key", counting)
    return runs


def attempt(portal, email: str, password: str):  # type: ignore[no-untyped-def]
    client = portal.app.test_client()
    token = csrf_token(client, "/sign-in")
    return client.post("/sign-in", data={"csrf_token": token, "email": email, "password": password})


def answer(response) -> tuple[int, str, bool]:  # type: ignore[no-untyped-def]
    """What a client can see of a refusal: status, error text, whether a cookie was set."""
    summary = ERROR_SUMMARY.search(response.get_data(as_text=True))
    cookie = "staff=" in (response.headers.get("Set-Cookie") or "")
    return response.status_code, summary.group(1) if summary else "", cookie


def move_failures_back(portal, email: str, by: timedelta) -> None:  # type: ignore[no-untyped-def]
    """As if the last failure were ``by`` longer ago (instead of waiting)."""
    with portal.db as db:
        account = db.merge(account_by_email(portal, email))
        account.last_failed_at -= by
        db.commit()


@pytest.mark.parametrize(
    ("failures", "minutes"), [(0, 0), (4, 0), (5, 1), (6, 2), (7, 4), (8, 8), (9, 15), (40, 15)]
)
def test_the_pause_doubles_from_five_failures_up_to_fifteen_minutes(failures, minutes):
    assert throttle_delay(failures) == timedelta(minutes=minutes)


def test_unknown_wrong_paused_and_inactive_get_the_same_answer_and_one_argon2_run(
    portal, argon2_runs
):
    portal.account(CASEWORKER)
    portal.account("gone@example.org")
    with portal.db as db:
        gone = db.merge(account_by_email(portal, "gone@example.org"))
        gone.is_active = False
        db.commit()
    answers = {}
    runs = {}

    def observe(name: str, email: str, password: str) -> None:
        before = len(argon2_runs)
        answers[name] = answer(attempt(portal, email, password))
        runs[name] = len(argon2_runs) - before

    observe("unknown", "nobody@example.org", PASSWORD)
    for index in range(5):
        observe(f"wrong {index}", CASEWORKER, WRONG)
    observe("paused, right password", CASEWORKER, PASSWORD)
    observe("inactive, right password", "gone@example.org", PASSWORD)

    assert set(answers.values()) == {(400, answers["unknown"][1], False)}
    assert FAILED in answers["unknown"][1]
    assert set(runs.values()) == {1}
    assert count(portal, StaffSession) == 0


def test_a_pause_ends_on_time_grows_with_more_failures_and_a_sign_in_clears_it(portal):
    portal.account(CASEWORKER)
    for _ in range(5):
        attempt(portal, CASEWORKER, WRONG)
    assert answer(attempt(portal, CASEWORKER, PASSWORD))[0] == 400  # paused for a minute

    move_failures_back(portal, CASEWORKER, timedelta(seconds=61))
    assert answer(attempt(portal, CASEWORKER, WRONG))[0] == 400  # the sixth failure: 2 minutes
    move_failures_back(portal, CASEWORKER, timedelta(seconds=61))
    assert answer(attempt(portal, CASEWORKER, PASSWORD))[0] == 400
    assert account_by_email(portal, CASEWORKER).failed_signins == 6  # a paused try is not counted

    move_failures_back(portal, CASEWORKER, timedelta(seconds=60))
    sign_in(portal.app.test_client(), CASEWORKER)
    account = account_by_email(portal, CASEWORKER)
    assert (account.failed_signins, account.last_failed_at) == (0, None)


def test_wrong_second_factor_codes_count_and_pause_the_account(portal, monkeypatch):
    portal.account(CASEWORKER)
    monkeypatch.setattr(totp, "now", lambda: 1_700_000_010.0)
    staff = portal.app.test_client()
    token = csrf_token(staff, "/sign-in")
    form = {"csrf_token": token, "email": CASEWORKER, "password": PASSWORD}
    assert staff.post("/sign-in", data=form).headers["Location"] == "/sign-in/second-factor"
    secret = portal.totp_secrets[CASEWORKER]
    window = {totp.code_at(secret, totp.current_step() + offset) for offset in (-1, 0, 1)}
    wrong = next(code for code in ("000000", "111111", "222222") if code not in window)
    for _ in range(5):
        form = {"csrf_token": csrf_token(staff, "/sign-in/second-factor"), "code": wrong}
        assert staff.post("/sign-in/second-factor", data=form).status_code == 400

    form = {
        "csrf_token": csrf_token(staff, "/sign-in/second-factor"),
        "code": next_totp_code(portal.app, CASEWORKER),
    }
    refused = staff.post("/sign-in/second-factor", data=form)

    assert refused.headers["Location"] == "/sign-in?notice=paused"
    assert "There were too many failed attempts" in staff.get(refused.headers["Location"]).get_data(
        as_text=True
    )
    with portal.db as db:
        left = db.scalars(select(StaffSession).where(StaffSession.second_factor_done)).all()
    assert left == []
    assert answer(attempt(portal, CASEWORKER, PASSWORD))[0] == 400


def test_the_process_wide_budget_refuses_before_any_argon2_run(portal, argon2_runs):
    portal.account(CASEWORKER)
    argon2_runs.clear()
    portal.app.extensions[BUDGET_KEY] = DerivationBudget(rate=0.0, burst=1)

    first = attempt(portal, "nobody@example.org", PASSWORD)
    known = attempt(portal, CASEWORKER, PASSWORD)
    unknown = attempt(portal, "nobody@example.org", PASSWORD)

    assert first.status_code == 400
    assert known.status_code == unknown.status_code == 429
    assert "Wait a minute and try again." in known.get_data(as_text=True)
    assert len(argon2_runs) == 1


def test_failures_are_audited_without_the_email_or_password_typed(portal):
    account = portal.account(CASEWORKER)
    attempt(portal, CASEWORKER, WRONG)
    attempt(portal, "nobody@example.org", WRONG)
    with portal.db as db:
        events = db.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "account.sign_in_failed")
            .order_by(AuditEvent.id)
        ).all()
    assert [event.actor_account_id for event in events] == [account.id, None]
    for event in events:
        assert "nobody" not in (event.detail or "") and WRONG not in (event.detail or "")
