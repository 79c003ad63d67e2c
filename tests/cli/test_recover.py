"""P6: ``flask account recover`` restores a caseworker who forgot their password, with the
offline recovery secret: a new key pair and password, and every case granted again."""

from __future__ import annotations

import pytest
from click.testing import Result
from sqlalchemy import select

import crypto
from portal.models import AuditEvent, Grant, StaffSession
from tests.conftest import PASSWORD, Portal, csrf_token, sign_in
from tests.functional.helpers import account_by_email, case_ids, case_url, staff_client
from tests.support.filing import file_complaint

CASEWORKER = "cw@example.org"
COLLEAGUE = "colleague@example.org"
NEW_PASSWORD = "nine amber kites above the mill"
TEXTS = ("The guards burned the stalls", "My cousin was taken at night")


def recover(portal: Portal, stdin: str, *extra: str, email: str = CASEWORKER) -> Result:
    args = ["account", "recover", "--email", email, *extra]
    return portal.app.test_cli_runner().invoke(args=args, input=stdin)


def grants_of(portal: Portal, email: str) -> dict[object, bytes]:
    """Compartment id -> grant id of every grant the account holds."""
    account = account_by_email(portal, email)
    with portal.db as db:
        rows = db.scalars(select(Grant).where(Grant.account_id == account.id)).all()
    return {row.compartment_id: row.id.bytes for row in rows}


def refused_at_sign_in(portal: Portal, password: str) -> bool:
    client = portal.app.test_client()
    token = csrf_token(client, "/sign-in")
    form = {"csrf_token": token, "email": CASEWORKER, "password": password}
    response = client.post("/sign-in", data=form)
    return response.status_code == 400


@pytest.fixture
def caseworker_with_cases(portal: Portal, client):  # type: ignore[no-untyped-def]
    """A caseworker and a colleague, both granted two cases; the caseworker is signed in."""
    portal.account(CASEWORKER)
    portal.account(COLLEAGUE)
    for text in TEXTS:
        file_complaint(client, text=text)
    return staff_client(portal, CASEWORKER)


def test_recover_gives_a_new_password_that_opens_every_case_and_the_old_one_nothing(
    portal, caseworker_with_cases
):
    before = account_by_email(portal, CASEWORKER)
    held = grants_of(portal, CASEWORKER)
    colleague_held = grants_of(portal, COLLEAGUE)
    assert len(held) == 6  # two cases, three compartments each

    result = recover(portal, f"{portal.recovery_secret}\n{NEW_PASSWORD}\n", "--password-stdin")

    assert result.exit_code == 0, result.output
    assert "6 compartment(s)" in result.output
    after = account_by_email(portal, CASEWORKER)
    assert after.public_key != before.public_key
    assert after.totp_secret is None  # a new second factor is set up at the next sign-in
    regranted = grants_of(portal, CASEWORKER)
    assert regranted.keys() == held.keys()
    assert not set(regranted.values()) & set(held.values())  # every grant is a new one
    assert grants_of(portal, COLLEAGUE) == colleague_held
    with portal.db as db:
        assert db.scalars(select(StaffSession)).all() == []
        (event,) = db.scalars(select(AuditEvent).where(AuditEvent.action == "account.recovered"))
    assert (event.actor_account_id, event.detail) == (None, str(after.id))
    assert caseworker_with_cases.get("/caseworker/cases").headers["Location"] == "/sign-in"

    assert refused_at_sign_in(portal, PASSWORD)
    with pytest.raises(crypto.WrongSecretError):
        crypto.unlock_account_key(after.id, PASSWORD, after.wrapped_private_key, after.public_key)
    staff = portal.app.test_client()
    sign_in(staff, CASEWORKER, NEW_PASSWORD)  # enrols a new second factor on the way
    pages = [staff.get(case_url(case_id)) for case_id in case_ids(portal)]
    assert [page.status_code for page in pages] == [200, 200]
    shown = "".join(page.get_data(as_text=True) for page in pages)
    assert all(text in shown for text in TEXTS)


def test_recover_asks_for_the_new_password_twice_without_password_stdin(
    portal, caseworker_with_cases
):
    stdin = f"{portal.recovery_secret}\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n"

    result = recover(portal, stdin)

    assert result.exit_code == 0, result.output
    sign_in(portal.app.test_client(), CASEWORKER, NEW_PASSWORD)


def _typo(secret: str) -> str:
    index = len(secret) - 3
    replacement = "A" if secret[index] != "A" else "B"
    return secret[:index] + replacement + secret[index + 1 :]


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("typo", "That is not a recovery secret (check it for typos)."),
        ("another installation", "That recovery secret does not belong to this installation."),
        ("weak password", "Password refused: Use at least 12 characters."),
        ("unknown account", "There is no account with email nobody@example.org."),
    ],
)
def test_recover_refuses_and_changes_nothing(portal, caseworker_with_cases, which, message):
    secret, password, email = portal.recovery_secret, NEW_PASSWORD, CASEWORKER
    if which == "typo":
        secret = _typo(secret)
    elif which == "another installation":
        _key, secret = crypto.generate_recovery_key()
    elif which == "weak password":
        password = "too short"
    else:
        email = "nobody@example.org"
    before = account_by_email(portal, CASEWORKER)
    held = grants_of(portal, CASEWORKER)

    result = recover(portal, f"{secret}\n{password}\n", "--password-stdin", email=email)

    assert result.exit_code != 0
    assert message in result.output
    after = account_by_email(portal, CASEWORKER)
    assert (after.public_key, after.wrapped_private_key) == (
        before.public_key,
        before.wrapped_private_key,
    )
    assert grants_of(portal, CASEWORKER) == held
    assert caseworker_with_cases.get("/caseworker/cases").status_code == 200


def test_recover_refuses_a_tampered_recovery_grant_and_changes_nothing(
    portal, caseworker_with_cases
):
    """The recovery grant's MAC is checked: a database writer cannot slip in a grant."""
    held = grants_of(portal, CASEWORKER)
    with portal.db as db:
        recovery = db.scalars(select(Grant).where(Grant.holder == "recovery")).first()
        recovery.wrap = recovery.wrap[:-1] + bytes([recovery.wrap[-1] ^ 1])
        db.commit()

    result = recover(portal, f"{portal.recovery_secret}\n{NEW_PASSWORD}\n", "--password-stdin")

    assert result.exit_code != 0
    assert "Nothing was changed" in result.output
    assert grants_of(portal, CASEWORKER) == held
    assert not refused_at_sign_in(portal, PASSWORD)
