"""Filing a complaint: answers and files encrypted and stored in one transaction, a receipt back.

The same function serves the public form and the demo data, so demo cases are real cases.
"""

from __future__ import annotations

import json
import secrets
import uuid
from base64 import b64encode
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto

from .config import Settings
from .datadir import DataDir
from .keyring import Keyring
from .models import (
    Account,
    AuditEvent,
    AuthorRole,
    Case,
    Channel,
    Compartment,
    CompartmentKind,
    ReceiptLock,
    RecordKind,
    StoredFile,
    today,
)
from .uploads import EncryptingUpload
from .vault import installation, new_compartment, seal

_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Answers:
    """What the reporter wrote. Encrypted as a whole; never stored in clear."""

    what_happened: str
    where: str = ""
    when: str = ""
    company: str = ""


@dataclass(frozen=True)
class ClearAnswers:
    """The coarse answers kept in clear for routing and statistics (see clear_metadata)."""

    language: str
    country: str | None = None
    channel: Channel = Channel.ANONYMOUS


@dataclass(frozen=True)
class Attachment:
    """An upload already encrypted on arrival, with its name (kept in memory only)."""

    upload: EncryptingUpload
    filename: str


def intake_team(db: Session) -> list[Account]:
    """The accounts every new case is granted to."""
    return list(
        db.scalars(
            select(Account).where(Account.is_active.is_(True), Account.in_intake_team.is_(True))
        )
    )


def new_reference(db: Session) -> str:
    """A short, unguessable reference for staff to say aloud, e.g. ``K7QM-3XPA``."""
    while True:
        raw = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
        reference = f"{raw[:4]}-{raw[4:]}"
        if db.scalar(select(Case.id).where(Case.reference == reference)) is None:
            return reference


def file_complaint(
    db: Session,
    keyring: Keyring,
    settings: Settings,
    data_dir: DataDir,
    answers: Answers,
    clear: ClearAnswers,
    attachments: list[Attachment] = [],  # noqa: B006 - never mutated
) -> str:
    """Store a complaint and return its receipt (20 digits). All or nothing."""
    setup = installation(db, keyring)
    receipt = crypto.generate_receipt()
    # The one Argon2id run of a filing; done before any row is written.
    receipt_keys = crypto.derive_receipt_keys(
        receipt, setup.receipt_salt, crypto.Argon2Params.decode(setup.receipt_kdf)
    )
    holders = intake_team(db)
    case = Case(
        id=uuid.uuid4(),
        reference=new_reference(db),
        language=clear.language,
        country=clear.country,
        channel=clear.channel.value,
        received_on=today(),
        stage_changed_on=today(),
    )
    db.add(case)
    db.flush()
    compartments = {
        kind: new_compartment(db, keyring, case.id, kind, holders, setup.recovery_public_key)
        for kind in (CompartmentKind.CASE, CompartmentKind.IDENTITY, CompartmentKind.STAFF)
    }
    case_compartment, case_key = compartments[CompartmentKind.CASE]
    db.flush()
    seal(
        db,
        keyring,
        case_compartment,
        RecordKind.ANSWERS,
        json.dumps(asdict(answers), ensure_ascii=False).encode("utf-8"),
        AuthorRole.REPORTER,
        private_key=case_key,
    )
    moved: list[Path] = []
    try:
        for attachment in attachments:
            _store_attachment(db, keyring, data_dir, case_compartment, case_key, attachment, moved)
        db.add(
            ReceiptLock(
                lookup_token=receipt_keys.lookup_token,
                case_id=case.id,
                compartment_id=case_compartment.id,
                wrap=crypto.wrap_under_key(
                    case_key,
                    case_compartment.id,
                    receipt_keys.wrap_key,
                    crypto.WrapPurpose.RECEIPT,
                ),
                expires_on=today() + timedelta(days=settings.receipt_valid_days),
            )
        )
        db.add(AuditEvent(action="case.received", case_id=case.id, occurred_at=_day_start()))
        db.commit()
    except BaseException:
        db.rollback()
        for path in moved:
            path.unlink(missing_ok=True)
        raise
    return receipt


def _store_attachment(
    db: Session,
    keyring: Keyring,
    data_dir: DataDir,
    compartment: Compartment,
    case_key: PrivateKey,
    attachment: Attachment,
    moved: list[Path],
) -> None:
    upload = attachment.upload
    upload.finish()
    description = {
        "file_id": str(upload.file_id),
        "key": b64encode(upload.key).decode("ascii"),
        "name": attachment.filename,
        "content_type": upload.content_type,
        "size": upload.size,
    }
    key_record = seal(
        db,
        keyring,
        compartment,
        RecordKind.FILE_KEY,
        json.dumps(description, ensure_ascii=False).encode("utf-8"),
        AuthorRole.REPORTER,
        private_key=case_key,
    )
    destination = data_dir.file_path(upload.file_id.hex)
    destination.parent.mkdir(mode=0o700, exist_ok=True)
    upload.path.rename(destination)
    moved.append(destination)
    db.add(
        StoredFile(
            id=upload.file_id,
            case_id=key_record.case_id,
            key_record_id=key_record.id,
            stored_bytes=destination.stat().st_size,
        )
    )


def _day_start() -> datetime:
    """Public-side events are recorded at day precision, never to the second."""
    return datetime.combine(today(), time())
