"""Referring a case: where it can go, what the reporter allows, and the package that goes.

Consent gates every step. For each kind of recipient (the company; every other body) the case
holds what the reporter allowed: nothing, the account without who they are, or the account
with their identity. While the reporter has not said, a referral waits and the reporter is
asked on the follow-up page. What goes never exceeds what they allowed; the check is made here,
when the package is sealed, whatever the form sent.

A package is a compartment of its own (P9): its key is granted to the caseworkers holding the
case and, for a member company, to that company's grievance officers, who can open the package
and answer into it but hold no key of the case. Shared files are copies with their metadata
removed (``portal.scrub``); the originals stay in the case as evidence. For any other body the
caseworker downloads the package as a plain-text bundle with the cleaned files and sends it
through that body's channel, then records the sending.
"""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile
from base64 import b64decode, b64encode
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import Any

from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto

from . import scrub
from .access import active_compartment, case_for, visible_cases
from .datadir import DataDir
from .drafts import StagedFile
from .intake import IDENTITY_FIELDS, store_files
from .keyring import Keyring
from .models import (
    Account,
    Anonymity,
    AuditEvent,
    AuthorRole,
    Case,
    Channel,
    Company,
    Compartment,
    CompartmentKind,
    ConsentRequest,
    Grant,
    GrantHolder,
    Procedure,
    Recipient,
    Record,
    RecordKind,
    Referral,
    ReferralOutcome,
    ReferralStatus,
    Role,
    Scope,
    StoredFile,
    day_start,
    today,
)
from .staff import SignedIn
from .vault import (
    grant_to_account,
    installation,
    new_compartment,
    open_record,
    seal,
    unlock_compartment,
)

DEFAULT_RESPONSE_DAYS = 30  # when a company committed to no response time
MAX_SHARED_FILE = 64 * 1024 * 1024  # a copy is cleaned in memory: larger files are not shared
OPEN_STATUSES = (
    ReferralStatus.WAITING_CONSENT.value,
    ReferralStatus.READY.value,
    ReferralStatus.PREPARED.value,
    ReferralStatus.SENT.value,
    ReferralStatus.ACKNOWLEDGED.value,
)
VISIBLE_TO_COMPANY = (
    ReferralStatus.SENT.value,
    ReferralStatus.ACKNOWLEDGED.value,
    ReferralStatus.ANSWERED.value,
    ReferralStatus.CLOSED.value,
)


class ReferralError(ValueError):
    """A referral step refused; ``code`` says why (the view words it)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code if not detail else f"{code}: {detail}")
        self.code = code
        self.detail = detail


# --- where a case can go ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    code: str  # e.g. "covers_country", "no_anonymous"; worded by the view
    fits: bool
    value: str = ""  # a country or language code the reason is about


@dataclass(frozen=True)
class Suggestion:
    name: str
    company_id: uuid.UUID | None
    procedure: Procedure | None
    reasons: list[Reason]

    @property
    def fits(self) -> bool:
        return all(reason.fits for reason in self.reasons)


def scope_for(case: Case, recipient: Recipient) -> Scope:
    value = case.share_with_company if recipient is Recipient.COMPANY else case.share_with_bodies
    return Scope(value)


def _procedure_reasons(case: Case, procedure: Procedure) -> list[Reason]:
    reasons = []
    if "*" in procedure.country_codes:
        reasons.append(Reason("covers_everywhere", True))
    elif case.country and case.country in procedure.country_codes:
        reasons.append(Reason("covers_country", True, case.country))
    else:
        reasons.append(Reason("not_country", False, case.country or ""))
    if case.language in procedure.language_codes:
        reasons.append(Reason("takes_language", True, case.language))
    else:
        reasons.append(Reason("not_language", False, case.language))
    if case.channel == Channel.ANONYMOUS.value and procedure.accepts_anonymous == Anonymity.NO:
        reasons.append(Reason("no_anonymous", False))
    if procedure.identity_required and case.share_with_bodies != Scope.IDENTITY.value:
        reasons.append(Reason("needs_identity", False))
    if procedure.last_verified is None:
        reasons.append(Reason("unverified", True))
    return reasons


def suggestions(db: Session, case: Case) -> list[Suggestion]:
    """The company's mechanism, then every active procedure, those that fit first."""
    found = []
    company = db.get(Company, case.company_id) if case.company_id else None
    if company is not None:
        reasons = [Reason("member" if company.is_member else "not_member", company.is_member)]
        if not company.grievance_contact:
            reasons.append(Reason("no_contact", True))
        found.append(Suggestion(company.name, company.id, None, reasons))
    procedures = db.scalars(
        select(Procedure).where(Procedure.active.is_(True)).order_by(Procedure.name)
    )
    ranked = [
        Suggestion(procedure.name, None, procedure, _procedure_reasons(case, procedure))
        for procedure in procedures
    ]
    ranked.sort(key=lambda item: (not item.fits, sum(not r.fits for r in item.reasons)))
    return found + ranked


# --- consent --------------------------------------------------------------------------------


def open_consent_requests(db: Session, case_id: uuid.UUID) -> list[ConsentRequest]:
    return list(
        db.scalars(
            select(ConsentRequest)
            .where(ConsentRequest.case_id == case_id, ConsentRequest.answered_on.is_(None))
            .order_by(ConsentRequest.recipient)
        )
    )


def ask_consent(db: Session, who: SignedIn, case: Case, recipient: Recipient) -> ConsentRequest:
    """Ask the reporter (on the follow-up page) what may go to this kind of recipient."""
    for request in open_consent_requests(db, case.id):
        if request.recipient == recipient.value:
            return request
    request = ConsentRequest(case_id=case.id, recipient=recipient.value, asked_by_id=who.account.id)
    db.add(request)
    db.add(
        AuditEvent(
            action="consent.asked",
            actor_account_id=who.account.id,
            case_id=case.id,
            detail=recipient.value,
        )
    )
    return request


def answer_consent(db: Session, case: Case, recipient: Recipient, scope: Scope) -> None:
    """The reporter's answer: it becomes the case's consent, and waiting referrals follow it."""
    if scope is Scope.UNASKED:
        raise ReferralError("no_answer")
    if recipient is Recipient.COMPANY:
        case.share_with_company = scope.value
    else:
        case.share_with_bodies = scope.value
    for request in open_consent_requests(db, case.id):
        if request.recipient == recipient.value:
            request.answered_on = today()
    for referral in db.scalars(
        select(Referral).where(
            Referral.case_id == case.id,
            Referral.status == ReferralStatus.WAITING_CONSENT.value,
        )
    ):
        if referral.recipient is recipient:
            waiting = scope is Scope.NOTHING
            referral.status = (
                ReferralStatus.CANCELLED.value if waiting else ReferralStatus.READY.value
            )
    db.add(
        AuditEvent(
            action="consent.answered",
            actor_account_id=None,
            case_id=case.id,
            detail=f"{recipient.value}:{scope.value}",
            occurred_at=day_start(),  # a reporter's action: the day only, like their others
        )
    )


def set_consent_for_reporter(
    db: Session, who: SignedIn, case: Case, recipient: Recipient, scope: Scope
) -> None:
    """A caseworker records what the reporter said by phone or in person (audited as theirs)."""
    answer_consent(db, case, recipient, scope)
    db.add(
        AuditEvent(
            action="consent.recorded",
            actor_account_id=who.account.id,
            case_id=case.id,
            detail=f"{recipient.value}:{scope.value}",
        )
    )


# --- starting and composing -------------------------------------------------------------------


def start_referral(
    db: Session,
    who: SignedIn,
    case: Case,
    *,
    company_id: uuid.UUID | None = None,
    procedure_id: uuid.UUID | None = None,
) -> Referral:
    """A new referral, ready to compose if consent allows, waiting (and asking) if unknown."""
    if (company_id is None) == (procedure_id is None):
        raise ReferralError("no_target")
    if company_id is not None:
        company = db.get(Company, company_id)
        if company is None or not company.is_member or company.id != case.company_id:
            raise ReferralError("not_member")
        recipient = Recipient.COMPANY
    else:
        procedure = db.get(Procedure, procedure_id)
        if procedure is None or not procedure.active:
            raise ReferralError("no_target")
        recipient = Recipient.BODIES
    scope = scope_for(case, recipient)
    if scope is Scope.NOTHING:
        raise ReferralError("refused_by_reporter")
    referral = Referral(
        id=uuid.uuid4(),
        case_id=case.id,
        company_id=company_id,
        procedure_id=procedure_id,
        created_by_id=who.account.id,
        status=(
            ReferralStatus.WAITING_CONSENT.value
            if scope is Scope.UNASKED
            else ReferralStatus.READY.value
        ),
    )
    db.add(referral)
    if scope is Scope.UNASKED:
        ask_consent(db, who, case, recipient)
    db.add(
        AuditEvent(
            action="referral.started",
            actor_account_id=who.account.id,
            case_id=case.id,
            detail=str(referral.id),
        )
    )
    return referral


@dataclass(frozen=True)
class PackageChoice:
    """What the caseworker put in the package (answers already redacted by them)."""

    answers: Sequence[tuple[str, str]]  # (question, answer as it is to go)
    cover_note: str
    include_identity: bool = False
    file_ids: Sequence[uuid.UUID] = ()


@dataclass(frozen=True)
class SharedFile:
    file_id: uuid.UUID
    name: str
    content_type: str
    size: int


@dataclass
class Package:
    answers: list[tuple[str, str]]
    cover_note: str
    identity: dict[str, str] | None
    files: list[SharedFile] = field(default_factory=list)


def _holders(db: Session, case_id: uuid.UUID) -> list[Account]:
    """Active staff accounts holding the case's live case compartment."""
    compartment = active_compartment(db, case_id, CompartmentKind.CASE)
    return list(
        db.scalars(
            select(Account)
            .join(Grant, Grant.account_id == Account.id)
            .where(
                Grant.compartment_id == compartment.id,
                Grant.holder == GrantHolder.ACCOUNT.value,
                Account.is_active.is_(True),
            )
        )
    )


def _officers(db: Session, company_id: uuid.UUID | None) -> list[Account]:
    if company_id is None:
        return []
    return list(
        db.scalars(
            select(Account).where(
                Account.company_id == company_id,
                Account.role == Role.COMPANY.value,
                Account.is_active.is_(True),
            )
        )
    )


def _identity(db: Session, keyring: Keyring, who: SignedIn, case: Case) -> dict[str, str]:
    compartments = db.scalars(
        select(Compartment).where(
            Compartment.case_id == case.id, Compartment.kind == CompartmentKind.IDENTITY.value
        )
    )
    for compartment in compartments:
        key = unlock_compartment(db, keyring, compartment, who.account, who.private_key)
        if key is None:
            continue
        record = db.scalar(
            select(Record)
            .where(
                Record.compartment_id == compartment.id, Record.kind == RecordKind.IDENTITY.value
            )
            .order_by(Record.sequence.desc())
        )
        if record is not None:
            return {str(k): str(v) for k, v in json.loads(open_record(key, record)).items()}
    raise ReferralError("no_identity_access")


def _case_file(
    db: Session, keyring: Keyring, data_dir: DataDir, who: SignedIn, case: Case, file_id: uuid.UUID
) -> tuple[dict[str, Any], bytes]:
    """An original attachment of the case, decrypted into memory (never to disk)."""
    stored = db.get(StoredFile, file_id)
    record = db.get(Record, stored.key_record_id) if stored else None
    if stored is None or record is None or stored.case_id != case.id:
        raise ReferralError("no_file")
    compartment = db.get(Compartment, record.compartment_id)
    if compartment is None or compartment.kind != CompartmentKind.CASE.value:
        raise ReferralError("no_file")
    key = unlock_compartment(db, keyring, compartment, who.account, who.private_key)
    if key is None:
        raise ReferralError("no_file")
    description = json.loads(open_record(key, record))
    if description["file_id"] != str(stored.id) or int(description["size"]) > MAX_SHARED_FILE:
        raise ReferralError("file_too_large", str(description.get("name", "")))
    with data_dir.file_path(stored.id.hex).open("rb") as handle:
        data = b"".join(
            crypto.decrypt_stream(
                b64decode(description["key"]), crypto.file_associated_data(stored.id), handle
            )
        )
    return description, data


def _store_copy(
    db: Session,
    keyring: Keyring,
    data_dir: DataDir,
    compartment: Compartment,
    private_key: PrivateKey,
    name: str,
    copy: scrub.CleanCopy,
    written: list[Any],
) -> SharedFile:
    file_id = uuid.uuid4()
    file_key = crypto.new_file_key()
    destination = data_dir.file_path(file_id.hex)
    destination.parent.mkdir(mode=0o700, exist_ok=True)
    with destination.open("xb") as sink:
        written.append(destination)
        encryptor = crypto.FileEncryptor(file_key, crypto.file_associated_data(file_id), sink)
        encryptor.write(copy.data)
        encryptor.finish()
    midnight = day_start().replace(tzinfo=UTC).timestamp()
    os.utime(destination, (midnight, midnight))
    stem = name.rsplit(".", 1)[0] or "file"
    shared = SharedFile(file_id, f"{stem}.{copy.extension}", copy.media_type, len(copy.data))
    description = {
        "file_id": str(file_id),
        "key": b64encode(file_key).decode("ascii"),
        "name": shared.name,
        "content_type": shared.content_type,
        "size": shared.size,
    }
    key_record = seal(
        db,
        keyring,
        compartment,
        RecordKind.FILE_KEY,
        json.dumps(description, sort_keys=True).encode("utf-8"),
        AuthorRole.STAFF,
        private_key=private_key,
    )
    db.add(
        StoredFile(
            id=file_id,
            case_id=compartment.case_id,
            key_record_id=key_record.id,
            stored_bytes=destination.stat().st_size,
        )
    )
    return shared


def compose(
    db: Session,
    keyring: Keyring,
    data_dir: DataDir,
    who: SignedIn,
    referral: Referral,
    choice: PackageChoice,
    response_days: int = DEFAULT_RESPONSE_DAYS,
) -> Referral:
    """Seal the package into a compartment of its own; send it (company) or prepare it.

    Refused, with nothing stored, when consent does not allow what was chosen. Files written
    before a refusal are removed; the caller rolls back the session.
    """
    case = case_for(db, who.account, referral.case_id)
    if case is None:
        raise ReferralError("no_case")
    if referral.status != ReferralStatus.READY.value:
        raise ReferralError("not_ready")
    scope = scope_for(case, referral.recipient)
    if scope in (Scope.UNASKED, Scope.NOTHING):
        raise ReferralError("no_consent")
    if choice.include_identity and scope is not Scope.IDENTITY:
        raise ReferralError("identity_not_allowed")
    if not choice.answers and not choice.cover_note.strip():
        raise ReferralError("empty")
    answers = [(q, a) for q, a in choice.answers if q not in IDENTITY_FIELDS]
    identity = _identity(db, keyring, who, case) if choice.include_identity else None
    readers = {a.id: a for a in [*_holders(db, case.id), *_officers(db, referral.company_id)]}
    compartment, private_key = new_compartment(
        db,
        keyring,
        case.id,
        CompartmentKind.REFERRAL,
        readers.values(),
        installation(db, keyring).recovery_public_key,
    )
    written: list[Any] = []
    try:
        shared = []
        for file_id in choice.file_ids:
            description, data = _case_file(db, keyring, data_dir, who, case, file_id)
            try:
                copy = scrub.clean_copy(data)
            except scrub.CannotClean as exc:
                raise ReferralError("cannot_clean", str(description.get("name", ""))) from exc
            shared.append(
                _store_copy(
                    db,
                    keyring,
                    data_dir,
                    compartment,
                    private_key,
                    str(description["name"]),
                    copy,
                    written,
                )
            )
        content = {
            "answers": [[q, a] for q, a in answers],
            "cover_note": choice.cover_note,
            "identity": identity,
            "files": [[f.file_id.hex, f.name, f.content_type, f.size] for f in shared],
        }
        seal(
            db,
            keyring,
            compartment,
            RecordKind.PACKAGE,
            json.dumps(content, ensure_ascii=False, sort_keys=True).encode("utf-8"),
            AuthorRole.STAFF,
            author_account_id=who.account.id,
            private_key=private_key,
        )
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    referral.compartment_id = compartment.id
    referral.scope = Scope.IDENTITY.value if identity else Scope.ACCOUNT.value
    if referral.company_id is not None:
        company = db.get(Company, referral.company_id)
        days = company.response_days if company and company.response_days else None
        referral.status = ReferralStatus.SENT.value
        referral.sent_on = today()
        referral.response_due_on = today() + timedelta(days=days or response_days)
    else:
        referral.status = ReferralStatus.PREPARED.value
    db.add(
        AuditEvent(
            action="referral.sent" if referral.company_id else "referral.prepared",
            actor_account_id=who.account.id,
            case_id=case.id,
            detail=f"{referral.id}:{referral.scope}:{len(shared)}",
        )
    )
    return referral


# --- reading a package ------------------------------------------------------------------------


def _referral_key(
    db: Session, keyring: Keyring, account: Account, private_key: PrivateKey, referral: Referral
) -> tuple[Compartment, PrivateKey] | None:
    compartment = db.get(Compartment, referral.compartment_id) if referral.compartment_id else None
    if compartment is None or compartment.kind != CompartmentKind.REFERRAL.value:
        return None
    key = unlock_compartment(db, keyring, compartment, account, private_key)
    return (compartment, key) if key is not None else None


def read_package(
    db: Session, keyring: Keyring, account: Account, private_key: PrivateKey, referral: Referral
) -> Package | None:
    """The package, for an account holding the referral's key; None for anyone else."""
    unlocked = _referral_key(db, keyring, account, private_key, referral)
    if unlocked is None:
        return None
    compartment, key = unlocked
    record = db.scalar(
        select(Record).where(
            Record.compartment_id == compartment.id, Record.kind == RecordKind.PACKAGE.value
        )
    )
    if record is None:
        return None
    content = json.loads(open_record(key, record))
    return Package(
        answers=[(str(q), str(a)) for q, a in content["answers"]],
        cover_note=str(content["cover_note"]),
        identity=content["identity"],
        files=[SharedFile(uuid.UUID(i), str(n), str(t), int(s)) for i, n, t, s in content["files"]],
    )


def open_shared_file(
    db: Session,
    keyring: Keyring,
    data_dir: DataDir,
    account: Account,
    private_key: PrivateKey,
    referral: Referral,
    file_id: uuid.UUID,
) -> tuple[SharedFile, bytes] | None:
    """A cleaned copy in the package, decrypted; None unless the account holds the package."""
    unlocked = _referral_key(db, keyring, account, private_key, referral)
    stored = db.get(StoredFile, file_id)
    record = db.get(Record, stored.key_record_id) if stored else None
    if unlocked is None or stored is None or record is None:
        return None
    compartment, key = unlocked
    if record.compartment_id != compartment.id or record.kind != RecordKind.FILE_KEY.value:
        return None
    description = json.loads(open_record(key, record))
    if description["file_id"] != str(stored.id):
        raise crypto.IntegrityError("file record does not describe this file")
    with data_dir.file_path(stored.id.hex).open("rb") as handle:
        data = b"".join(
            crypto.decrypt_stream(
                b64decode(description["key"]), crypto.file_associated_data(stored.id), handle
            )
        )
    info = SharedFile(stored.id, description["name"], description["content_type"], len(data))
    return info, data


def bundle(
    db: Session, keyring: Keyring, data_dir: DataDir, who: SignedIn, referral: Referral, title: str
) -> bytes | None:
    """The package as a ZIP made in memory: ``package.txt`` and the cleaned files."""
    package = read_package(db, keyring, who.account, who.private_key, referral)
    if package is None:
        return None
    lines = [title, "", package.cover_note, ""]
    for question, answer in package.answers:
        lines += [question, answer, ""]
    if package.identity:
        lines += [f"{key}: {value}" for key, value in package.identity.items()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        stamp = (2000, 1, 1, 0, 0, 0)  # no time of day in the archive either
        archive.writestr(zipfile.ZipInfo("package.txt", stamp), "\n".join(lines))
        for shared in package.files:
            opened = open_shared_file(
                db, keyring, data_dir, who.account, who.private_key, referral, shared.file_id
            )
            if opened is not None:
                archive.writestr(zipfile.ZipInfo(f"files/{shared.name}", stamp), opened[1])
    db.add(
        AuditEvent(
            action="referral.exported",
            actor_account_id=who.account.id,
            case_id=referral.case_id,
            detail=str(referral.id),
        )
    )
    return out.getvalue()


# --- after sending ----------------------------------------------------------------------------


def record_sent(
    db: Session,
    who: SignedIn,
    referral: Referral,
    sent_on: date,
    reference: str,
    due_on: date | None,
) -> None:
    """The caseworker sent another body's package through its channel."""
    if referral.status != ReferralStatus.PREPARED.value:
        raise ReferralError("not_prepared")
    referral.status = ReferralStatus.SENT.value
    referral.sent_on = sent_on
    referral.their_reference = reference.strip()[:100]
    referral.response_due_on = due_on
    db.add(
        AuditEvent(
            action="referral.sent",
            actor_account_id=who.account.id,
            case_id=referral.case_id,
            detail=str(referral.id),
        )
    )


def record_response(
    db: Session,
    who: SignedIn,
    referral: Referral,
    outcome: ReferralOutcome,
    on: date,
    reference: str = "",
) -> None:
    """The receiving body answered (or never did): the referral is closed with its outcome."""
    if referral.status not in (
        ReferralStatus.SENT.value,
        ReferralStatus.ACKNOWLEDGED.value,
        ReferralStatus.ANSWERED.value,
    ):
        raise ReferralError("not_sent")
    referral.outcome = outcome.value
    referral.answered_on = referral.answered_on or on
    referral.closed_on = on
    referral.status = ReferralStatus.CLOSED.value
    if reference.strip():
        referral.their_reference = reference.strip()[:100]
    db.add(
        AuditEvent(
            action="referral.closed",
            actor_account_id=who.account.id,
            case_id=referral.case_id,
            detail=f"{referral.id}:{outcome.value}",
        )
    )


def case_referrals(db: Session, case_id: uuid.UUID) -> list[Referral]:
    return list(
        db.scalars(
            select(Referral).where(Referral.case_id == case_id).order_by(Referral.created_on)
        )
    )


def is_overdue(referral: Referral, on: date) -> bool:
    return (
        referral.response_due_on is not None
        and referral.response_due_on < on
        and referral.status in (ReferralStatus.SENT.value, ReferralStatus.ACKNOWLEDGED.value)
    )


def overdue_for(
    db: Session, account: Account, on: date, limit: int = 20
) -> list[tuple[Referral, str]]:
    """Referrals of the account's visible cases whose answer is late, oldest due first, with
    the case reference (read along the due-date index; stops at ``limit``)."""
    query = (
        visible_cases(account)
        .with_only_columns(Referral, Case.reference)
        .join(Referral, Referral.case_id == Case.id)
        .where(
            Referral.response_due_on < on,
            Referral.status.in_((ReferralStatus.SENT.value, ReferralStatus.ACKNOWLEDGED.value)),
        )
        .order_by(None)
        .order_by(Referral.response_due_on, Referral.id)
        .limit(limit)
    )
    return [(referral, reference) for referral, reference in db.execute(query)]


# --- the company's side -----------------------------------------------------------------------


def company_referrals(db: Session, account: Account) -> list[Referral]:
    """Referrals to the account's company that it holds the package of, newest first."""
    if account.company_id is None or account.role != Role.COMPANY.value:
        return []
    return list(
        db.scalars(
            select(Referral)
            .join(Grant, Grant.compartment_id == Referral.compartment_id)
            .where(
                Referral.company_id == account.company_id,
                Referral.status.in_(VISIBLE_TO_COMPANY),
                Grant.account_id == account.id,
            )
            .order_by(Referral.sent_on.desc(), Referral.id)
        )
    )


def company_referral(db: Session, account: Account, referral_id: uuid.UUID) -> Referral | None:
    """One referral to the account's company that it holds the package of; None otherwise."""
    for referral in company_referrals(db, account):
        if referral.id == referral_id:
            return referral
    return None


@dataclass(frozen=True)
class Answer:
    on: date
    acknowledgement: bool
    findings: str
    proposed_remedy: str


def company_answers(
    db: Session, keyring: Keyring, account: Account, private_key: PrivateKey, referral: Referral
) -> list[Answer]:
    """The company's acknowledgement and answers, for any holder of the package."""
    unlocked = _referral_key(db, keyring, account, private_key, referral)
    if unlocked is None:
        return []
    compartment, key = unlocked
    records = db.scalars(
        select(Record)
        .where(
            Record.compartment_id == compartment.id,
            Record.kind == RecordKind.REFERRAL_ANSWER.value,
        )
        .order_by(Record.sequence)
    )
    answers = []
    for record in records:
        content = json.loads(open_record(key, record))
        answers.append(
            Answer(
                record.created_on,
                bool(content.get("acknowledgement")),
                str(content.get("findings", "")),
                str(content.get("proposed_remedy", "")),
            )
        )
    return answers


def _company_record(
    db: Session, keyring: Keyring, who: SignedIn, referral: Referral, content: dict[str, Any]
) -> None:
    """Seal into the package's compartment: the caseworkers read it at once (P9)."""
    compartment = db.get(Compartment, referral.compartment_id)
    if compartment is None:
        raise ReferralError("no_package")
    seal(
        db,
        keyring,
        compartment,
        RecordKind.REFERRAL_ANSWER,
        json.dumps(content, ensure_ascii=False, sort_keys=True).encode("utf-8"),
        AuthorRole.COMPANY,
        author_account_id=who.account.id,
    )


def acknowledge(db: Session, keyring: Keyring, who: SignedIn, referral: Referral) -> None:
    if referral.status != ReferralStatus.SENT.value:
        raise ReferralError("not_sent")
    _company_record(db, keyring, who, referral, {"acknowledgement": True})
    referral.status = ReferralStatus.ACKNOWLEDGED.value
    referral.acknowledged_on = today()
    db.add(
        AuditEvent(
            action="referral.acknowledged",
            actor_account_id=who.account.id,
            case_id=referral.case_id,
            detail=str(referral.id),
        )
    )


def answer(
    db: Session,
    keyring: Keyring,
    who: SignedIn,
    referral: Referral,
    findings: str,
    proposed_remedy: str,
) -> None:
    if referral.status not in (
        ReferralStatus.SENT.value,
        ReferralStatus.ACKNOWLEDGED.value,
        ReferralStatus.ANSWERED.value,
    ):
        raise ReferralError("closed")
    _company_record(
        db,
        keyring,
        who,
        referral,
        {"findings": findings, "proposed_remedy": proposed_remedy},
    )
    referral.status = ReferralStatus.ANSWERED.value
    referral.acknowledged_on = referral.acknowledged_on or today()
    referral.answered_on = today()
    db.add(
        AuditEvent(
            action="referral.answered",
            actor_account_id=who.account.id,
            case_id=referral.case_id,
            detail=str(referral.id),
        )
    )


def add_company_files(
    db: Session,
    keyring: Keyring,
    data_dir: DataDir,
    who: SignedIn,
    referral: Referral,
    files: Sequence[StagedFile],
) -> list[Any]:
    """Evidence an officer sends: sealed into the package like a reporter's files into the
    case (already encrypted on arrival). Returns the paths moved into the store, for the caller
    to remove if its commit fails."""
    unlocked = _referral_key(db, keyring, who.account, who.private_key, referral)
    if unlocked is None or referral.status not in VISIBLE_TO_COMPANY:
        raise ReferralError("no_package")
    compartment, key = unlocked
    moved: list[Any] = []
    try:
        store_files(db, keyring, data_dir, compartment, key, files, AuthorRole.COMPANY, moved)
    except BaseException:
        for path in moved:
            path.unlink(missing_ok=True)
        raise
    db.add(
        AuditEvent(
            action="referral.evidence_added",
            actor_account_id=who.account.id,
            case_id=referral.case_id,
            detail=f"{referral.id}:{len(files)}",
        )
    )
    return moved


def company_files(
    db: Session, keyring: Keyring, account: Account, private_key: PrivateKey, referral: Referral
) -> list[SharedFile]:
    """Files the company sent into the package, for any holder of it."""
    unlocked = _referral_key(db, keyring, account, private_key, referral)
    if unlocked is None:
        return []
    compartment, key = unlocked
    records = db.scalars(
        select(Record)
        .where(
            Record.compartment_id == compartment.id,
            Record.kind == RecordKind.FILE_KEY.value,
            Record.author_role == AuthorRole.COMPANY.value,
        )
        .order_by(Record.sequence)
    )
    found = []
    for record in records:
        description = json.loads(open_record(key, record))
        found.append(
            SharedFile(
                uuid.UUID(description["file_id"]),
                str(description["name"]),
                str(description["content_type"]),
                int(description["size"]),
            )
        )
    return found


def share_with_new_holders(
    db: Session, keyring: Keyring, who: SignedIn, referrals: Iterable[Referral]
) -> int:
    """Grant each package the caseworker holds to holders of the case and company officers
    who lack it (colleagues given the case later, officers added later). How many grants."""
    made = 0
    for referral in referrals:
        unlocked = _referral_key(db, keyring, who.account, who.private_key, referral)
        if unlocked is None:
            continue
        compartment, key = unlocked
        have = set(
            db.scalars(select(Grant.account_id).where(Grant.compartment_id == compartment.id))
        )
        for account in [*_holders(db, referral.case_id), *_officers(db, referral.company_id)]:
            if account.id not in have:
                grant_to_account(db, keyring, compartment, key, account)
                have.add(account.id)
                made += 1
    return made


__all__ = [
    "Answer",
    "Package",
    "PackageChoice",
    "Reason",
    "ReferralError",
    "SharedFile",
    "Suggestion",
    "acknowledge",
    "add_company_files",
    "answer",
    "answer_consent",
    "ask_consent",
    "bundle",
    "case_referrals",
    "company_answers",
    "company_files",
    "company_referral",
    "company_referrals",
    "compose",
    "is_overdue",
    "open_consent_requests",
    "open_shared_file",
    "overdue_for",
    "read_package",
    "record_response",
    "record_sent",
    "scope_for",
    "set_consent_for_reporter",
    "share_with_new_holders",
    "start_referral",
    "suggestions",
]
