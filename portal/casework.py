"""Reading and answering a case as a signed-in account, everything decrypted on demand."""

from __future__ import annotations

import json
import uuid
from base64 import b64decode
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto

from .access import active_compartment, case_for
from .datadir import DataDir
from .keyring import Keyring
from .messages import Message, thread, write
from .models import (
    AuditEvent,
    AuthorRole,
    Case,
    CaseTopic,
    Company,
    CompartmentKind,
    Record,
    RecordKind,
    StoredFile,
)
from .staff import SignedIn
from .vault import open_record, unlock_compartment


@dataclass(frozen=True)
class AttachmentInfo:
    file_id: uuid.UUID
    name: str
    content_type: str
    size: int
    added_on: date


@dataclass(frozen=True)
class CaseView:
    case: Case
    answers: dict[str, Any]
    identity: dict[str, Any] | None
    attachments: list[AttachmentInfo]
    messages: list[Message]
    topics: list[str]
    company: str | None


def _key(
    db: Session, keyring: Keyring, who: SignedIn, case: Case, kind: CompartmentKind
) -> PrivateKey | None:
    compartment = active_compartment(db, case.id, kind)
    return unlock_compartment(db, keyring, compartment, who.account, who.private_key)


def _records(db: Session, case: Case, kind: RecordKind) -> list[Record]:
    return list(
        db.scalars(
            select(Record)
            .where(Record.case_id == case.id, Record.kind == kind.value)
            .order_by(Record.sequence)
        )
    )


def _describe_file(
    key: PrivateKey, record: Record, stored: StoredFile
) -> tuple[AttachmentInfo, bytes]:
    description = json.loads(open_record(key, record))
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


def open_case(db: Session, keyring: Keyring, who: SignedIn, case_id: uuid.UUID) -> CaseView | None:
    """Decrypt a case for an account that holds its grant; None if it may not see it."""
    case = case_for(db, who.account, case_id)
    if case is None:
        return None
    key = _key(db, keyring, who, case, CompartmentKind.CASE)
    if key is None:
        return None
    answers_records = _records(db, case, RecordKind.ANSWERS)
    answers = json.loads(open_record(key, answers_records[0])) if answers_records else {}
    identity = None
    identity_key = _key(db, keyring, who, case, CompartmentKind.IDENTITY)
    identity_records = _records(db, case, RecordKind.IDENTITY)
    if identity_key is not None and identity_records:
        identity = json.loads(open_record(identity_key, identity_records[-1]))
    records = {record.id: record for record in _records(db, case, RecordKind.FILE_KEY)}
    attachments = [
        _describe_file(key, records[stored.key_record_id], stored)[0]
        for stored in db.scalars(
            select(StoredFile).where(StoredFile.case_id == case.id).order_by(StoredFile.created_on)
        )
    ]
    conversation = thread(db, active_compartment(db, case.id, CompartmentKind.CASE), key)
    topics = list(db.scalars(select(CaseTopic.topic).where(CaseTopic.case_id == case.id)))
    company = db.get(Company, case.company_id) if case.company_id else None
    db.add(AuditEvent(action="case.opened", actor_account_id=who.account.id, case_id=case.id))
    db.commit()
    return CaseView(
        case=case,
        answers=answers,
        identity=identity,
        attachments=attachments,
        messages=conversation,
        topics=topics,
        company=company.name if company else None,
    )


def send_message(
    db: Session, keyring: Keyring, who: SignedIn, case_id: uuid.UUID, text: str
) -> bool:
    """A caseworker writes to the reporter; False if the account may not."""
    case = case_for(db, who.account, case_id)
    if case is None:
        return False
    key = _key(db, keyring, who, case, CompartmentKind.CASE)
    if key is None:
        return False
    compartment = active_compartment(db, case.id, CompartmentKind.CASE)
    write(db, keyring, compartment, key, text, AuthorRole.STAFF, who.account.id)
    db.add(AuditEvent(action="case.message_sent", actor_account_id=who.account.id, case_id=case.id))
    db.commit()
    return True


def open_attachment(
    db: Session,
    keyring: Keyring,
    data_dir: DataDir,
    who: SignedIn,
    case_id: uuid.UUID,
    file_id: uuid.UUID,
) -> tuple[AttachmentInfo, Iterator[bytes]] | None:
    """An attachment's description and a generator of its decrypted bytes."""
    case = case_for(db, who.account, case_id)
    stored = db.get(StoredFile, file_id)
    if case is None or stored is None or stored.case_id != case.id:
        return None
    key = _key(db, keyring, who, case, CompartmentKind.CASE)
    record = db.get(Record, stored.key_record_id)
    if key is None or record is None:
        return None
    info, file_key = _describe_file(key, record, stored)
    path = data_dir.file_path(stored.id.hex)
    db.add(AuditEvent(action="file.downloaded", actor_account_id=who.account.id, case_id=case.id))
    db.commit()

    def chunks() -> Iterator[bytes]:
        with path.open("rb") as handle:
            yield from crypto.decrypt_stream(
                file_key, crypto.file_associated_data(stored.id), handle
            )

    return info, chunks()
