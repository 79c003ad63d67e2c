"""Signing in (password, then a second factor), signing out, the account page and the admin's
list of accounts.

The password step runs exactly one Argon2id derivation whether or not the account exists or is
paused, under a process-wide budget; it opens a five-minute half session that only the
second-factor pages accept. A good code replaces it with a full session under a new token.
"""

from __future__ import annotations

import uuid

from flask import (
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import delete, select
from werkzeug.wrappers import Response

import crypto
from portal import totp
from portal.config import Settings
from portal.cookies import clear_token_cookie
from portal.db import db_session
from portal.models import Account, AuditEvent, StaffSession
from portal.staff import (
    HalfSignedIn,
    PasswordRefused,
    SignedIn,
    authenticate,
    change_password,
    deactivate_account,
    end_all_sessions,
    end_session,
    finish_sign_in,
    is_throttled,
    record_failure,
    reset_second_factor,
    start_half_session,
)
from portal.throttle import DerivationBudget

from . import blueprint
from .forms import (
    ActionForm,
    EnrolForm,
    PasswordChangeForm,
    SecondFactorForm,
    SignInForm,
    SignOutForm,
)
from .roles import ADMIN_ROLES
from .session import (
    clear_session_cookie,
    current_staff,
    half_signed_in,
    session_token,
    set_session_cookie,
    staff_required,
)

# The process-wide ceiling on sign-in derivations: Argon2id runs a second, and in a burst.
SIGN_IN_RATE = 4.0
SIGN_IN_BURST = 20
BUDGET_KEY = "portal_sign_in_budget"

Page = Response | str | tuple[str, int]


def _settings() -> Settings:
    settings: Settings = current_app.extensions["portal_settings"]
    return settings


def _mac_key() -> bytes:
    """The server key (outside the database) that recovery codes are hashed under."""
    key: bytes = current_app.extensions["portal_data_dir"].server_mac_key()
    return key


def sign_in_budget() -> DerivationBudget:
    """This process's budget of sign-in derivations (made on first use)."""
    budget = DerivationBudget(SIGN_IN_RATE, SIGN_IN_BURST)
    found: DerivationBudget = current_app.extensions.setdefault(BUDGET_KEY, budget)
    return found


def _notices() -> dict[str, str]:
    return {
        "password-changed": _("Your password was changed. Sign in with the new one."),
        "signed-out-everywhere": _("You were signed out on every device."),
        "paused": _("There were too many failed attempts. Wait a few minutes, then sign in again."),
        "expired": _("Signing in took too long. Sign in again."),
        "account-created": _(
            "Your account is ready. Sign in: the first time, you set up a second factor."
        ),
    }


@blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Page:
    ext = current_app.extensions
    form = SignInForm()
    if form.validate_on_submit():
        if not sign_in_budget().try_spend():
            abort(429)
        db = db_session()
        result = authenticate(
            db, ext["portal_keyring"], _settings(), form.email.data or "", form.password.data or ""
        )
        if result is not None:
            account, private_key = result
            previous = session_token()
            if previous is not None:  # signing in again replaces this browser's old session
                db.execute(
                    delete(StaffSession).where(
                        StaffSession.id == crypto.session_lookup_id(previous)
                    )
                )
            token = start_half_session(db, account, private_key)
            db.commit()
            enrolled = account.totp_secret is not None
            response = redirect(
                url_for("caseworker.second_factor" if enrolled else "caseworker.enrol")
            )
            set_session_cookie(response, token, half=True)
            return response
        db.commit()  # the failure is logged and counted
        form.password.errors = [_("The email or the password is not right.")]
    status = 400 if form.is_submitted() else 200
    notice = _notices().get(request.args.get("notice", ""))
    return render_template("caseworker/sign_in.html", form=form, notice=notice), status


_LANDINGS = {
    "company": "caseworker.company_referrals",
    "intermediary": "caseworker.intermediary_home",
}


def _landing(role: str) -> str:
    """The endpoint each role starts from once signed in."""
    return _LANDINGS.get(role, "caseworker.cases")


def _half_or_redirect() -> HalfSignedIn | Response:
    """The half session, or where to go instead: the landing page when fully signed in, else
    sign-in."""
    who = current_staff()
    if who is not None:
        return redirect(url_for(_landing(who.account.role)))
    half = half_signed_in()
    if half is None:
        return redirect(url_for("caseworker.sign_in", notice="expired"))
    return half


def _signed_in(half: HalfSignedIn, page: str | None = None) -> Response:
    """Replace the half session with a full one under a new token (the cookie changes)."""
    token = finish_sign_in(db_session(), _settings(), half)
    db_session().commit()
    landing = _landing(half.account.role)
    response = make_response(page) if page is not None else redirect(url_for(landing))
    set_session_cookie(response, token)
    return response


@blueprint.route("/sign-in/second-factor", methods=["GET", "POST"])
def second_factor() -> Page:
    half = _half_or_redirect()
    if isinstance(half, Response):
        return half
    if half.enrol_secret is not None:
        return redirect(url_for("caseworker.enrol"))
    db = db_session()
    form = SecondFactorForm()
    if form.validate_on_submit():
        if is_throttled(half.account):
            record_failure(db, half.account, "paused", count=False)
            end_session(db, half.session_id)
            response = redirect(url_for("caseworker.sign_in", notice="paused"))
            clear_session_cookie(response)
            return response
        used = totp.check_second_factor(
            db, _mac_key(), half.account, half.private_key, form.code.data or ""
        )
        if used == "recovery-code":
            who = half.account.id
            db.add(AuditEvent(action="account.recovery_code_used", actor_account_id=who))
        if used is not None:
            return _signed_in(half)
        record_failure(db, half.account, "second factor", count=True)
        db.commit()
        form.code.errors = [
            _("This code is not right, or it was used already. Type the code the app shows now.")
        ]
    status = 400 if form.is_submitted() else 200
    return render_template("caseworker/two_factor.html", form=form), status


@blueprint.route("/sign-in/enrol", methods=["GET", "POST"])
def enrol() -> Page:
    half = _half_or_redirect()
    if isinstance(half, Response):
        return half
    secret = half.enrol_secret
    if secret is None or half.account.totp_secret is not None:
        # Enrolment never replaces a second factor (so a stolen password cannot take one over).
        return redirect(url_for("caseworker.second_factor"))
    form = EnrolForm()
    if form.validate_on_submit():
        db = db_session()
        codes = totp.enrol(
            db, _mac_key(), half.account, half.private_key, secret, form.code.data or ""
        )
        if codes is not None:
            page = render_template(
                "caseworker/recovery_codes.html",
                codes=codes,
                landing=_landing(half.account.role),
            )
            return _signed_in(half, page)
        form.code.errors = [
            _(
                "This code is not right. Check that the time on your phone is right, then type "
                "the code the app shows now."
            )
        ]
    issuer = _settings().site_title or request.host
    uri = totp.provisioning_uri(secret, half.account.email, issuer)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "caseworker/enrol.html",
        form=form,
        qr=totp.qr_svg(uri, _("QR code to scan with your authenticator app")),
        secret=totp.grouped(secret),
    ), status


@blueprint.post("/sign-out")
def sign_out() -> Response:
    """End whatever session the cookie opens (a half one too)."""
    form = SignOutForm()
    token = session_token()
    if form.validate_on_submit() and token is not None:
        end_session(db_session(), crypto.session_lookup_id(token))
    response = redirect(url_for("caseworker.sign_in"))
    clear_session_cookie(response)
    # A complaint being recorded or filed for others goes too: on a shared computer the next
    # person must not find its answers (the draft itself expires unread).
    clear_token_cookie(response, "draft")
    return response


# --- the account page -------------------------------------------------------------------------


def _account_page(password_form: PasswordChangeForm | None = None) -> tuple[str, int]:
    who = current_staff()
    assert who is not None
    form = password_form or PasswordChangeForm(formdata=None)
    return render_template(
        "caseworker/account.html",
        who=who,
        sign_out=SignOutForm(),
        password_form=form,
        action=ActionForm(),
        recovery_codes_left=totp.unused_recovery_codes(db_session(), who.account.id),
        is_admin=who.account.role in ADMIN_ROLES,
    ), 400 if form.errors else 200


@blueprint.get("/caseworker/account")
@staff_required()
def account() -> tuple[str, int]:
    return _account_page()


@blueprint.post("/caseworker/account/password")
@staff_required()
def change_own_password() -> Page:
    who = current_staff()
    assert who is not None
    form = PasswordChangeForm()
    if form.validate_on_submit():
        db = db_session()
        try:
            change_password(
                db,
                _settings(),
                who.account,
                form.current_password.data or "",
                form.new_password.data or "",
            )
        except PasswordRefused as refused:
            field, message = refused.args
            getattr(form, field).errors = [message]
            db.commit()  # a wrong current password is counted
        else:
            db.commit()
            response = redirect(url_for("caseworker.sign_in", notice="password-changed"))
            clear_session_cookie(response)
            return response
    return _account_page(form)


@blueprint.post("/caseworker/account/notifications")
@staff_required()
def notification_choice() -> Response:
    """Emails as things happen, or one daily summary (which tells the mail provider less)."""
    who = current_staff()
    assert who is not None
    if not ActionForm().validate_on_submit():
        abort(400)
    db = db_session()
    account = db.get(Account, who.account.id)
    assert account is not None
    account.notify_digest = request.form.get("digest") == "yes"
    db.add(
        AuditEvent(
            action="account.notifications_changed",
            actor_account_id=account.id,
            detail="digest" if account.notify_digest else "immediate",
        )
    )
    db.commit()
    return redirect(url_for("caseworker.account", saved="notifications") + "#notifications")


@blueprint.post("/caseworker/account/sign-out-everywhere")
@staff_required()
def sign_out_everywhere() -> Response:
    who = current_staff()
    assert who is not None
    if not ActionForm().validate_on_submit():
        abort(400)
    db = db_session()
    end_all_sessions(db, who.account.id)
    db.add(AuditEvent(action="account.signed_out_everywhere", actor_account_id=who.account.id))
    db.commit()
    response = redirect(url_for("caseworker.sign_in", notice="signed-out-everywhere"))
    clear_session_cookie(response)
    return response


# --- accounts, for admins ---------------------------------------------------------------------


@blueprint.get("/caseworker/admin/accounts")
@staff_required(*ADMIN_ROLES)
def accounts_admin(problem: str | None = None) -> tuple[str, int]:
    who = current_staff()
    assert who is not None
    accounts = db_session().scalars(select(Account).order_by(Account.email)).all()
    done = request.args.get("deactivated")
    deactivated = next((a for a in accounts if str(a.id) == done and not a.is_active), None)
    reset = next((a for a in accounts if str(a.id) == request.args.get("reset")), None)
    return render_template(
        "caseworker/accounts_admin.html",
        who=who,
        sign_out=SignOutForm(),
        accounts=accounts,
        action=ActionForm(),
        deactivated=deactivated,
        reset=reset if reset is not None and reset.totp_secret is None else None,
        problem=problem,
    ), 400 if problem else 200


def _acted_on(account_id: uuid.UUID) -> tuple[SignedIn, Account]:
    """The signed-in admin and the account one of their buttons acts on (CSRF checked)."""
    who = current_staff()
    assert who is not None
    if not ActionForm().validate_on_submit():
        abort(400)
    target = db_session().get(Account, account_id)
    if target is None:
        abort(404)
    return who, target


@blueprint.post("/caseworker/admin/accounts/<uuid:account_id>/deactivate")
@staff_required(*ADMIN_ROLES)
def deactivate(account_id: uuid.UUID) -> Page:
    who, target = _acted_on(account_id)
    if target.id == who.account.id:
        return accounts_admin(problem=_("You cannot deactivate your own account."))
    if target.is_active:
        deactivate_account(db_session(), target, who.account.id)
        db_session().commit()
    return redirect(url_for("caseworker.accounts_admin", deactivated=str(target.id)))


@blueprint.post("/caseworker/admin/accounts/<uuid:account_id>/reset-second-factor")
@staff_required(*ADMIN_ROLES)
def reset_second_factor_view(account_id: uuid.UUID) -> Page:
    who, target = _acted_on(account_id)
    if target.id == who.account.id:
        return accounts_admin(
            problem=_("You cannot reset your own second factor: use one of your recovery codes.")
        )
    if target.totp_secret is not None:
        reset_second_factor(db_session(), target, who.account.id)
        db_session().commit()
    return redirect(url_for("caseworker.accounts_admin", reset=str(target.id)))
