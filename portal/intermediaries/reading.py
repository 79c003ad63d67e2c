"""Reading an organisation's cases: the list with unread messages, and one case as the
organisation may see it (what the reporter would read, plus the consent it recorded).

An organisation's accounts hold the case and identity compartments of its cases, never the
staff compartment (internal notes) nor referral packages. Every function here checks that the
account holds the case (``access.case_for``) and that the case belongs to its organisation.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from .. import messages
from ..access import case_for, visible_cases
from ..casework import AttachmentInfo, describe_file, keychain
from ..keyring import Keyring
from ..models import (
    Account,
    AuditEvent,
    AuthorRole,
    Case,
    CompartmentKind,
    ConsentRequest,
    ReadMark,
    Recipient,
    Record,
    RecordKind,
    StageEvent,
    StoredFile,
)
from ..people import (
    ConsentRecord,
    consent_record_from,
    with_names,
)
from ..staff import SignedIn
from ..vault import Keychain, open_record

ORGANISATION_KINDS = (CompartmentKind.CASE, CompartmentKind.IDENTITY)


class NotYours(LookupError):  # noqa: N818 - reads as the state
    """The case is not one of the account's organisation (or the account holds no key)."""


@dataclass(frozen=True)
class ListedCase:
    case: Case
    unread: int


def _staff_messages_after(mark: object) -> object:
    return and_(
        Record.case_id == Case.id,
        Record.kind == RecordKind.MESSAGE.value,
        Record.author_role == AuthorRole.STAFF.value,
        Record.sequence > func.coalesce(mark, 0),
    )


def organisation_cases(db: Session, account: Account) -> list[ListedCase]:
    """The organisation's cases this account holds, newest first, with unread messages."""
    seen = (
        select(ReadMark.seen_sequence)
        .where(ReadMark.account_id == account.id, ReadMark.case_id == Case.id)
        .scalar_subquery()
    )
    unread = (
        select(func.count(Record.id))
        .where(_staff_messages_after(seen))  # type: ignore[arg-type]
        .scalar_subquery()
    )
    query = visible_cases(account).where(Case.organisation_id == account.organisation_id)
    rows = db.execute(query.add_columns(unread)).all()
    return [ListedCase(case, int(count or 0)) for case, count in rows]


def organisation_case(db: Session, who: SignedIn, case_id: uuid.UUID) -> Case:
    """The case, if it is the account's organisation's and the account holds it (else NotYours)."""
    case = case_for(db, who.account, case_id)
    if case is None or case.organisation_id != who.account.organisation_id:
        raise NotYours(str(case_id))
    return case


@dataclass(frozen=True)
class StageStep:
    on: date
    stage: str


@dataclass(frozen=True)
class IntermediaryView:
    case: Case
    answers: dict[str, object]
    consent: ConsentRecord | None
    consent_history: list[tuple[date, str]]
    messages: list[messages.Message]
    attachments: list[AttachmentInfo]
    consent_files: list[AttachmentInfo]
    timeline: list[StageStep]
    keys: Keychain
    open_consent_questions: list[Recipient]


def _latest(db: Session, case: Case, kind: RecordKind, keys: Keychain) -> Record | None:
    return db.scalar(
        select(Record)
        .where(
            Record.case_id == case.id,
            Record.kind == kind.value,
            Record.compartment_id.in_(list(keys)),
        )
        .order_by(Record.sequence.desc())
        .limit(1)
    )


def _files(db: Session, case: Case, keys: Keychain) -> list[AttachmentInfo]:
    rows = db.execute(
        select(StoredFile, Record)
        .join(Record, Record.id == StoredFile.key_record_id)
        .where(StoredFile.case_id == case.id, Record.compartment_id.in_(list(keys)))
        .order_by(StoredFile.created_on, Record.sequence)
    ).all()
    return [describe_file(keys, record, stored)[0] for stored, record in rows]


def consent_files(db: Session, keyring: Keyring, who: SignedIn, case: Case) -> list[AttachmentInfo]:
    """The scanned consent forms (kept with the names, in the identity compartment)."""
    return _files(db, case, keychain(db, keyring, who, case, CompartmentKind.IDENTITY))


def read_consent(
    db: Session, keyring: Keyring, who: SignedIn, case: Case
) -> tuple[ConsentRecord | None, list[tuple[date, str]]]:
    """The latest consent record with the names the account may read, and its history."""
    keys = keychain(db, keyring, who, case, CompartmentKind.CASE)
    records = list(
        db.scalars(
            select(Record)
            .where(
                Record.case_id == case.id,
                Record.kind == RecordKind.CONSENT.value,
                Record.compartment_id.in_(list(keys)),
            )
            .order_by(Record.sequence)
        )
    )
    if not records:
        return None, []
    history = []
    record = None
    for row in records:
        record = consent_record_from(json.loads(open_record(keys[row.compartment_id], row)))
        history.append((row.created_on, record.note))
    assert record is not None
    identity_keys = keychain(db, keyring, who, case, CompartmentKind.IDENTITY)
    identity_row = _latest(db, case, RecordKind.IDENTITY, identity_keys)
    identity = (
        json.loads(open_record(identity_keys[identity_row.compartment_id], identity_row))
        if identity_row
        else None
    )
    return with_names(record, identity), history


def open_for_organisation(
    db: Session, keyring: Keyring, who: SignedIn, case_id: uuid.UUID
) -> IntermediaryView:
    """What the organisation may read of its case (raises NotYours); marks messages read."""
    case = organisation_case(db, who, case_id)
    keys = keychain(db, keyring, who, case, CompartmentKind.CASE)
    if not keys:
        raise NotYours(str(case_id))
    answers_row = db.scalar(
        select(Record)
        .where(
            Record.case_id == case.id,
            Record.kind == RecordKind.ANSWERS.value,
            Record.compartment_id.in_(list(keys)),
        )
        .order_by(Record.sequence)
        .limit(1)
    )
    answers = (
        json.loads(open_record(keys[answers_row.compartment_id], answers_row))
        if answers_row
        else {}
    )
    consent, history = read_consent(db, keyring, who, case)
    events = db.scalars(
        select(StageEvent).where(StageEvent.case_id == case.id).order_by(StageEvent.id)
    )
    timeline = [StageStep(case.received_on, "received")] + [
        StageStep(event.occurred_at.date(), event.to_stage) for event in events
    ]
    thread = messages.thread(db, case.id, keys)
    _mark_read(db, who.account, case)
    questions = [
        Recipient(request.recipient)
        for request in db.scalars(
            select(ConsentRequest).where(
                ConsentRequest.case_id == case.id, ConsentRequest.answered_on.is_(None)
            )
        )
    ]
    db.add(AuditEvent(action="case.opened", actor_account_id=who.account.id, case_id=case.id))
    db.commit()
    return IntermediaryView(
        case=case,
        answers=answers,
        consent=consent,
        consent_history=history,
        messages=thread,
        attachments=_files(db, case, keys),
        consent_files=consent_files(db, keyring, who, case),
        timeline=timeline,
        keys=keys,
        open_consent_questions=questions,
    )


def _mark_read(db: Session, account: Account, case: Case) -> None:
    latest = db.scalar(select(func.max(Record.sequence)).where(Record.case_id == case.id)) or 0
    mark = db.get(ReadMark, (account.id, case.id))
    if mark is None:
        db.add(ReadMark(account_id=account.id, case_id=case.id, seen_sequence=latest))
    else:
        mark.seen_sequence = latest
