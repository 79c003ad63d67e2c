"""Reading a case as a signed-in account: answers and attachments, decrypted on demand."""

from __future__ import annotations

import json
import uuid
from base64 import b64decode
from collections.abc import Iterator
from dataclasses import dataclass

from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto

from .access import active_compartment, case_for
from .datadir import DataDir
from .keyring import Keyring
from .models import AuditEvent, Case, CompartmentKind, Record, RecordKind, StoredFile
from .staff import SignedIn
from .vault import open_record, unlock_compartment


@dataclass(frozen=True)
class AttachmentInfo:
    file_id: uuid.UUID
    name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class CaseView:
    case: Case
    answers: dict[str, str]
    attachments: list[AttachmentInfo]


def _case_key(db: Session, keyring: Keyring, who: SignedIn, case: Case) -> PrivateKey:
    compartment = active_compartment(db, case.id, CompartmentKind.CASE)
    key = unlock_compartment(db, keyring, compartment, who.account, who.private_key)
    if key is None:
        raise PermissionError("no grant")
    return key


def _file_descriptions(
    db: Session, key: PrivateKey, case: Case
) -> dict[uuid.UUID, dict[str, object]]:
    records = db.scalars(
        select(Record).where(Record.case_id == case.id, Record.kind == RecordKind.FILE_KEY.value)
    )
    described = {}
    for record in records:
        description = json.loads(open_record(key, record))
        described[record.id] = description
    return described


def open_case(db: Session, keyring: Keyring, who: SignedIn, case_id: uuid.UUID) -> CaseView | None:
    """Decrypt a case for an account that holds its grant; None if it may not see it."""
    case = case_for(db, who.account, case_id)
    if case is None:
        return None
    key = _case_key(db, keyring, who, case)
    answers_record = db.scalar(
        select(Record).where(Record.case_id == case.id, Record.kind == RecordKind.ANSWERS.value)
    )
    answers = json.loads(open_record(key, answers_record)) if answers_record else {}
    descriptions = _file_descriptions(db, key, case)
    attachments = []
    for stored in db.scalars(
        select(StoredFile).where(StoredFile.case_id == case.id).order_by(StoredFile.created_on)
    ):
        description = descriptions[stored.key_record_id]
        if description["file_id"] != str(stored.id):
            raise crypto.IntegrityError("file record does not describe this file")
        attachments.append(
            AttachmentInfo(
                file_id=stored.id,
                name=str(description["name"]),
                content_type=str(description["content_type"]),
                size=int(description["size"]),  # type: ignore[call-overload]
            )
        )
    db.add(AuditEvent(action="case.opened", actor_account_id=who.account.id, case_id=case.id))
    db.commit()
    return CaseView(case=case, answers=answers, attachments=attachments)


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
    key = _case_key(db, keyring, who, case)
    record = db.get(Record, stored.key_record_id)
    if record is None:
        return None
    description = json.loads(open_record(key, record))
    if description["file_id"] != str(stored.id):
        raise crypto.IntegrityError("file record does not describe this file")
    info = AttachmentInfo(
        file_id=stored.id,
        name=str(description["name"]),
        content_type=str(description["content_type"]),
        size=int(description["size"]),
    )
    file_key = b64decode(description["key"])
    path = data_dir.file_path(stored.id.hex)
    db.add(AuditEvent(action="file.downloaded", actor_account_id=who.account.id, case_id=case.id))
    db.commit()

    def chunks() -> Iterator[bytes]:
        with path.open("rb") as handle:
            yield from crypto.decrypt_stream(
                file_key, crypto.file_associated_data(stored.id), handle
            )

    return info, chunks()
