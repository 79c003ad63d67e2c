"""Accounts: a person's own page (password change, sign out everywhere) and the admin's list,
where one button switches an account off at once; and ``flask account deactivate``."""

from __future__ import annotations

import re

from sqlalchemy import select

import crypto
from portal import totp
from portal.models import AuditEvent, RecoveryCode, Role, StaffSession
from tests.conftest import PASSWORD, csrf_token, sign_in
from tests.functional.helpers import account_by_email, case_url, only_case_id, staff_client
from tests.support.filing import file_complaint

CASEWORKER = "cw@example.org"
ADMIN = "admin@example.org"
NEW_PASSWORD = "seven blue herons over the delta"
ACCOUNTS = "/caseworker/admin/accounts"


def sessions_of(portal, email: str) -> list[StaffSession]:  # type: ignore[no-untyped-def]
    account = account_by_email(portal, email)
    with portal.db as db:
        return list(db.scalars(select(StaffSession).where(StaffSession.account_id == account.id)))


def events(portal, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with portal.db as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def password_refused(portal, email: str, password: str) -> bool:  # type: ignore[no-untyped-def]
    client = portal.app.test_client()
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in", data={"csrf_token": token, "email": email, "password": password}
    )
    text = response.get_data(as_text=True)
    return response.status_code == 400 and "The email or the password is not right." in text


def change(client, current: str, new: str, again: str | None = None):  # type: ignore[no-untyped-def]
    form = {
        "csrf_token": csrf_token(client, "/caseworker/account"),
        "current_password": current,
        "new_password": new,
        "new_password_again": new if again is None else again,
    }
    return client.post("/caseworker/account/password", data=form)


# --- the account page -------------------------------------------------------------------------


def test_sign_out_everywhere_ends_every_session_of_the_account_only(portal):
    portal.account(CASEWORKER)
    portal.account("other@example.org")
    here, elsewhere = staff_client(portal, CASEWORKER), staff_client(portal, CASEWORKER)
    other = staff_client(portal, "other@example.org")

    refused = here.post("/caseworker/account/sign-out-everywhere", data={})
    assert refused.status_code == 400
    assert len(sessions_of(portal, CASEWORKER)) == 2

    token = csrf_token(here, "/caseworker/account")
    response = here.post("/caseworker/account/sign-out-everywhere", data={"csrf_token": token})

    assert response.headers["Location"] == "/sign-in?notice=signed-out-everywhere"
    assert sessions_of(portal, CASEWORKER) == []
    assert elsewhere.get("/caseworker/cases").headers["Location"] == "/sign-in"
    assert other.get("/caseworker/cases").status_code == 200
    assert len(events(portal, "account.signed_out_everywhere")) == 1


def test_a_password_change_rewraps_the_key_and_ends_every_session(portal, client):
    portal.account(CASEWORKER)
    file_complaint(client, text="They took the harvest")
    staff, elsewhere = staff_client(portal, CASEWORKER), staff_client(portal, CASEWORKER)
    before = account_by_email(portal, CASEWORKER)

    response = change(staff, PASSWORD, NEW_PASSWORD)

    assert response.headers["Location"] == "/sign-in?notice=password-changed"
    assert sessions_of(portal, CASEWORKER) == []
    assert elsewhere.get("/caseworker/cases").headers["Location"] == "/sign-in"
    after = account_by_email(portal, CASEWORKER)
    assert after.public_key == before.public_key  # the same key pair, under a new password
    assert after.wrapped_private_key != before.wrapped_private_key
    opened = crypto.unlock_account_key(
        after.id, NEW_PASSWORD, after.wrapped_private_key, after.public_key
    )
    assert crypto.public_bytes(opened) == after.public_key
    assert password_refused(portal, CASEWORKER, PASSWORD)
    fresh = portal.app.test_client()
    sign_in(fresh, CASEWORKER, NEW_PASSWORD)
    assert "They took the harvest" in fresh.get(case_url(only_case_id(portal))).get_data(
        as_text=True
    )
    assert len(events(portal, "account.password_changed")) == 1


def test_a_password_change_is_refused_with_reasons_and_changes_nothing(portal):
    portal.account(CASEWORKER)
    staff = staff_client(portal, CASEWORKER)
    before = account_by_email(portal, CASEWORKER).wrapped_private_key
    cases = [
        ((PASSWORD + "!", NEW_PASSWORD), "Your current password is not right."),
        ((PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "?"), "The two new passwords are not the same."),
        ((PASSWORD, "short"), "Use at least 12 characters."),
        ((PASSWORD, "PasswordPassword"), "This password is too common."),
    ]
    for arguments, message in cases:
        response = change(staff, *arguments)
        assert response.status_code == 400, arguments
        assert message in response.get_data(as_text=True)
    assert account_by_email(portal, CASEWORKER).wrapped_private_key == before
    assert len(sessions_of(portal, CASEWORKER)) == 1
    assert account_by_email(portal, CASEWORKER).failed_signins == 1  # the wrong current one


# --- the admin's list -------------------------------------------------------------------------


def test_only_admins_see_the_accounts_list(portal):
    portal.account(CASEWORKER)
    portal.account(ADMIN, Role.ADMIN)
    page = staff_client(portal, ADMIN).get(ACCOUNTS)
    assert page.status_code == 200
    assert CASEWORKER in page.get_data(as_text=True)
    assert staff_client(portal, CASEWORKER).get(ACCOUNTS).status_code == 404
    assert portal.app.test_client().get(ACCOUNTS).headers["Location"] == "/sign-in"


def test_deactivating_an_account_ends_its_sessions_at_once(portal):
    target = portal.account(CASEWORKER)
    admin_account = portal.account(ADMIN, Role.ADMIN)
    victim_browser = staff_client(portal, CASEWORKER)
    admin = staff_client(portal, ADMIN)
    url = f"{ACCOUNTS}/{target.id}/deactivate"

    assert admin.post(url, data={}).status_code == 400  # no CSRF token: nothing happens
    assert account_by_email(portal, CASEWORKER).is_active

    response = admin.post(url, data={"csrf_token": csrf_token(admin, ACCOUNTS)})

    assert response.status_code == 302
    assert f"{CASEWORKER} was deactivated" in admin.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert not account_by_email(portal, CASEWORKER).is_active
    assert sessions_of(portal, CASEWORKER) == []
    assert victim_browser.get("/caseworker/cases").headers["Location"] == "/sign-in"
    assert password_refused(portal, CASEWORKER, PASSWORD)
    (event,) = events(portal, "account.deactivated")
    assert (event.actor_account_id, event.detail) == (admin_account.id, str(target.id))


def test_an_admin_cannot_deactivate_their_own_account(portal):
    admin_account = portal.account(ADMIN, Role.ADMIN)
    admin = staff_client(portal, ADMIN)
    response = admin.post(
        f"{ACCOUNTS}/{admin_account.id}/deactivate",
        data={"csrf_token": csrf_token(admin, ACCOUNTS)},
    )
    assert response.status_code == 400
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    assert account_by_email(portal, ADMIN).is_active


def test_a_caseworker_cannot_deactivate_anyone(portal):
    portal.account(CASEWORKER)
    other = portal.account("other@example.org")
    staff = staff_client(portal, CASEWORKER)
    token = csrf_token(staff, "/caseworker/account")
    response = staff.post(f"{ACCOUNTS}/{other.id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 404
    assert account_by_email(portal, "other@example.org").is_active


def test_the_deactivate_command_switches_an_account_off(portal):
    portal.account(CASEWORKER)
    browser = staff_client(portal, CASEWORKER)
    runner = portal.app.test_cli_runner()

    result = runner.invoke(args=["account", "deactivate", "--email", CASEWORKER.upper()])

    assert result.exit_code == 0, result.output
    assert re.search(r"Deactivated cw@example\.org", result.output)
    assert not account_by_email(portal, CASEWORKER).is_active
    assert browser.get("/caseworker/cases").headers["Location"] == "/sign-in"
    (event,) = events(portal, "account.deactivated")
    assert event.actor_account_id is None
    unknown = runner.invoke(args=["account", "deactivate", "--email", "nobody@example.org"])
    assert unknown.exit_code != 0
    assert "There is no account with email nobody@example.org." in unknown.output


# --- resetting a lost second factor -----------------------------------------------------------


def test_an_admin_resets_a_lost_second_factor_and_the_person_enrols_again(portal):
    target = portal.account(CASEWORKER)
    admin_account = portal.account(ADMIN, Role.ADMIN)
    with portal.app.app_context(), portal.db as db:
        totp.replace_recovery_codes(db, portal.data_dir.server_mac_key(), target.id)
        db.commit()
    victim_browser = staff_client(portal, CASEWORKER)
    admin = staff_client(portal, ADMIN)
    url = f"{ACCOUNTS}/{target.id}/reset-second-factor"
    assert f'action="{url}"' in admin.get(ACCOUNTS).get_data(as_text=True)

    assert admin.post(url, data={}).status_code == 400  # no CSRF token: nothing happens
    assert account_by_email(portal, CASEWORKER).totp_secret is not None

    response = admin.post(url, data={"csrf_token": csrf_token(admin, ACCOUNTS)})

    assert response.status_code == 302
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{CASEWORKER} was signed out everywhere and will set up a new second factor" in page
    after = account_by_email(portal, CASEWORKER)
    assert (after.totp_secret, after.totp_last_step, after.is_active) == (None, None, True)
    with portal.db as db:
        assert (
            db.scalars(select(RecoveryCode).where(RecoveryCode.account_id == target.id)).all() == []
        )
    assert sessions_of(portal, CASEWORKER) == []
    assert victim_browser.get("/caseworker/cases").headers["Location"] == "/sign-in"
    (event,) = events(portal, "account.second_factor_reset")
    assert (event.actor_account_id, event.detail) == (admin_account.id, str(target.id))
    # The password still opens the account, and leads straight to setting up a new factor.
    fresh = portal.app.test_client()
    token = csrf_token(fresh, "/sign-in")
    signed = fresh.post(
        "/sign-in", data={"csrf_token": token, "email": CASEWORKER, "password": PASSWORD}
    )
    assert signed.headers["Location"] == "/sign-in/enrol"
    assert fresh.get("/caseworker/cases").headers["Location"] == "/sign-in"


def test_an_admin_cannot_reset_their_own_second_factor(portal):
    admin_account = portal.account(ADMIN, Role.ADMIN)
    admin = staff_client(portal, ADMIN)
    response = admin.post(
        f"{ACCOUNTS}/{admin_account.id}/reset-second-factor",
        data={"csrf_token": csrf_token(admin, ACCOUNTS)},
    )
    assert response.status_code == 400
    assert "You cannot reset your own second factor" in response.get_data(as_text=True)
    assert account_by_email(portal, ADMIN).totp_secret is not None
    assert events(portal, "account.second_factor_reset") == []


def test_a_supervisor_cannot_reset_anyone_s_second_factor(portal):
    portal.account("supervisor@example.org", Role.SUPERVISOR)
    other = portal.account(CASEWORKER)
    staff = staff_client(portal, "supervisor@example.org")
    token = csrf_token(staff, "/caseworker/account")
    response = staff.post(f"{ACCOUNTS}/{other.id}/reset-second-factor", data={"csrf_token": token})
    assert response.status_code == 404
    assert account_by_email(portal, CASEWORKER).totp_secret is not None
