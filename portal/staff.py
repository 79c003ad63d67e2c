"""Staff accounts and sessions: the password unlocks the account key; the session keeps it safe.

A successful unwrap of the account's private key *is* the password check, and an unknown email
costs the same Argon2id run as a known one. A session stores the unlocked key encrypted under a
secret that only the browser's cookie holds (property P7).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from nacl.public import PrivateKey
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

import crypto

from .config import Settings
from .keyring import Keyring
from .models import Account, AuditEvent, Role, StaffSession, utcnow

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
) -> Account:
    """Create an account with a fresh key pair wrapped under its password."""
    email = email.strip().lower()
    if db.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise AccountExists(email)
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
    )
    keyring.sign_account(account)
    db.add(account)
    db.add(AuditEvent(action="account.created", actor_account_id=None, detail=role.value))
    return account


def authenticate(
    db: Session, keyring: Keyring, settings: Settings, email: str, password: str
) -> tuple[Account, PrivateKey] | None:
    """The account and its unlocked key, or None. Same cost whether or not the account exists."""
    account = db.scalar(select(Account).where(Account.email == email.strip().lower()))
    if account is None:
        crypto.burn_password_derivation(password, settings.argon2)
        return None
    try:
        private_key = crypto.unlock_account_key(
            account.id, password, account.wrapped_private_key, account.public_key
        )
    except (crypto.WrongSecretError, crypto.IntegrityError):
        return None
    if not account.is_active:
        return None
    keyring.verify_account(account)
    if crypto.wrapped_params(account.wrapped_private_key) != settings.argon2:
        # Outdated parameters are upgraded at the moment the password is at hand.
        account.wrapped_private_key = crypto.wrap_account_key(
            account.id, private_key, password, settings.argon2
        )
    return account, private_key


@dataclass(frozen=True)
class SignedIn:
    """A live staff session: who, with which unlocked key."""

    account: Account
    private_key: PrivateKey
    session_id: bytes


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def start_session(
    db: Session, settings: Settings, account: Account, private_key: PrivateKey
) -> bytes:
    """Create a session and return the token for the cookie (never stored)."""
    token = crypto.new_session_token()
    now = utcnow()
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
        )
    )
    db.add(AuditEvent(action="account.signed_in", actor_account_id=account.id))
    return token


def resume_session(db: Session, settings: Settings, token: bytes) -> SignedIn | None:
    """The session a cookie token opens, if it is still valid; refreshes its idle timer."""
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
    private_key = crypto.unwrap_session_key(
        token,
        row.wrapped_key,
        account.id,
        SESSION_KIND,
        _epoch(row.expires_at),
        account.public_key,
    )
    if (now - row.last_seen_at).total_seconds() > 60:
        row.last_seen_at = now
        db.commit()
    return SignedIn(account=account, private_key=private_key, session_id=session_id)


def end_session(db: Session, session_id: bytes) -> None:
    """Sign out: the row goes, and with it the only copy of the wrapped key."""
    db.execute(delete(StaffSession).where(StaffSession.id == session_id))
    db.commit()
