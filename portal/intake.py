"""Filing a complaint: everything encrypted and stored in one transaction, a receipt back.

The same function serves the public form, the demo data and (later) staff-recorded complaints,
so every case is made the same way. Which answers stay readable is decided here and listed in
``portal.clear_metadata``; everything else is sealed into records.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto

from . import notify
from .config import Settings
from .datadir import DataDir
from .drafts import StagedFile
from .keyring import Keyring
from .models import (
    Account,
    AuditEvent,
    AuthorRole,
    Case,
    CaseTopic,
    Channel,
    Company,
    Compartment,
    CompartmentKind,
    ComplaintKind,
    Consent,
    Filer,
    ReceiptLock,
    ReceiptSuccessor,
    RecordKind,
    Role,
    Scope,
    StoredFile,
    day_start,
    today,
)
from .models.company import LISTED
from .people import ConsentRecord, gates, identity_content, person_from
from .topics import RATHER_NOT_SAY, TOPICS
from .uploads import STAGED_SUFFIX
from .vault import installation, new_compartment, seal

_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# Set in a draft started by a caseworker recording a complaint (never a form field).
RECORDED_BY_STAFF = "_recorded_by_staff"
# Set in a draft started by an intermediary: {"organisation": id, "account": id}.
FILED_BY_ORGANISATION = "_filed_by_organisation"
# The people an intermediary files for, and the ids of scanned consent forms (draft only).
PEOPLE = "_people"
CONSENT_FILES = "_consent_files"

# Answers that identify the reporter: sealed in the identity compartment, never with the rest.
IDENTITY_FIELDS = ("name", "phone", "email", "other_contact", "preferred_contact")


@dataclass(frozen=True)
class Submission:
    """A complaint ready to store: encrypted parts and the clear metadata beside them."""

    answers: dict[str, Any]
    language: str
    identity: dict[str, Any] | None = None
    channel: Channel = Channel.ANONYMOUS
    kind: ComplaintKind = ComplaintKind.HARM
    filer: Filer = Filer.SELF
    country: str | None = None
    company_id: uuid.UUID | None = None
    topics: tuple[str, ...] = ()
    urgent: bool = False
    identity_to_company: Consent = Consent.UNASKED
    identity_to_bodies: Consent = Consent.UNASKED
    files: list[StagedFile] = field(default_factory=list)
    # Filed by an intermediary: its organisation's accounts hold the case and the identity.
    organisation_id: uuid.UUID | None = None
    organisation_accounts: tuple[Account, ...] = ()
    filed_by: uuid.UUID | None = None
    consent: ConsentRecord | None = None
    identity_files: list[StagedFile] = field(default_factory=list)  # scanned consent forms
    share_with_company: Scope = Scope.UNASKED
    share_with_bodies: Scope = Scope.UNASKED
    in_public_reports: bool = True
    receipts: int = 1


def _consent(value: object) -> Consent:
    return {"yes": Consent.YES, "no": Consent.NO}.get(str(value), Consent.UNASKED)


def submission_from_answers(
    db: Session, answers: dict[str, Any], language: str, files: list[StagedFile]
) -> Submission:
    """Decide, from the form's answers, what is stored in clear and what is sealed."""
    confidential = answers.get("contact_mode") == "confidential"
    identity = {key: answers[key] for key in IDENTITY_FIELDS if answers.get(key)}
    sealed = {
        key: value
        for key, value in answers.items()
        # Keys starting with "_" are the server's own markers, never form fields.
        if key not in IDENTITY_FIELDS and not key.startswith("_") and value not in (None, "", [])
    }
    company_id = None
    chosen = str(answers.get("company", ""))
    if chosen not in ("", "dont_know", "other", RATHER_NOT_SAY):
        company = db.scalar(select(Company).where(Company.id == _uuid_or_none(chosen)))
        company_id = company.id if company and company.membership in LISTED else None
    filer = {"for_other": Filer.FOR_OTHER, "witness": Filer.WITNESS}.get(
        str(answers.get("filer")), Filer.SELF
    )
    country = str(answers.get("country") or "") or None
    if answers.get(FILED_BY_ORGANISATION):
        return _for_people(db, answers, language, files, sealed, company_id, country)
    return Submission(
        answers=sealed,
        language=language,
        identity=identity if confidential and identity else None,
        channel=Channel.STAFF_RECORDED
        if answers.get(RECORDED_BY_STAFF)
        else Channel.CONFIDENTIAL
        if confidential
        else Channel.ANONYMOUS,
        kind=ComplaintKind.EVIDENCE if filer is Filer.WITNESS else ComplaintKind.HARM,
        filer=filer,
        country=country if country and len(country) == 2 else None,
        company_id=company_id,
        topics=tuple(topic for topic in answers.get("topics", []) if topic in TOPICS),
        urgent=answers.get("danger_now") == "yes",
        identity_to_company=_consent(answers.get("share_with_company"))
        if confidential
        else Consent.UNASKED,
        identity_to_bodies=_consent(answers.get("share_with_bodies"))
        if confidential
        else Consent.UNASKED,
        files=files,
    )


def _for_people(
    db: Session,
    answers: dict[str, Any],
    language: str,
    files: list[StagedFile],
    sealed: dict[str, Any],
    company_id: uuid.UUID | None,
    country: str | None,
) -> Submission:
    """A filing by an intermediary: the people, their consent, the organisation's accounts."""
    marker = answers[FILED_BY_ORGANISATION]
    organisation_id = uuid.UUID(str(marker["organisation"]))
    people = tuple(
        person_from(item, index + 1) for index, item in enumerate(answers.get(PEOPLE) or [])
    )
    scans = {str(file_id) for file_id in answers.get(CONSENT_FILES) or []}
    consent = ConsentRecord(people=people, consent_files=tuple(sorted(scans)))
    decided = gates(people)
    members = db.scalars(
        select(Account).where(
            Account.organisation_id == organisation_id,
            Account.role == Role.INTERMEDIARY.value,
            Account.is_active.is_(True),
        )
    )
    return Submission(
        answers=sealed,
        language=language,
        identity=identity_content(people),
        channel=Channel.INTERMEDIARY,
        kind=ComplaintKind.HARM,
        filer=Filer.FOR_OTHER,
        country=country if country and len(country) == 2 else None,
        company_id=company_id,
        topics=tuple(topic for topic in answers.get("topics", []) if topic in TOPICS),
        urgent=answers.get("danger_now") == "yes",
        identity_to_company=decided.identity_to_company,
        identity_to_bodies=decided.identity_to_bodies,
        files=[staged for staged in files if str(staged.file_id) not in scans],
        organisation_id=organisation_id,
        organisation_accounts=tuple(members),
        filed_by=uuid.UUID(str(marker["account"])),
        consent=consent,
        identity_files=[staged for staged in files if str(staged.file_id) in scans],
        share_with_company=decided.share_with_company,
        share_with_bodies=decided.share_with_bodies,
        in_public_reports=decided.in_public_reports,
        receipts=decided.receipts,
    )


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


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


@dataclass(frozen=True)
class Filed:
    receipt: str  # the first receipt, or "" when none was asked for
    case_id: uuid.UUID
    acknowledge_by: datetime
    receipts: tuple[str, ...] = ()


def file_complaint(
    db: Session,
    keyring: Keyring,
    settings: Settings,
    data_dir: DataDir,
    submission: Submission,
) -> Filed:
    """Store a complaint and return its receipt (20 digits). All or nothing."""
    setup = installation(db, keyring)
    receipts = [crypto.generate_receipt() for _ in range(submission.receipts)]
    # One Argon2id run per receipt (one for a reporter); done before any row is written.
    receipt_keys = [
        crypto.derive_receipt_keys(
            receipt, setup.receipt_salt, crypto.Argon2Params.decode(setup.receipt_kdf)
        )
        for receipt in receipts
    ]
    holders = intake_team(db)
    # An organisation's accounts hold what the reporter would: the case and the identity.
    members = [a for a in submission.organisation_accounts if a.id not in {h.id for h in holders}]
    received = today()
    acknowledge_by = received + timedelta(days=settings.acknowledge_within_days)
    case = Case(
        id=uuid.uuid4(),
        reference=new_reference(db),
        language=submission.language,
        country=submission.country,
        channel=submission.channel.value,
        kind=submission.kind.value,
        filer=submission.filer.value,
        company_id=submission.company_id,
        urgent=submission.urgent,
        identity_to_company=submission.identity_to_company.value,
        identity_to_bodies=submission.identity_to_bodies.value,
        share_with_company=submission.share_with_company.value,
        share_with_bodies=submission.share_with_bodies.value,
        organisation_id=submission.organisation_id,
        in_public_reports=submission.in_public_reports,
        received_on=received,
        stage_changed_on=received,
        next_due_on=acknowledge_by,
    )
    db.add(case)
    db.flush()
    db.add_all(CaseTopic(case_id=case.id, topic=topic) for topic in sorted(set(submission.topics)))
    compartments = {
        kind: new_compartment(
            db,
            keyring,
            case.id,
            kind,
            holders if kind is CompartmentKind.STAFF else [*holders, *members],
            setup.recovery_public_key,
        )
        for kind in (CompartmentKind.CASE, CompartmentKind.IDENTITY, CompartmentKind.STAFF)
    }
    case_compartment, case_key = compartments[CompartmentKind.CASE]
    db.flush()
    seal(
        db,
        keyring,
        case_compartment,
        RecordKind.ANSWERS,
        _json(submission.answers),
        AuthorRole.REPORTER,
        private_key=case_key,
    )
    if submission.consent is not None:
        seal(
            db,
            keyring,
            case_compartment,
            RecordKind.CONSENT,
            submission.consent.to_bytes(),
            AuthorRole.INTERMEDIARY,
            author_account_id=submission.filed_by,
            private_key=case_key,
        )
    if submission.identity:
        identity_compartment, identity_key = compartments[CompartmentKind.IDENTITY]
        seal(
            db,
            keyring,
            identity_compartment,
            RecordKind.IDENTITY,
            _json(submission.identity),
            AuthorRole.REPORTER,
            private_key=identity_key,
        )
    moved: list[Path] = []
    try:
        store_files(
            db,
            keyring,
            data_dir,
            case_compartment,
            case_key,
            submission.files,
            AuthorRole.REPORTER,
            moved,
        )
        if submission.identity_files:
            identity_compartment, identity_key = compartments[CompartmentKind.IDENTITY]
            store_files(
                db,
                keyring,
                data_dir,
                identity_compartment,
                identity_key,
                submission.identity_files,
                AuthorRole.INTERMEDIARY,
                moved,
            )
        expires_on = received + timedelta(days=settings.receipt_valid_days)
        for keys in receipt_keys:
            add_receipt_lock(db, case.id, {case_compartment.id: case_key}, keys, expires_on)
        db.add(
            AuditEvent(
                action="case.received",
                case_id=case.id,
                actor_account_id=submission.filed_by,
                occurred_at=day_start(),
            )
        )
        db.commit()
    except BaseException:
        db.rollback()
        for path in moved:  # put files back where a retry can find them (the draft's staging)
            with contextlib.suppress(OSError):  # else an orphan, for the purge once an hour old
                os.utime(path)  # fresh again: the incoming sweep goes by modification time
                path.rename(data_dir.incoming / f"{path.name}{STAGED_SUFFIX}")
        raise
    notify.case_received(db, settings, case.id)
    return Filed(
        receipt=receipts[0] if receipts else "",
        case_id=case.id,
        acknowledge_by=datetime.combine(acknowledge_by, time()),
        receipts=tuple(receipts),
    )


def add_receipt_lock(
    db: Session,
    case_id: uuid.UUID,
    case_keys: dict[uuid.UUID, PrivateKey],
    keys: crypto.ReceiptKeys,
    expires_on: date,
) -> ReceiptLock:
    """A receipt for the case: the current case compartment sealed to the receipt's key pair,
    and every earlier one (after key rotations) as a successor, so the whole case opens."""
    current = db.scalar(
        select(Compartment.id).where(
            Compartment.case_id == case_id,
            Compartment.kind == CompartmentKind.CASE.value,
            Compartment.retired_at.is_(None),
        )
    )
    if current is None or current not in case_keys:
        raise LookupError("the current case compartment is not among the keys given")
    lock = ReceiptLock(
        lookup_token=keys.lookup_token,
        public_key=keys.public_key,
        case_id=case_id,
        compartment_id=current,
        wrap=crypto.seal_grant(
            case_keys[current], current, keys.public_key, crypto.WrapPurpose.RECEIPT
        ),
        expires_on=expires_on,
    )
    db.add(lock)
    db.flush()
    for compartment_id, key in case_keys.items():
        if compartment_id != current:
            db.add(
                ReceiptSuccessor(
                    case_id=case_id,
                    compartment_id=compartment_id,
                    lookup_token=keys.lookup_token,
                    wrap=crypto.seal_grant(
                        key, compartment_id, keys.public_key, crypto.WrapPurpose.RECEIPT
                    ),
                )
            )
    return lock


def store_files(
    db: Session,
    keyring: Keyring,
    data_dir: DataDir,
    compartment: Compartment,
    private_key: PrivateKey,
    files: Iterable[StagedFile],
    author: AuthorRole,
    moved: list[Path],
) -> None:
    """Seal each file's key and name into a record and move its ciphertext into the store.

    Paths moved are appended to ``moved`` so the caller can undo them if its commit fails.
    """
    for staged in files:
        destination = data_dir.file_path(staged.file_id.hex)
        destination.parent.mkdir(mode=0o700, exist_ok=True)
        staged.path(data_dir).rename(destination)
        moved.append(destination)
        record_stored_file(db, keyring, compartment, private_key, staged, author, destination)


def record_stored_file(
    db: Session,
    keyring: Keyring,
    compartment: Compartment,
    private_key: PrivateKey,
    described: StagedFile,
    author: AuthorRole,
    path: Path,
) -> StoredFile:
    """List a file whose ciphertext is already at ``path`` in the store: its key, name, type
    and size sealed into a FILE_KEY record of the compartment, its times set to the day."""
    key_record = seal(
        db,
        keyring,
        compartment,
        RecordKind.FILE_KEY,
        _json(described.to_json()),
        author,
        private_key=private_key,
    )
    # The file's own times would say to the second when it was sent.
    midnight = day_start().replace(tzinfo=UTC).timestamp()
    os.utime(path, (midnight, midnight))
    stored = StoredFile(
        id=described.file_id,
        case_id=compartment.case_id,
        key_record_id=key_record.id,
        stored_bytes=path.stat().st_size,
    )
    db.add(stored)
    return stored


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")
