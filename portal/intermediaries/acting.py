"""What an organisation does on its case: write to the caseworkers, add evidence, update a
person's consent (the gates and waiting referrals follow), hand the case over."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto

from .. import messages, notify
from ..access import active_compartment
from ..casework import keychain
from ..config import Settings
from ..datadir import DataDir
from ..drafts import StagedFile
from ..intake import add_receipt_lock, store_files
from ..keyring import Keyring
from ..models import (
    Account,
    AuditEvent,
    AuthorRole,
    Case,
    Compartment,
    CompartmentKind,
    Grant,
    Recipient,
    RecordKind,
    Role,
    today,
)
from ..people import (
    ConsentRecord,
    Person,
    gates,
    identity_content,
)
from ..referrals.consent import answer_consent
from ..sharing import rotate
from ..staff import SignedIn
from ..vault import installation, seal
from .reading import NotYours, organisation_case, read_consent

ORGANISATION_KINDS = (CompartmentKind.CASE, CompartmentKind.IDENTITY)


def _current(
    db: Session, keyring: Keyring, who: SignedIn, case: Case, kind: CompartmentKind
) -> tuple[Compartment, PrivateKey]:
    compartment = active_compartment(db, case.id, kind)
    keys = keychain(db, keyring, who, case, kind)
    if compartment.id not in keys:
        raise NotYours(str(case.id))
    return compartment, keys[compartment.id]


def write(db: Session, keyring: Keyring, who: SignedIn, case_id: uuid.UUID, text: str) -> None:
    """The organisation writes to the caseworkers (or answers their request for information)."""
    case = organisation_case(db, who, case_id)
    compartment, key = _current(db, keyring, who, case, CompartmentKind.CASE)
    messages.write(
        db,
        keyring,
        compartment,
        key,
        text,
        AuthorRole.INTERMEDIARY,
        author_account_id=who.account.id,
    )
    db.add(
        AuditEvent(
            action="case.intermediary_message", actor_account_id=who.account.id, case_id=case.id
        )
    )
    db.commit()
    notify.reporter_message(db, None, case.id)


def add_evidence(
    db: Session,
    keyring: Keyring,
    data_dir: DataDir,
    who: SignedIn,
    case_id: uuid.UUID,
    files: list[StagedFile],
) -> None:
    """More files for the case, in its case compartment, as a reporter's would be."""
    case = organisation_case(db, who, case_id)
    compartment, key = _current(db, keyring, who, case, CompartmentKind.CASE)
    moved: list[Path] = []
    try:
        store_files(db, keyring, data_dir, compartment, key, files, AuthorRole.INTERMEDIARY, moved)
        db.add(
            AuditEvent(
                action="case.intermediary_evidence",
                actor_account_id=who.account.id,
                case_id=case.id,
            )
        )
        db.commit()
    except BaseException:
        db.rollback()
        for path in moved:
            path.unlink(missing_ok=True)
        raise


def update_consent(
    db: Session,
    keyring: Keyring,
    who: SignedIn,
    case_id: uuid.UUID,
    people: tuple[Person, ...],
    note: str,
) -> None:
    """A person changed their mind: a new consent record, and the gates follow it. Referrals
    waiting for consent go ahead or are cancelled; packages are sealed under the new gates."""
    case = organisation_case(db, who, case_id)
    previous, _history = read_consent(db, keyring, who, case)
    compartment, key = _current(db, keyring, who, case, CompartmentKind.CASE)
    record = ConsentRecord(
        people=people,
        consent_files=previous.consent_files if previous else (),
        note=note,
    )
    seal(
        db,
        keyring,
        compartment,
        RecordKind.CONSENT,
        record.to_bytes(),
        AuthorRole.INTERMEDIARY,
        author_account_id=who.account.id,
        private_key=key,
    )
    identity = identity_content(people)
    if identity is not None or (previous and any(p.named for p in previous.people)):
        identity_compartment, identity_key = _current(
            db, keyring, who, case, CompartmentKind.IDENTITY
        )
        seal(
            db,
            keyring,
            identity_compartment,
            RecordKind.IDENTITY,
            json.dumps(identity or {"people": []}, ensure_ascii=False, sort_keys=True).encode(),
            AuthorRole.INTERMEDIARY,
            author_account_id=who.account.id,
            private_key=identity_key,
        )
    decided = gates(people)
    answer_consent(db, case, Recipient.COMPANY, decided.share_with_company)
    answer_consent(db, case, Recipient.BODIES, decided.share_with_bodies)
    case.identity_to_company = decided.identity_to_company.value
    case.identity_to_bodies = decided.identity_to_bodies.value
    case.in_public_reports = decided.in_public_reports
    db.add(
        AuditEvent(
            action="consent.updated",
            actor_account_id=who.account.id,
            case_id=case.id,
            detail=f"company:{decided.share_with_company.value},"
            f"bodies:{decided.share_with_bodies.value}",
        )
    )
    db.commit()


def hand_over(
    db: Session,
    keyring: Keyring,
    settings: Settings,
    who: SignedIn,
    case_id: uuid.UUID,
    stop_following: bool,
) -> str:
    """A new receipt for the person, opening the whole case at /follow-up (shown once, never
    stored). With ``stop_following`` the organisation's accounts lose the case, and what is
    written after is sealed to keys they never had."""
    case = organisation_case(db, who, case_id)
    keys = keychain(db, keyring, who, case, CompartmentKind.CASE)
    setup = installation(db, keyring)
    receipt = crypto.generate_receipt()
    receipt_keys = crypto.derive_receipt_keys(
        receipt, setup.receipt_salt, crypto.Argon2Params.decode(setup.receipt_kdf)
    )
    add_receipt_lock(
        db, case.id, keys, receipt_keys, today() + timedelta(days=settings.receipt_valid_days)
    )
    db.add(
        AuditEvent(
            action="case.handed_over",
            actor_account_id=who.account.id,
            case_id=case.id,
            detail="stopped_following" if stop_following else None,
        )
    )
    if stop_following:
        members = _members(db, who.account)
        grants = db.scalars(
            select(Grant)
            .join(Compartment, Compartment.id == Grant.compartment_id)
            .where(Compartment.case_id == case.id, Grant.account_id.in_([m.id for m in members]))
        )
        for grant in grants:  # one by one, so that the case counts per stage follow
            db.delete(grant)
        db.flush()
        for kind in ORGANISATION_KINDS:
            rotate(db, keyring, case.id, kind)
    db.commit()
    return receipt


def _members(db: Session, account: Account) -> list[Account]:
    return list(
        db.scalars(
            select(Account).where(
                Account.organisation_id == account.organisation_id,
                Account.role == Role.INTERMEDIARY.value,
            )
        )
    )
