"""The second factor: time-based one-time codes (RFC 6238) and single-use recovery codes.

The TOTP secret is sealed to the account's own public key, bound to its row, so it is never in
clear in the database and only a signed-in (password-unlocked) account can read it. A code is
accepted for one step either side of now, and never for a step at or before the last one
accepted, so an observed code cannot be used twice. Recovery codes are stored as keyed BLAKE2b
hashes under the server key (kept outside the database) and are spent at the first use.
"""

from __future__ import annotations

import hmac
import secrets
import time
import unicodedata
import uuid

import pyotp
import segno
from markupsafe import Markup, escape
from nacl.public import PrivateKey
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

import crypto
from crypto.hashing import LABEL_RECOVERY_CODE, keyed_hash

from .models import Account, AuditEvent, RecoveryCode, utcnow

STEP_SECONDS = 30
DIGITS = 6
VALID_WINDOW = 1  # steps accepted either side of the current one
RECOVERY_CODE_COUNT = 10
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_RECOVERY_GROUPS = 4
_GROUP = 4
_RECOVERY_CHARS = _RECOVERY_GROUPS * _GROUP
# Characters people type for the base32 letters they look like.
_CONFUSABLES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def now() -> float:
    """The current time in seconds (one place, so tests can move the clock)."""
    return time.time()


# --- the secret -----------------------------------------------------------------------------


def new_secret() -> str:
    """160 random bits in base32, as authenticator apps expect."""
    return pyotp.random_base32()


def grouped(text: str, size: int = _GROUP) -> str:
    """``ABCDEFGH`` as ``ABCD EFGH``, for reading and typing."""
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return _totp(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri: str, label: str) -> Markup:
    """The QR code of ``uri`` as inline SVG markup (no script, no style attribute, no request)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, border=4, dark="#000", light="#fff", svgclass="qr", title=label
    )
    # segno writes only path data and the escaped title: nothing of the input is markup.
    labelled = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    # segno's own SVG of a URI we made, with the label escaped: no outside markup gets in.
    return Markup(labelled)  # noqa: S704  # nosec B704


def secret_context(account_id: uuid.UUID) -> crypto.RecordContext:
    """Where an account's sealed TOTP secret belongs: moved to another row it does not open."""
    return crypto.RecordContext("accounts", "totp_secret", account_id, account_id)


def pending_context(account_id: uuid.UUID, session_id: bytes) -> crypto.RecordContext:
    """Where a secret being enrolled belongs: the half-signed-in session that showed it."""
    return crypto.RecordContext(
        "staff_sessions", "pending_totp_secret", account_id, uuid.UUID(bytes=session_id[:16])
    )


def seal_secret(public_key: bytes, context: crypto.RecordContext, secret: str) -> bytes:
    """Encrypt a TOTP secret to the account's public key."""
    return crypto.seal_record(public_key, context, secret.encode("ascii"))


def open_secret(private_key: PrivateKey, context: crypto.RecordContext, sealed: bytes) -> str:
    """Decrypt a sealed TOTP secret; raises ``crypto.IntegrityError`` if it was moved."""
    return crypto.open_record(private_key, context, sealed).decode("ascii")


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def code_at(secret: str, step: int) -> str:
    """The code of time step ``step``."""
    return _totp(secret).generate_otp(step)


def current_step(at: float | None = None) -> int:
    """The time step of ``at`` (now by default)."""
    return int(now() if at is None else at) // STEP_SECONDS


# --- checking codes ---------------------------------------------------------------------------


def totp_digits(text: str) -> str | None:
    """Six digits in any script, spaces and dashes ignored; None if it is not such a code."""
    cleaned = [ch for ch in text if not ch.isspace() and ch != "-"]
    if len(cleaned) != DIGITS or not all(ch.isdigit() for ch in cleaned):
        return None
    return "".join(str(unicodedata.digit(ch)) for ch in cleaned)


def matching_step(secret: str, code: str, last_step: int | None, at: float) -> int | None:
    """The latest step within the window, after ``last_step``, whose code is ``code``."""
    current = current_step(at)
    found = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        fresh = last_step is None or step > last_step
        if hmac.compare_digest(code_at(secret, step), code) and fresh:
            found = step
    return found


def accept_totp(db: Session, account: Account, secret: str, text: str) -> bool:
    """Check a code and claim its step, so that the same code is refused from then on."""
    code = totp_digits(text)
    if code is None:
        return False
    step = matching_step(secret, code, account.totp_last_step, now())
    if step is None:
        return False
    # Conditional update: of two requests racing with one code, only one can claim its step.
    claimed = db.execute(
        update(Account)
        .where(
            Account.id == account.id,
            or_(Account.totp_last_step.is_(None), Account.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session="fetch")
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def check_second_factor(
    db: Session, mac_key: bytes, account: Account, private_key: PrivateKey, text: str
) -> str | None:
    """``"totp"`` or ``"recovery-code"`` when ``text`` is a good, unused code; else None."""
    if account.totp_secret is None:
        return None
    if totp_digits(text) is not None:
        secret = open_secret(private_key, secret_context(account.id), account.totp_secret)
        return "totp" if accept_totp(db, account, secret, text) else None
    return "recovery-code" if use_recovery_code(db, mac_key, account.id, text) else None


def enrol(
    db: Session,
    mac_key: bytes,
    account: Account,
    private_key: PrivateKey,
    secret: str,
    text: str,
) -> list[str] | None:
    """Store ``secret`` once the person proves their app has it; the new recovery codes.

    None when the code is wrong or the account already has a second factor (enrolment never
    replaces one: that would let a stolen password take over the account).
    """
    code = totp_digits(text)
    step = None if code is None else matching_step(secret, code, None, now())
    if step is None:
        return None
    sealed = seal_secret(crypto.public_bytes(private_key), secret_context(account.id), secret)
    stored = db.execute(
        update(Account)
        .where(Account.id == account.id, Account.totp_secret.is_(None))
        .values(totp_secret=sealed, totp_last_step=step)
        .execution_options(synchronize_session="fetch")
    )
    if stored.rowcount != 1:  # type: ignore[attr-defined]
        return None
    db.add(AuditEvent(action="account.second_factor_enrolled", actor_account_id=account.id))
    return replace_recovery_codes(db, mac_key, account.id)


# --- recovery codes ---------------------------------------------------------------------------


def new_recovery_code() -> str:
    """80 random bits as four groups of four base32 characters."""
    raw = "".join(secrets.choice(_BASE32) for _ in range(_RECOVERY_CHARS))
    return "-".join(raw[i : i + _GROUP] for i in range(0, _RECOVERY_CHARS, _GROUP))


def normalize_recovery_code(text: str) -> str | None:
    """What a person typed, without separators and case; None if it cannot be a code."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum()).translate(_CONFUSABLES)
    if len(cleaned) != _RECOVERY_CHARS or any(ch not in _BASE32 for ch in cleaned):
        return None
    return cleaned


def recovery_code_hash(mac_key: bytes, account_id: uuid.UUID, code: str) -> bytes:
    """The stored form of a normalized code: useless without the server key."""
    return keyed_hash(mac_key, LABEL_RECOVERY_CODE, account_id.bytes + code.encode("ascii"))


def replace_recovery_codes(db: Session, mac_key: bytes, account_id: uuid.UUID) -> list[str]:
    """Ten new codes for the account (the old ones stop working); shown once, never stored."""
    db.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        normalized = normalize_recovery_code(code)
        assert normalized is not None
        db.add(
            RecoveryCode(
                id=uuid.uuid4(),
                account_id=account_id,
                code_hash=recovery_code_hash(mac_key, account_id, normalized),
            )
        )
    return codes


def use_recovery_code(db: Session, mac_key: bytes, account_id: uuid.UUID, text: str) -> bool:
    """Spend a recovery code: True the first time, False ever after (or for a wrong one)."""
    code = normalize_recovery_code(text)
    if code is None:
        return False
    spent = db.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.account_id == account_id,
            RecoveryCode.code_hash == recovery_code_hash(mac_key, account_id, code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return bool(spent.rowcount == 1)  # type: ignore[attr-defined]


def unused_recovery_codes(db: Session, account_id: uuid.UUID) -> int:
    """How many recovery codes the account has left."""
    return (
        db.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.account_id == account_id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )
