"""Messages between a reporter and the caseworkers: one format, sealed in the case compartment."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date

from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from .keyring import Keyring
from .models import AuthorRole, Compartment, Record, RecordKind
from .vault import Keychain, open_record, seal

REPORTER_SIDE = (AuthorRole.REPORTER.value, AuthorRole.INTERMEDIARY.value)


@dataclass(frozen=True)
class Message:
    from_reporter: bool  # the reporter's side: the reporter, or the organisation filing for them
    sent_on: date
    text: str
    from_organisation: bool = False


def write(
    db: Session,
    keyring: Keyring,
    compartment: Compartment,
    key: PrivateKey,
    text: str,
    author: AuthorRole,
    author_account_id: uuid.UUID | None = None,
) -> None:
    """Seal a message into the case compartment (the caller commits)."""
    seal(
        db,
        keyring,
        compartment,
        RecordKind.MESSAGE,
        json.dumps({"text": text}, ensure_ascii=False).encode("utf-8"),
        author,
        author_account_id=author_account_id,
        private_key=key,
    )


def thread(db: Session, case_id: uuid.UUID, keychain: Keychain) -> list[Message]:
    """Every message of the case the keychain opens, oldest first, across key rotations."""
    records = db.scalars(
        select(Record)
        .where(
            Record.case_id == case_id,
            Record.kind == RecordKind.MESSAGE.value,
            Record.compartment_id.in_(list(keychain)),
        )
        .order_by(Record.sequence)
    )
    return [
        Message(
            from_reporter=record.author_role in REPORTER_SIDE,
            from_organisation=record.author_role == AuthorRole.INTERMEDIARY.value,
            sent_on=record.created_on,
            text=str(json.loads(open_record(keychain[record.compartment_id], record))["text"]),
        )
        for record in records
    ]
