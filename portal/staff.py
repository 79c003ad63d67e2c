"""Staff accounts and sessions: the password unlocks the account key; the session keeps it safe.

A successful unwrap of the account's private key *is* the password check, and an unknown or
throttled account costs the same single Argon2id run as a known one. A session stores the
unlocked key encrypted under a secret that only the browser's cookie holds (property P7). Signing
in takes two steps: the password opens a short *half* session that opens no case, and the second
factor (``portal.totp``) replaces it with a full one under a new token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from nacl.public import PrivateKey
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

import crypto
from crypto.encoding import decode_fields, encode_fields

from . import totp
from .config import Settings
from .keyring import Keyring
from .models import (
    Account,
    AuditEvent,
    Company,
    Organisation,
    RecoveryCode,
    Role,
    StaffSession,
    utcnow,
)

MIN_PASSWORD_CHARS = 12
_COMMON_PASSWORDS = frozenset(
    {
        "password1234",
        "123456789012",
        "qwertyuiopas",
        "letmein12345",
        "administrator",
        "passwordpassword",
        "correcthorsebatterystaple",
    }
)
SESSION_KIND = "staff"
HALF_SESSION_KIND = "staff-half"
HALF_SESSION_MINUTES = 5  # between the password and the second factor
_HALF_FORMAT = "half-session-1"
# Failed attempts in a row (password or second factor) before an account is paused, and the
# longest pause: after n >= 5 failures, min(2 ** (n - 5), 15) minutes.
THROTTLE_AFTER = 5
THROTTLE_MAX_MINUTES = 15


def password_problem(password: str, email: str = "") -> str | None:
    """Why a password is too weak, in words for the person choosing it; None if acceptable."""
    if len(password) < MIN_PASSWORD_CHARS:
        return ngettext(
            "Use at least %(num)d character.",
            "Use at least %(num)d characters.",
            MIN_PASSWORD_CHARS,
        )
    if len(set(password)) < 6:
        return _("Use more different characters.")
    lowered = password.lower()
    if lowered in _COMMON_PASSWORDS:
        return _("This password is too common.")
    local = email.split("@", 1)[0].lower()
    if len(local) >= 4 and local in lowered:
        return _("Do not use your email address in your password.")
    return None


class AccountExists(ValueError):  # noqa: N818
    """An account with this email already exists."""


def create_account(
    db: Session,
    keyring: Keyring,
    settings: Settings,
    *,
    email: str,
    display_name: str,
    role: Role,
    password: str,
    intake: bool,
    company: Company | None = None,
    organisation: Organisation | None = None,
    is_org_admin: bool = False,
) -> Account:
    """Create an account with a fresh key pair wrapped under its password.

    A ``company`` account (a grievance officer) belongs to one member company, and only it does;
    an ``intermediary`` account belongs to one organisation (``is_org_admin``: it may invite
    colleagues), and only it does.
    """
    email = email.strip().lower()
    if db.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise AccountExists(email)
    if (role is Role.COMPANY) != (company is not None):
        raise ValueError("a company account needs its company, and only it has one")
    if (role is Role.INTERMEDIARY) != (organisation is not None):
        raise ValueError("an intermediary account needs its organisation, and only it has one")
    problem = password_problem(password, email)
    if problem:
        raise ValueError(problem)
    account_id = uuid.uuid4()
    keys, _private = crypto.create_account_keys(account_id, password, settings.argon2)
    account = Account(
        id=account_id,
        email=email,
        display_name=display_name.strip(),
        role=role.value,
        in_intake_team=intake and role in (Role.CASEWORKER, Role.SUPERVISOR),
        public_key=keys.public_key,
        wrapped_private_key=keys.wrapped_private_key,
        company_id=company.id if company is not None else None,
        organisation_id=organisation.id if organisation is not None else None,
        is_org_admin=is_org_admin and organisation is not None,
    )
    keyring.sign_account(account)
    db.add(account)
    db.add(AuditEvent(action="account.created", actor_account_id=None, detail=role.value))
    return account


# --- throttling -------------------------------------------------------------------------------


def throttle_delay(failures: int) -> timedelta:
    """How long an account with ``failures`` failed attempts in a row is paused."""
    if failures < THROTTLE_AFTER:
        return timedelta(0)
    exponent = min(failures - THROTTLE_AFTER, 4)  # 2 ** 4 = 16 > the 15-minute ceiling
    return timedelta(minutes=min(2**exponent, THROTTLE_MAX_MINUTES))


def is_throttled(account: Account, now: datetime | None = None) -> bool:
    """Whether the account refuses attempts for now."""
    if account.last_failed_at is None or (account.failed_signins or 0) < THROTTLE_AFTER:
        return False
    moment = now or utcnow()
    return moment < account.last_failed_at + throttle_delay(account.failed_signins)


def record_failure(db: Session, account: Account | None, reason: str, *, count: bool) -> None:
    """Log a failed attempt; with ``count``, it lengthens the account's pause."""
    if account is not None and count:
        db.execute(
            update(Account)
            .where(Account.id == account.id)
            .values(failed_signins=Account.failed_signins + 1, last_failed_at=utcnow())
            .execution_options(synchronize_session="fetch")
        )
    db.add(
        AuditEvent(
            action="account.sign_in_failed",
            actor_account_id=account.id if account is not None else None,
            detail=reason,
        )
    )


def authenticate(
    db: Session, keyring: Keyring, settings: Settings, email: str, password: str
) -> tuple[Account, PrivateKey] | None:
    """The account and its unlocked key, or None.

    Exactly one Argon2id run whatever happens: an unknown or paused account runs it on a fake
    salt. A failure is logged (and counted against a known account); the caller commits.
    """
    account = db.scalar(select(Account).where(Account.email == email.strip().lower()))
    if account is None or is_throttled(account):
        crypto.burn_password_derivation(password, settings.argon2)
        reason = "unknown account" if account is None else "paused"
        record_failure(db, account, reason, count=False)
        return None
    try:
        private_key = crypto.unlock_account_key(
            account.id, password, account.wrapped_private_key, account.public_key
        )
    except (crypto.WrongSecretError, crypto.IntegrityError):
        record_failure(db, account, "password", count=True)
        return None
    if not account.is_active:
        record_failure(db, account, "inactive", count=False)
        return None
    keyring.verify_account(account)
    if crypto.wrapped_params(account.wrapped_private_key) != settings.argon2:
        # Outdated parameters are upgraded at the moment the password is at hand.
        account.wrapped_private_key = crypto.wrap_account_key(
            account.id, private_key, password, settings.argon2
        )
    return account, private_key


# --- sessions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    """A live staff session: who, with which unlocked key."""

    account: Account
    private_key: PrivateKey
    session_id: bytes


@dataclass(frozen=True)
class HalfSignedIn:
    """A session between the password and the second factor: it opens no case.

    ``enrol_secret`` is the TOTP secret being shown to an account that has none yet.
    """

    account: Account
    private_key: PrivateKey
    session_id: bytes
    enrol_secret: str | None


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _purge_expired(db: Session, account_id: uuid.UUID, now: datetime) -> None:
    db.execute(
        delete(StaffSession).where(
            StaffSession.account_id == account_id, StaffSession.expires_at <= now
        )
    )


def start_session(
    db: Session, settings: Settings, account: Account, private_key: PrivateKey
) -> bytes:
    """Create a full session and return the token for the cookie (never stored)."""
    token = crypto.new_session_token()
    now = utcnow()
    _purge_expired(db, account.id, now)
    expires_at = now + timedelta(hours=settings.staff_absolute_hours)
    db.add(
        StaffSession(
            id=crypto.session_lookup_id(token),
            account_id=account.id,
            wrapped_key=crypto.wrap_session_key(
                token, private_key, account.id, SESSION_KIND, _epoch(expires_at)
            ),
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            second_factor_done=True,
        )
    )
    db.add(AuditEvent(action="account.signed_in", actor_account_id=account.id))
    return token


def start_half_session(db: Session, account: Account, private_key: PrivateKey) -> bytes:
    """After the password: a five-minute session that only the second-factor pages accept.

    An account without a second factor gets a new TOTP secret to enrol, sealed to its own key
    and bound to this session; it is stored on the account only once a code proves it.
    """
    token = crypto.new_session_token()
    session_id = crypto.session_lookup_id(token)
    now = utcnow()
    _purge_expired(db, account.id, now)
    expires_at = now + timedelta(minutes=HALF_SESSION_MINUTES)
    pending = b""
    if account.totp_secret is None:
        context = totp.pending_context(account.id, session_id)
        public_key = crypto.public_bytes(private_key)
        pending = totp.seal_secret(public_key, context, totp.new_secret())
    wrap = crypto.wrap_session_key(
        token, private_key, account.id, HALF_SESSION_KIND, _epoch(expires_at)
    )
    db.add(
        StaffSession(
            id=session_id,
            account_id=account.id,
            wrapped_key=encode_fields([_HALF_FORMAT, wrap, pending]),
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            second_factor_done=False,
        )
    )
    return token


def _live_row(db: Session, settings: Settings, token: bytes) -> tuple[StaffSession, Account] | None:
    """The unexpired session row a token finds, and its active account."""
    try:
        session_id = crypto.session_lookup_id(token)
    except crypto.FormatError:
        return None
    row = db.get(StaffSession, session_id)
    if row is None:
        return None
    now = utcnow()
    idle_limit = row.last_seen_at + timedelta(minutes=settings.staff_idle_minutes)
    account = db.get(Account, row.account_id)
    if now >= row.expires_at or now >= idle_limit or account is None or not account.is_active:
        db.delete(row)
        db.commit()
        return None
    return row, account


def resume_session(db: Session, settings: Settings, token: bytes) -> SignedIn | None:
    """The full session a cookie token opens, if still valid; refreshes its idle timer.

    A half session (second factor not yet given) is no session here.
    """
    found = _live_row(db, settings, token)
    if found is None or not found[0].second_factor_done:
        return None
    row, account = found
    private_key = crypto.unwrap_session_key(
        token,
        row.wrapped_key,
        account.id,
        SESSION_KIND,
        _epoch(row.expires_at),
        account.public_key,
    )
    now = utcnow()
    if (now - row.last_seen_at).total_seconds() > 60:
        row.last_seen_at = now
        db.commit()
    return SignedIn(account=account, private_key=private_key, session_id=row.id)


def resume_half_session(db: Session, settings: Settings, token: bytes) -> HalfSignedIn | None:
    """The half session a cookie token opens, for the second-factor pages only."""
    found = _live_row(db, settings, token)
    if found is None or found[0].second_factor_done:
        return None
    row, account = found
    fields = decode_fields(row.wrapped_key)
    if len(fields) != 3 or fields[0] != _HALF_FORMAT:
        raise crypto.FormatError("not a half session")
    _format, wrap, pending = fields
    if not isinstance(wrap, bytes) or not isinstance(pending, bytes):
        raise crypto.FormatError("not a half session")
    private_key = crypto.unwrap_session_key(
        token, wrap, account.id, HALF_SESSION_KIND, _epoch(row.expires_at), account.public_key
    )
    secret = None
    if pending:
        context = totp.pending_context(account.id, row.id)
        secret = totp.open_secret(private_key, context, pending)
    return HalfSignedIn(account, private_key, row.id, secret)


def finish_sign_in(db: Session, settings: Settings, half: HalfSignedIn) -> bytes:
    """The second factor is done: the half session goes, a full one starts under a new token."""
    db.execute(delete(StaffSession).where(StaffSession.id == half.session_id))
    half.account.failed_signins = 0
    half.account.last_failed_at = None
    return start_session(db, settings, half.account, half.private_key)


def end_session(db: Session, session_id: bytes) -> None:
    """Sign out: the row goes, and with it the only copy of the wrapped key."""
    db.execute(delete(StaffSession).where(StaffSession.id == session_id))
    db.commit()


def end_all_sessions(db: Session, account_id: uuid.UUID) -> int:
    """Delete every session of the account (the caller commits); how many there were."""
    result = db.execute(delete(StaffSession).where(StaffSession.account_id == account_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- changing an account ------------------------------------------------------------------------


class PasswordRefused(ValueError):  # noqa: N818
    """A password change was refused: ``args`` are (form field name, message for it)."""


def change_password(
    db: Session, settings: Settings, account: Account, current: str, new: str
) -> None:
    """Re-wrap the account's private key under ``new`` and end all its sessions.

    The current password is checked by unwrapping (counted like a failed sign-in); raises
    :class:`PasswordRefused`. The caller commits.
    """
    problem = password_problem(new, account.email)
    if problem:
        raise PasswordRefused("new_password", problem)
    refused = PasswordRefused("current_password", _("Your current password is not right."))
    if is_throttled(account):
        crypto.burn_password_derivation(current, settings.argon2)
        record_failure(db, account, "paused", count=False)
        raise refused
    try:
        private_key = crypto.unlock_account_key(
            account.id, current, account.wrapped_private_key, account.public_key
        )
    except (crypto.WrongSecretError, crypto.IntegrityError):
        record_failure(db, account, "password change", count=True)
        raise refused from None
    account.wrapped_private_key = crypto.wrap_account_key(
        account.id, private_key, new, settings.argon2
    )
    account.password_changed_at = utcnow()
    account.failed_signins = 0
    account.last_failed_at = None
    end_all_sessions(db, account.id)
    db.add(AuditEvent(action="account.password_changed", actor_account_id=account.id))


def deactivate_account(db: Session, account: Account, actor_id: uuid.UUID | None) -> None:
    """Switch an account off at once: it cannot sign in and its sessions are gone."""
    account.is_active = False
    end_all_sessions(db, account.id)
    db.add(
        AuditEvent(action="account.deactivated", actor_account_id=actor_id, detail=str(account.id))
    )


def reset_second_factor(db: Session, account: Account, actor_id: uuid.UUID | None) -> None:
    """Forget an account's second factor (for someone who lost both their authenticator and
    their recovery codes): its sessions end, and its next sign-in, after the password, sets up
    a new one. The password, and with it the account's key, stays the person's own."""
    account.totp_secret = None
    account.totp_last_step = None
    db.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    end_all_sessions(db, account.id)
    db.add(
        AuditEvent(
            action="account.second_factor_reset", actor_account_id=actor_id, detail=str(account.id)
        )
    )
