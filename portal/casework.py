"""Working a case as a signed-in account: reading, messages, notes and stage moves.

Everything is decrypted on demand with the keys the account's grants open (across key
rotations); an account without a grant gets None, which views turn into 404.
"""

from __future__ import annotations

import json
import uuid
from base64 import b64decode
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto

from . import notify
from .access import active_compartment, case_for
from .config import Settings
from .datadir import DataDir
from .keyring import Keyring
from .messages import Message, thread, write
from .models import (
    Account,
    AuditEvent,
    AuthorRole,
    Case,
    CaseTopic,
    Company,
    Compartment,
    CompartmentKind,
    Record,
    RecordKind,
    StageEvent,
    StoredFile,
)
from .staff import SignedIn
from .stages import Stage
from .vault import Keychain, open_record, seal, unlock_compartments
from .workflow import Move, apply_move


@dataclass(frozen=True)
class AttachmentInfo:
    file_id: uuid.UUID
    name: str
    content_type: str
    size: int
    added_on: date


@dataclass(frozen=True)
class Note:
    author: str
    written_on: date
    text: str


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    from_stage: str
    to_stage: str
    actor: str


@dataclass(frozen=True)
class CaseView:
    case: Case
    answers: dict[str, Any]
    identity: dict[str, Any] | None
    has_identity: bool
    attachments: list[AttachmentInfo]
    messages: list[Message]
    notes: list[Note]
    timeline: list[TimelineEntry]
    topics: list[str]
    company: str | None
    assigned_to: str | None


def keychain(
    db: Session, keyring: Keyring, who: SignedIn, case: Case, kind: CompartmentKind
) -> Keychain:
    """Every compartment of ``kind`` of the case (rotations included) the account can open."""
    compartments = db.scalars(
        select(Compartment).where(Compartment.case_id == case.id, Compartment.kind == kind.value)
    )
    return unlock_compartments(db, keyring, compartments, who.account, who.private_key)


def _records(db: Session, case: Case, kind: RecordKind, keys: Keychain) -> list[Record]:
    return list(
        db.scalars(
            select(Record)
            .where(
                Record.case_id == case.id,
                Record.kind == kind.value,
                Record.compartment_id.in_(list(keys)),
            )
            .order_by(Record.sequence)
        )
    )


def describe_file(
    keys: Keychain, record: Record, stored: StoredFile
) -> tuple[AttachmentInfo, bytes]:
    """A stored file's name, type and size, and its key, from its FILE_KEY record."""
    description = json.loads(open_record(keys[record.compartment_id], record))
    if description["file_id"] != str(stored.id):
        raise crypto.IntegrityError("file record does not describe this file")
    info = AttachmentInfo(
        file_id=stored.id,
        name=str(description["name"]),
        content_type=str(description["content_type"]),
        size=int(description["size"]),
        added_on=stored.created_on,
    )
    return info, b64decode(description["key"])


def _names(db: Session, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {a.id: a.display_name for a in db.scalars(select(Account).where(Account.id.in_(wanted)))}


def open_case(db: Session, keyring: Keyring, who: SignedIn, case_id: uuid.UUID) -> CaseView | None:
    """Decrypt a case for an account that holds its grant; None if it may not see it."""
    case = case_for(db, who.account, case_id)
    if case is None:
        return None
    case_keys = keychain(db, keyring, who, case, CompartmentKind.CASE)
    if not case_keys:
        return None
    answers_records = _records(db, case, RecordKind.ANSWERS, case_keys)
    answers = (
        json.loads(open_record(case_keys[answers_records[0].compartment_id], answers_records[0]))
        if answers_records
        else {}
    )
    identity_keys = keychain(db, keyring, who, case, CompartmentKind.IDENTITY)
    identity_records = _records(db, case, RecordKind.IDENTITY, identity_keys)
    identity = (
        json.loads(
            open_record(identity_keys[identity_records[-1].compartment_id], identity_records[-1])
        )
        if identity_records
        else None
    )
    has_identity = (
        db.scalar(
            select(Record.id).where(
                Record.case_id == case.id, Record.kind == RecordKind.IDENTITY.value
            )
        )
        is not None
    )
    records = {r.id: r for r in _records(db, case, RecordKind.FILE_KEY, case_keys)}
    attachments = [
        describe_file(case_keys, records[stored.key_record_id], stored)[0]
        for stored in db.scalars(
            select(StoredFile).where(StoredFile.case_id == case.id).order_by(StoredFile.created_on)
        )
        if stored.key_record_id in records
    ]
    staff_keys = keychain(db, keyring, who, case, CompartmentKind.STAFF)
    note_records = _records(db, case, RecordKind.NOTE, staff_keys)
    events = list(
        db.scalars(select(StageEvent).where(StageEvent.case_id == case.id).order_by(StageEvent.id))
    )
    names = _names(
        db,
        {r.author_account_id for r in note_records}
        | {e.actor_account_id for e in events}
        | {case.assigned_to_id},
    )
    notes = []
    for record in note_records:
        content = json.loads(open_record(staff_keys[record.compartment_id], record))
        notes.append(
            Note(names.get(record.author_account_id, "—"), record.created_on, content["text"])
        )
    topics = list(db.scalars(select(CaseTopic.topic).where(CaseTopic.case_id == case.id)))
    company = db.get(Company, case.company_id) if case.company_id else None
    db.add(AuditEvent(action="case.opened", actor_account_id=who.account.id, case_id=case.id))
    db.commit()
    return CaseView(
        case=case,
        answers=answers,
        identity=identity,
        has_identity=has_identity,
        attachments=attachments,
        messages=thread(db, case.id, case_keys),
        notes=notes,
        timeline=[
            TimelineEntry(
                e.occurred_at, e.from_stage, e.to_stage, names.get(e.actor_account_id, "—")
            )
            for e in events
        ],
        topics=topics,
        company=company.name if company else None,
        assigned_to=names.get(case.assigned_to_id) if case.assigned_to_id else None,
    )


def _current_key(
    db: Session, keyring: Keyring, who: SignedIn, case: Case, kind: CompartmentKind
) -> tuple[Compartment, PrivateKey] | None:
    compartment = active_compartment(db, case.id, kind)
    keys = unlock_compartments(db, keyring, [compartment], who.account, who.private_key)
    return (compartment, keys[compartment.id]) if compartment.id in keys else None


def send_message(
    db: Session, keyring: Keyring, who: SignedIn, case_id: uuid.UUID, text: str
) -> bool:
    """A caseworker writes to the reporter; False if the account may not."""
    case = case_for(db, who.account, case_id)
    current = _current_key(db, keyring, who, case, CompartmentKind.CASE) if case else None
    if case is None or current is None:
        return False
    write(db, keyring, current[0], current[1], text, AuthorRole.STAFF, who.account.id)
    db.add(AuditEvent(action="case.message_sent", actor_account_id=who.account.id, case_id=case.id))
    db.commit()
    notify.caseworker_message(db, None, case.id)
    return True


def add_note(db: Session, keyring: Keyring, who: SignedIn, case_id: uuid.UUID, text: str) -> bool:
    """An internal note, sealed in the staff compartment: never shown to the reporter."""
    case = case_for(db, who.account, case_id)
    current = _current_key(db, keyring, who, case, CompartmentKind.STAFF) if case else None
    if case is None or current is None:
        return False
    _seal_note(db, keyring, current, who, text)
    db.add(AuditEvent(action="case.note_added", actor_account_id=who.account.id, case_id=case.id))
    db.commit()
    return True


def _seal_note(
    db: Session, keyring: Keyring, current: tuple[Compartment, PrivateKey], who: SignedIn, text: str
) -> None:
    compartment, key = current
    seal(
        db,
        keyring,
        compartment,
        RecordKind.NOTE,
        json.dumps({"text": text}, ensure_ascii=False).encode("utf-8"),
        AuthorRole.STAFF,
        author_account_id=who.account.id,
        private_key=key,
    )


def move_case(
    db: Session, keyring: Keyring, settings: Settings, who: SignedIn, case_id: uuid.UUID, move: Move
) -> bool:
    """Move a case to another stage, sealing the message or reason the move needs."""
    case = case_for(db, who.account, case_id)
    if case is None:
        return False
    case_key = _current_key(db, keyring, who, case, CompartmentKind.CASE)
    staff_key = _current_key(db, keyring, who, case, CompartmentKind.STAFF)
    if case_key is None or staff_key is None:
        return False
    apply_move(db, settings, case, move, who.account.id)  # raises before anything is sealed
    if move.message.strip():
        write(db, keyring, case_key[0], case_key[1], move.message, AuthorRole.STAFF, who.account.id)
    if move.reason.strip():
        label = f"[{Stage(move.to_stage).value}] "
        _seal_note(db, keyring, staff_key, who, label + move.reason)
    db.commit()
    if move.message.strip():
        notify.caseworker_message(db, None, case.id)
    return True


def open_attachment(
    db: Session,
    keyring: Keyring,
    data_dir: DataDir,
    who: SignedIn,
    case_id: uuid.UUID,
    file_id: uuid.UUID,
    kinds: tuple[CompartmentKind, ...] = (CompartmentKind.CASE, CompartmentKind.IDENTITY),
) -> tuple[AttachmentInfo, Iterator[bytes]] | None:
    """An attachment's description and a generator of its decrypted bytes: evidence in the case
    compartment, or a scanned consent form in the identity compartment (for those who hold it)."""
    case = case_for(db, who.account, case_id)
    stored = db.get(StoredFile, file_id)
    if case is None or stored is None or stored.case_id != case.id:
        return None
    record = db.get(Record, stored.key_record_id)
    keys: Keychain = {}
    for kind in kinds:
        keys |= keychain(db, keyring, who, case, kind)
    if record is None or record.compartment_id not in keys:
        return None
    info, file_key = describe_file(keys, record, stored)
    db.add(AuditEvent(action="file.downloaded", actor_account_id=who.account.id, case_id=case.id))
    db.commit()
    return info, file_chunks(data_dir, stored, file_key)


def file_chunks(data_dir: DataDir, stored: StoredFile, file_key: bytes) -> Iterator[bytes]:
    """A stored file's plaintext, chunk by chunk (an integrity error ends it mid-way)."""
    with data_dir.file_path(stored.id.hex).open("rb") as handle:
        yield from crypto.decrypt_stream(file_key, crypto.file_associated_data(stored.id), handle)
