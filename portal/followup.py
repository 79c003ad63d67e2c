"""Following up with a receipt: the reporter's own session on their case.

The receipt derives a key pair to which every case compartment the reporter may open is sealed
(the first one, and each one made when a revoked account forces a key rotation). For the
session, that private key is kept encrypted under a token only the reporter's cookie holds
(15 minutes idle). With it the reporter reads the stage and the messages, answers, adds
evidence or withdraws the complaint.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from nacl.public import PrivateKey
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

import crypto

from . import messages, notify
from .access import active_compartment
from .config import Settings
from .datadir import DataDir
from .drafts import StagedFile
from .intake import store_files
from .keyring import Keyring
from .models import (
    AuditEvent,
    AuthorRole,
    Case,
    Compartment,
    CompartmentKind,
    Outcome,
    ReceiptLock,
    ReceiptSuccessor,
    ReporterSession,
    day_start,
    today,
    utcnow,
)
from .stages import Stage
from .vault import Keychain, installation

SESSION_KIND = "reporter"


class CaseClosed(Exception):  # noqa: N818 - reads as the state that refuses the action
    """A closed case takes no more messages, evidence or withdrawal from the reporter."""


@dataclass(frozen=True)
class ReporterView:
    """An open follow-up session: the case and its compartment key."""

    case: Case
    compartment: Compartment  # the current case compartment: new records are sealed to it
    key: PrivateKey
    keys: Keychain  # every case compartment the receipt opens, for reading
    session_id: bytes


def _wrap(token: bytes, receipt_key: PrivateKey, case_id: uuid.UUID, expires_at: datetime) -> bytes:
    return crypto.wrap_session_key(
        token, receipt_key, case_id, SESSION_KIND, int(expires_at.timestamp())
    )


def _keychain(
    db: Session, keyring: Keyring, lock: ReceiptLock, receipt_key: PrivateKey
) -> Keychain:
    """Every case compartment the receipt opens: the first, and each one made by a rotation."""
    sealed = [(lock.compartment_id, lock.wrap)] + [
        (successor.compartment_id, successor.wrap)
        for successor in db.scalars(
            select(ReceiptSuccessor).where(ReceiptSuccessor.lookup_token == lock.lookup_token)
        )
    ]
    keys: Keychain = {}
    for compartment_id, wrap in sealed:
        compartment = db.get(Compartment, compartment_id)
        if compartment is None:
            continue
        keyring.verify_compartment(compartment)
        keys[compartment.id] = crypto.open_grant(
            wrap, receipt_key, compartment.id, compartment.public_key, crypto.WrapPurpose.RECEIPT
        )
    return keys


def open_with_receipt(
    db: Session, keyring: Keyring, settings: Settings, receipt: str
) -> bytes | None:
    """Start a follow-up session; the token for the cookie, or None if the receipt opens nothing.

    ``receipt`` must already be normalised (its check digit verified).
    """
    setup = installation(db, keyring)
    keys = crypto.derive_receipt_keys(
        receipt, setup.receipt_salt, crypto.Argon2Params.decode(setup.receipt_kdf)
    )
    lock = db.get(ReceiptLock, keys.lookup_token)
    if lock is None or lock.expires_on < today() or lock.public_key != keys.public_key:
        return None
    _keychain(db, keyring, lock, keys.private_key)  # proves the receipt opens its case
    sweep_lapsed(db)
    token = crypto.new_session_token()
    expires_at = utcnow() + timedelta(minutes=settings.reporter_idle_minutes)
    db.add(
        ReporterSession(
            id=crypto.session_lookup_id(token),
            case_id=lock.case_id,
            lookup_token=lock.lookup_token,
            wrapped_key=_wrap(token, keys.private_key, lock.case_id, expires_at),
            expires_at=expires_at,
        )
    )
    db.commit()
    return token


def resume(db: Session, keyring: Keyring, settings: Settings, token: bytes) -> ReporterView | None:
    """The session a cookie opens, its idle timer pushed forward; None once expired."""
    row = db.get(ReporterSession, crypto.session_lookup_id(token))
    if row is None:
        return None
    if row.expires_at <= utcnow():
        db.delete(row)
        db.commit()
        return None
    case = db.get(Case, row.case_id)
    lock = db.get(ReceiptLock, row.lookup_token)
    if case is None or lock is None or lock.public_key is None:
        return None
    receipt_key = crypto.unwrap_session_key(
        token,
        row.wrapped_key,
        case.id,
        SESSION_KIND,
        int(row.expires_at.timestamp()),
        lock.public_key,
    )
    keys = _keychain(db, keyring, lock, receipt_key)
    current = active_compartment(db, case.id, CompartmentKind.CASE)
    if current.id not in keys:
        return None
    row.expires_at = utcnow() + timedelta(minutes=settings.reporter_idle_minutes)
    row.wrapped_key = _wrap(token, receipt_key, case.id, row.expires_at)
    db.commit()
    return ReporterView(
        case=case, compartment=current, key=keys[current.id], keys=keys, session_id=row.id
    )


def sweep_lapsed(db: Session) -> int:
    """Delete follow-up sessions past their time: their rows would say when reporters came."""
    result = db.execute(delete(ReporterSession).where(ReporterSession.expires_at <= utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def leave(db: Session, session_id: bytes) -> None:
    db.execute(delete(ReporterSession).where(ReporterSession.id == session_id))
    db.commit()


def conversation(db: Session, view: ReporterView) -> list[messages.Message]:
    """Messages between the reporter and the caseworkers, oldest first."""
    return messages.thread(db, view.case.id, view.keys)


def is_closed(case: Case) -> bool:
    return case.stage == Stage.CLOSED.value


def _require_open(view: ReporterView) -> None:
    if is_closed(view.case):
        raise CaseClosed(str(view.case.id))


def reply(db: Session, keyring: Keyring, view: ReporterView, text: str) -> None:
    """The reporter writes to the caseworkers."""
    _require_open(view)
    messages.write(db, keyring, view.compartment, view.key, text, AuthorRole.REPORTER)
    db.add(
        AuditEvent(action="case.reporter_message", case_id=view.case.id, occurred_at=day_start())
    )
    db.commit()
    notify.reporter_message(db, None, view.case.id)  # the current app's settings


def add_evidence(
    db: Session, keyring: Keyring, data_dir: DataDir, view: ReporterView, files: list[StagedFile]
) -> None:
    """More files for the case, stored as the first ones were."""
    _require_open(view)
    moved: list[Path] = []
    try:
        store_files(
            db, keyring, data_dir, view.compartment, view.key, files, AuthorRole.REPORTER, moved
        )
        db.add(
            AuditEvent(
                action="case.reporter_evidence", case_id=view.case.id, occurred_at=day_start()
            )
        )
        db.commit()
    except BaseException:
        db.rollback()
        for path in moved:
            path.unlink(missing_ok=True)
        raise


def withdraw(db: Session, view: ReporterView, erase: bool = False) -> None:
    """The reporter withdraws: the case is closed with that outcome; with ``erase``, they ask
    for it to be erased too, which a supervisor confirms (``portal.retention``)."""
    _require_open(view)
    case = db.get(Case, view.case.id)
    assert case is not None
    case.stage = Stage.CLOSED.value
    case.outcome = Outcome.WITHDRAWN.value
    case.stage_changed_on = today()
    case.next_due_on = None
    if erase:
        case.erasure_requested_on = today()
    detail = "erase" if erase else None
    db.add(
        AuditEvent(action="case.withdrawn", case_id=case.id, detail=detail, occurred_at=day_start())
    )
    db.commit()
