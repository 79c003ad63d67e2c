"""The mandatory second factor: half sessions, TOTP codes and their replay, recovery codes,
enrolment on first sign-in, and the TOTP secret at rest."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

import crypto
from portal import totp
from portal.models import AuditEvent, RecoveryCode, StaffSession, utcnow
from tests.conftest import PASSWORD, csrf_token, sign_in
from tests.functional.helpers import account_by_email, case_url, only_case_id
from tests.functional.test_at_rest import every_stored_value
from tests.support.filing import file_complaint

CASEWORKER = "cw@example.org"
NOW = 1_700_000_010.0  # a fixed clock for the code checks: step 56_666_667
STEP = int(NOW) // totp.STEP_SECONDS
SECOND_FACTOR = "/sign-in/second-factor"
ENROL = "/sign-in/enrol"
SHOWN_SECRET = re.compile(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)</code>')
SHOWN_CODES = re.compile(r"<code>([A-Z2-7]{4}(?:-[A-Z2-7]{4}){3})</code>")


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(totp, "now", lambda: NOW)


def password_step(client, email: str = CASEWORKER, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/sign-in")
    return client.post("/sign-in", data={"csrf_token": token, "email": email, "password": password})


def send_code(client, code: str, path: str = SECOND_FACTOR):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, path), "code": code})


def sessions(portal) -> list[StaffSession]:  # type: ignore[no-untyped-def]
    with portal.db as db:
        return list(db.scalars(select(StaffSession)))


def actions(portal) -> list[str]:  # type: ignore[no-untyped-def]
    with portal.db as db:
        return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_password_alone_opens_a_short_half_session_that_opens_no_case(portal, client):
    portal.account(CASEWORKER)
    file_complaint(client)
    staff = portal.app.test_client()

    response = password_step(staff)

    assert response.status_code == 302
    assert response.headers["Location"] == SECOND_FACTOR
    (row,) = sessions(portal)
    assert row.second_factor_done is False
    assert row.expires_at - row.created_at == timedelta(minutes=5)
    for path in ("/caseworker/cases", case_url(only_case_id(portal)), "/caseworker/account"):
        refused = staff.get(path)
        assert refused.status_code == 302, path
        assert refused.headers["Location"] == "/sign-in"
    assert "account.signed_in" not in actions(portal)


def test_a_good_code_replaces_the_half_session_under_a_new_cookie(portal, clock):
    portal.account(CASEWORKER)
    staff = portal.app.test_client()
    password_step(staff)
    half_cookie = staff.get_cookie("staff").value

    response = send_code(staff, totp.code_at(portal.totp_secrets[CASEWORKER], STEP))

    assert response.status_code == 302
    assert response.headers["Location"] == "/caseworker/cases"
    full_cookie = staff.get_cookie("staff").value
    assert full_cookie != half_cookie
    (row,) = sessions(portal)
    assert row.second_factor_done is True
    assert row.id == crypto.session_lookup_id(base64.urlsafe_b64decode(full_cookie))
    assert staff.get("/caseworker/cases").status_code == 200
    # A full session has nothing to do on the second-factor page.
    assert staff.get(SECOND_FACTOR).headers["Location"] == "/caseworker/cases"
    replay = portal.app.test_client()
    replay.set_cookie("staff", half_cookie)
    assert replay.get("/caseworker/cases").headers["Location"] == "/sign-in"
    assert replay.get(SECOND_FACTOR).headers["Location"] == "/sign-in?notice=expired"
    assert actions(portal).count("account.signed_in") == 1


def test_a_code_is_refused_once_used_and_so_is_an_earlier_one(portal, clock):
    portal.account(CASEWORKER)
    secret = portal.totp_secrets[CASEWORKER]
    first = portal.app.test_client()
    password_step(first)
    assert send_code(first, totp.code_at(secret, STEP)).status_code == 302

    second = portal.app.test_client()
    password_step(second)
    reused = send_code(second, totp.code_at(secret, STEP))
    assert reused.status_code == 400
    assert "This code is not right, or it was used already." in reused.get_data(as_text=True)
    earlier = send_code(second, totp.code_at(secret, STEP - 1))  # inside the window, but older
    assert earlier.status_code == 400
    later = send_code(second, totp.code_at(secret, STEP + 1))
    assert later.status_code == 302
    assert account_by_email(portal, CASEWORKER).totp_last_step == STEP + 1
    assert actions(portal).count("account.sign_in_failed") == 2


@pytest.mark.parametrize("offset", [-2, 2, 10])
def test_a_code_outside_one_step_either_side_is_refused(portal, clock, offset):
    portal.account(CASEWORKER)
    staff = portal.app.test_client()
    password_step(staff)
    code = totp.code_at(portal.totp_secrets[CASEWORKER], STEP + offset)

    assert send_code(staff, code).status_code == 400
    assert sessions(portal)[0].second_factor_done is False


def test_a_step_at_or_before_the_last_accepted_one_never_matches():
    secret = totp.new_secret()
    code = totp.code_at(secret, STEP)
    assert totp.matching_step(secret, code, None, NOW) == STEP
    assert totp.matching_step(secret, code, STEP - 1, NOW) == STEP
    assert totp.matching_step(secret, code, STEP, NOW) is None
    assert totp.matching_step(secret, totp.code_at(secret, STEP - 1), STEP - 1, NOW) is None
    assert totp.matching_step(secret, totp.code_at(secret, STEP + 1), STEP, NOW) == STEP + 1


def test_signing_in_again_in_the_same_browser_replaces_its_old_session(portal):
    portal.account(CASEWORKER)
    staff = portal.app.test_client()
    sign_in(staff, CASEWORKER)
    sign_in(staff, CASEWORKER)
    assert len(sessions(portal)) == 1
    assert staff.get("/caseworker/cases").status_code == 200


def test_codes_typed_with_spaces_or_in_eastern_arabic_digits_are_accepted(portal, clock):
    portal.account(CASEWORKER)
    code = totp.code_at(portal.totp_secrets[CASEWORKER], STEP)
    staff = portal.app.test_client()
    password_step(staff)
    arabic = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))

    assert send_code(staff, f"{arabic[:3]} {arabic[3:]}").status_code == 302


def test_a_recovery_code_signs_in_once_only(portal):
    account = portal.account(CASEWORKER)
    with portal.db as db:
        codes = totp.replace_recovery_codes(db, portal.data_dir.server_mac_key(), account.id)
        db.commit()
    assert len(codes) == len(set(codes)) == 10
    first = portal.app.test_client()
    password_step(first)

    typed = codes[3].lower().replace("-", " ")  # case and separators do not matter
    assert send_code(first, typed).status_code == 302

    second = portal.app.test_client()
    password_step(second)
    assert send_code(second, codes[3]).status_code == 400
    assert send_code(second, codes[4]).status_code == 302
    with portal.db as db:
        used = db.scalars(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None))).all()
    assert len(used) == 2
    assert actions(portal).count("account.recovery_code_used") == 2


def wrong_code(secret: str) -> str:
    """A six-digit code that no step inside the window gives."""
    window = {totp.code_at(secret, STEP + offset) for offset in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in window)


def test_first_sign_in_enrols_with_a_server_drawn_qr_code_and_shows_recovery_codes(portal, clock):
    portal.account(CASEWORKER, enrolled=False)
    staff = portal.app.test_client()
    assert password_step(staff).headers["Location"] == ENROL
    assert staff.get(SECOND_FACTOR).headers["Location"] == ENROL

    page = staff.get(ENROL)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<svg role="img" aria-label=' in html and "<path" in html
    assert "<script" not in html and "style=" not in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    secret = SHOWN_SECRET.search(html).group(1).replace(" ", "")
    assert len(secret) == 32
    assert (
        SHOWN_SECRET.search(staff.get(ENROL).get_data(as_text=True)).group(1).replace(" ", "")
        == secret
    )  # the same secret until this half session ends
    raw_secret = base64.b32decode(secret)
    leaks = [
        (table, column)
        for table, column, value in every_stored_value(portal)
        if secret.encode() in value or raw_secret in value
    ]
    assert leaks == []  # the secret being enrolled is sealed in the half session

    wrong = send_code(staff, wrong_code(secret), ENROL)
    assert wrong.status_code == 400
    assert account_by_email(portal, CASEWORKER).totp_secret is None

    half_cookie = staff.get_cookie("staff").value
    done = send_code(staff, totp.code_at(secret, STEP), ENROL)
    assert done.status_code == 200
    codes = SHOWN_CODES.findall(done.get_data(as_text=True))
    assert len(set(codes)) == 10
    assert staff.get_cookie("staff").value != half_cookie
    assert staff.get("/caseworker/cases").status_code == 200

    account = account_by_email(portal, CASEWORKER)
    key = crypto.unlock_account_key(
        account.id, PASSWORD, account.wrapped_private_key, account.public_key
    )
    stored = totp.open_secret(key, totp.secret_context(account.id), account.totp_secret)
    assert stored == secret
    values = every_stored_value(portal)
    assert not [(t, c) for t, c, v in values if secret.encode() in v or raw_secret in v]
    assert not [
        (t, c) for t, c, v in values for code in codes if code.replace("-", "").encode() in v
    ]
    assert "account.second_factor_enrolled" in actions(portal)

    again = portal.app.test_client()
    password_step(again)
    assert send_code(again, codes[0]).status_code == 302


def test_enrolment_never_replaces_a_second_factor(portal, clock):
    account = portal.account(CASEWORKER)
    staff = portal.app.test_client()
    assert password_step(staff).headers["Location"] == SECOND_FACTOR

    assert staff.get(ENROL).headers["Location"] == SECOND_FACTOR
    attacker_secret = totp.new_secret()
    response = staff.post(
        ENROL,
        data={
            "csrf_token": csrf_token(staff, SECOND_FACTOR),
            "code": totp.code_at(attacker_secret, STEP),
        },
    )
    assert response.headers["Location"] == SECOND_FACTOR
    assert account_by_email(portal, CASEWORKER).totp_secret == account.totp_secret


def test_the_sealed_secret_opens_only_in_its_own_row(portal):
    first = portal.account(CASEWORKER)
    portal.account("other@example.org")
    key = crypto.unlock_account_key(first.id, PASSWORD, first.wrapped_private_key, first.public_key)
    other = account_by_email(portal, "other@example.org")
    assert totp.open_secret(key, totp.secret_context(first.id), first.totp_secret)
    with pytest.raises(crypto.IntegrityError):
        totp.open_secret(key, totp.secret_context(other.id), first.totp_secret)


def test_a_half_session_ends_after_five_minutes(portal):
    portal.account(CASEWORKER)
    staff = portal.app.test_client()
    password_step(staff)
    with portal.db as db:
        (row,) = db.scalars(select(StaffSession)).all()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.commit()

    response = staff.get(SECOND_FACTOR)

    assert response.headers["Location"] == "/sign-in?notice=expired"
    assert sessions(portal) == []


def test_signing_out_during_the_second_step_deletes_the_half_session(portal):
    portal.account(CASEWORKER)
    staff = portal.app.test_client()
    password_step(staff)

    response = staff.post("/sign-out", data={"csrf_token": csrf_token(staff, SECOND_FACTOR)})

    assert response.headers["Location"] == "/sign-in"
    assert sessions(portal) == []


def test_the_helper_signs_the_same_account_in_many_times_in_a_row(portal):
    """conftest's sign_in steps past the last used code; this is what other tests rely on."""
    portal.account(CASEWORKER)
    for _ in range(4):
        sign_in(portal.app.test_client(), CASEWORKER)
    assert len([row for row in sessions(portal) if row.second_factor_done]) == 4
