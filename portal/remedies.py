"""Remedies: what is owed to the person harmed, the commitments that make it real, and the
person's own word on whether it happened.

Every remedy and commitment is a record sealed in the case compartment, so the reporter reads
the agreed ones with the receipt; when a member company is responsible (the remedy belongs to a
referral), a copy is sealed into that referral's package so its officers read what they
promised and report progress there (P9), holding no key of the case. Statuses, categories and
dates stay in clear for deadlines and the published figures; the reporter's yes / partly / no
answers too (their words are sealed).

Only staff verify: a company can say a commitment is in progress or implemented, never that it
is verified.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from .access import active_compartment, case_for
from .casework import keychain
from .followup import ReporterView
from .keyring import Keyring
from .models import (
    Account,
    Answer3,
    AuditEvent,
    AuthorRole,
    Case,
    Commitment,
    CommitmentStatus,
    Compartment,
    CompartmentKind,
    FeedbackRound,
    Record,
    RecordKind,
    Referral,
    Remedy,
    RemedyCategory,
    RemedyFeedback,
    day_start,
    today,
)
from .models.remedy import SHOWN_TO_REPORTER
from .staff import SignedIn
from .stages import Stage
from .vault import Keychain, open_record, seal, unlock_compartment

COMPANY_STATUSES = (CommitmentStatus.IN_PROGRESS, CommitmentStatus.IMPLEMENTED)


class RemedyError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class CommitmentView:
    commitment: Commitment
    what: str
    verification: str
    verifier: str
    progress: list[tuple[date, str, str]] = field(default_factory=list)  # (on, status, note)
    feedback: list[RemedyFeedback] = field(default_factory=list)


@dataclass
class RemedyView:
    remedy: Remedy
    description: str
    beneficiaries: str
    responsible: str
    commitments: list[CommitmentView] = field(default_factory=list)


def _json(content: dict[str, Any]) -> bytes:
    return json.dumps(content, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _case_key(
    db: Session, keyring: Keyring, who: SignedIn, case: Case
) -> tuple[Compartment, PrivateKey]:
    compartment = active_compartment(db, case.id, CompartmentKind.CASE)
    key = unlock_compartment(db, keyring, compartment, who.account, who.private_key)
    if key is None:
        raise RemedyError("no_case")
    return compartment, key


def _package(db: Session, referral_id: uuid.UUID | None) -> Compartment | None:
    referral = db.get(Referral, referral_id) if referral_id else None
    if referral is None or referral.company_id is None or referral.compartment_id is None:
        return None
    return db.get(Compartment, referral.compartment_id)


def _seal_both(
    db: Session,
    keyring: Keyring,
    who: SignedIn,
    case: Case,
    kind: RecordKind,
    content: dict[str, Any],
    referral_id: uuid.UUID | None,
) -> tuple[Record, Record | None]:
    compartment, key = _case_key(db, keyring, who, case)
    own = seal(
        db,
        keyring,
        compartment,
        kind,
        _json(content),
        AuthorRole.STAFF,
        author_account_id=who.account.id,
        private_key=key,
    )
    package = _package(db, referral_id)
    shared = (
        seal(
            db,
            keyring,
            package,
            kind,
            _json(content),
            AuthorRole.STAFF,
            author_account_id=who.account.id,
        )
        if package is not None
        else None
    )
    return own, shared


def add_remedy(
    db: Session,
    keyring: Keyring,
    who: SignedIn,
    case_id: uuid.UUID,
    category: RemedyCategory,
    description: str,
    beneficiaries: str,
    responsible: str,
    referral_id: uuid.UUID | None = None,
) -> Remedy:
    case = case_for(db, who.account, case_id)
    if case is None:
        raise RemedyError("no_case")
    if referral_id is not None:
        referral = db.get(Referral, referral_id)
        if referral is None or referral.case_id != case.id:
            raise RemedyError("no_referral")
    content = {
        "description": description,
        "beneficiaries": beneficiaries,
        "responsible": responsible,
    }
    own, shared = _seal_both(db, keyring, who, case, RecordKind.REMEDY, content, referral_id)
    remedy = Remedy(
        id=uuid.uuid4(),
        case_id=case.id,
        category=category.value,
        referral_id=referral_id,
        record_id=own.id,
        shared_record_id=shared.id if shared else None,
    )
    db.add(remedy)
    db.add(
        AuditEvent(
            action="remedy.added",
            actor_account_id=who.account.id,
            case_id=case.id,
            detail=category.value,
        )
    )
    return remedy


def add_commitment(
    db: Session,
    keyring: Keyring,
    who: SignedIn,
    remedy: Remedy,
    what: str,
    due_on: date | None,
    verification: str,
    verifier: str,
    status: CommitmentStatus = CommitmentStatus.PROPOSED,
) -> Commitment:
    case = case_for(db, who.account, remedy.case_id)
    if case is None:
        raise RemedyError("no_case")
    if status in (CommitmentStatus.VERIFIED, CommitmentStatus.IMPLEMENTED):
        raise RemedyError("new_status")
    content = {"what": what, "verification": verification, "verifier": verifier}
    own, shared = _seal_both(
        db, keyring, who, case, RecordKind.COMMITMENT, content, remedy.referral_id
    )
    commitment = Commitment(
        id=uuid.uuid4(),
        remedy_id=remedy.id,
        case_id=case.id,
        status=status.value,
        due_on=due_on,
        record_id=own.id,
        shared_record_id=shared.id if shared else None,
    )
    db.add(commitment)
    db.add(
        AuditEvent(
            action="commitment.added",
            actor_account_id=who.account.id,
            case_id=case.id,
            detail=status.value,
        )
    )
    return commitment


def set_status(
    db: Session, who: SignedIn, commitment: Commitment, status: CommitmentStatus
) -> None:
    """A caseworker moves a commitment; verifying dates it."""
    if case_for(db, who.account, commitment.case_id) is None:
        raise RemedyError("no_case")
    commitment.status = status.value
    commitment.updated_on = today()
    commitment.verified_on = today() if status is CommitmentStatus.VERIFIED else None
    db.add(
        AuditEvent(
            action="commitment.status",
            actor_account_id=who.account.id,
            case_id=commitment.case_id,
            detail=f"{commitment.id}:{status.value}",
        )
    )


def _read(keys: Keychain, db: Session, record_id: uuid.UUID | None) -> dict[str, Any]:
    record = db.get(Record, record_id) if record_id else None
    if record is None or record.compartment_id not in keys:
        return {}
    content: dict[str, Any] = json.loads(open_record(keys[record.compartment_id], record))
    return content


def _views(
    db: Session,
    keys: Keychain,
    remedies: list[Remedy],
    shown: tuple[str, ...] | None,
    shared: bool = False,
) -> list[RemedyView]:
    views = []
    for remedy in remedies:
        details = _read(keys, db, remedy.shared_record_id if shared else remedy.record_id)
        query = select(Commitment).where(Commitment.remedy_id == remedy.id)
        if shown is not None:
            query = query.where(Commitment.status.in_(shown))
        commitments = []
        for commitment in db.scalars(query.order_by(Commitment.due_on, Commitment.id)):
            content = _read(
                keys, db, commitment.shared_record_id if shared else commitment.record_id
            )
            commitments.append(
                CommitmentView(
                    commitment,
                    str(content.get("what", "")),
                    str(content.get("verification", "")),
                    str(content.get("verifier", "")),
                    feedback=list(
                        db.scalars(
                            select(RemedyFeedback)
                            .where(RemedyFeedback.commitment_id == commitment.id)
                            .order_by(RemedyFeedback.answered_on)
                        )
                    ),
                )
            )
        if shown is not None and not commitments:
            continue
        views.append(
            RemedyView(
                remedy,
                str(details.get("description", "")),
                str(details.get("beneficiaries", "")),
                str(details.get("responsible", "")),
                commitments,
            )
        )
    return views


def _remedies(db: Session, case_id: uuid.UUID) -> list[Remedy]:
    return list(
        db.scalars(
            select(Remedy).where(Remedy.case_id == case_id).order_by(Remedy.created_on, Remedy.id)
        )
    )


def for_staff(db: Session, keyring: Keyring, who: SignedIn, case: Case) -> list[RemedyView]:
    """Every remedy of the case with its commitments and the company's progress reports."""
    keys = keychain(db, keyring, who, case, CompartmentKind.CASE)
    views = _views(db, keys, _remedies(db, case.id), None)
    for view in views:
        package = _package(db, view.remedy.referral_id)
        key = (
            unlock_compartment(db, keyring, package, who.account, who.private_key)
            if package
            else None
        )
        if package is not None and key is not None:
            _attach_progress(db, {package.id: key}, package, view)
    return views


def _attach_progress(db: Session, keys: Keychain, package: Compartment, view: RemedyView) -> None:
    by_id = {item.commitment.id: item for item in view.commitments}
    records = db.scalars(
        select(Record)
        .where(Record.compartment_id == package.id, Record.kind == RecordKind.PROGRESS.value)
        .order_by(Record.sequence)
    )
    for record in records:
        content = json.loads(open_record(keys[package.id], record))
        item = by_id.get(uuid.UUID(content["commitment_id"]))
        if item is not None:
            item.progress.append((record.created_on, content["status"], content["note"]))


def for_reporter(db: Session, view: ReporterView) -> list[RemedyView]:
    """What was agreed and what became of it, as the reporter may read it."""
    return for_keys(db, view.case.id, view.keys)


def for_keys(db: Session, case_id: uuid.UUID, keys: Keychain) -> list[RemedyView]:
    """What the reporter may read of the remedies, for whoever holds the case keys ``keys``
    (the reporter's receipt, or the organisation that filed for them)."""
    return _views(db, keys, _remedies(db, case_id), SHOWN_TO_REPORTER)


def for_company(
    db: Session, keyring: Keyring, account: Account, private_key: PrivateKey, referral: Referral
) -> list[RemedyView]:
    """The remedies the company is responsible for in this referral, from the package's copies."""
    package = _package(db, referral.id)
    key = unlock_compartment(db, keyring, package, account, private_key) if package else None
    if package is None or key is None:
        return []
    remedies = list(db.scalars(select(Remedy).where(Remedy.referral_id == referral.id)))
    views = _views(db, {package.id: key}, remedies, None, shared=True)
    for item in views:
        _attach_progress(db, {package.id: key}, package, item)
    return views


def company_progress(
    db: Session,
    keyring: Keyring,
    who: SignedIn,
    referral: Referral,
    commitment_id: uuid.UUID,
    status: CommitmentStatus,
    note: str,
) -> None:
    """A company officer reports on a commitment it holds: in progress or implemented."""
    if status not in COMPANY_STATUSES:
        raise RemedyError("company_status")
    commitment = db.get(Commitment, commitment_id)
    remedy = db.get(Remedy, commitment.remedy_id) if commitment else None
    package = _package(db, referral.id)
    if commitment is None or remedy is None or remedy.referral_id != referral.id or not package:
        raise RemedyError("no_commitment")
    if commitment.status in (CommitmentStatus.VERIFIED.value, CommitmentStatus.PROPOSED.value):
        raise RemedyError("not_open")
    seal(
        db,
        keyring,
        package,
        RecordKind.PROGRESS,
        _json({"commitment_id": str(commitment.id), "status": status.value, "note": note}),
        AuthorRole.COMPANY,
        author_account_id=who.account.id,
    )
    commitment.status = status.value
    commitment.updated_on = today()
    db.add(
        AuditEvent(
            action="commitment.company_progress",
            actor_account_id=who.account.id,
            case_id=commitment.case_id,
            detail=f"{commitment.id}:{status.value}",
        )
    )


# --- the reporter's feedback ------------------------------------------------------------------


def feedback_round(db: Session, case: Case, on: date, after_days: int) -> FeedbackRound | None:
    """The round the reporter is to answer now, if any: at closure, and ``after_days`` later."""
    if case.stage != Stage.CLOSED.value:
        return None
    shown = db.scalar(
        select(Commitment.id).where(
            Commitment.case_id == case.id, Commitment.status.in_(SHOWN_TO_REPORTER)
        )
    )
    if shown is None:
        return None
    answered = set(
        db.scalars(select(RemedyFeedback.round).where(RemedyFeedback.case_id == case.id))
    )
    if FeedbackRound.CLOSURE.value not in answered:
        return FeedbackRound.CLOSURE
    if FeedbackRound.LATER.value not in answered and on >= case.stage_changed_on + timedelta(
        days=after_days
    ):
        return FeedbackRound.LATER
    return None


def record_feedback(
    db: Session,
    keyring: Keyring,
    view: ReporterView,
    round_: FeedbackRound,
    answers: dict[uuid.UUID, tuple[Answer3, Answer3]],
    comment: str,
) -> None:
    """The reporter's answers, one per commitment shown to them; their words sealed."""
    shown = {
        commitment.id
        for commitment in db.scalars(
            select(Commitment).where(
                Commitment.case_id == view.case.id, Commitment.status.in_(SHOWN_TO_REPORTER)
            )
        )
    }
    if not answers or not set(answers) <= shown:
        raise RemedyError("answers")
    record = (
        seal(
            db,
            keyring,
            view.compartment,
            RecordKind.FEEDBACK,
            _json({"round": round_.value, "comment": comment}),
            AuthorRole.REPORTER,
            private_key=view.key,
        )
        if comment.strip()
        else None
    )
    for commitment_id, (happened, satisfied) in answers.items():
        db.add(
            RemedyFeedback(
                case_id=view.case.id,
                commitment_id=commitment_id,
                round=round_.value,
                happened=happened.value,
                satisfied=satisfied.value,
                record_id=record.id if record else None,
            )
        )
    db.add(
        AuditEvent(
            action="remedy.feedback",
            case_id=view.case.id,
            detail=round_.value,
            occurred_at=day_start(),
        )
    )


def feedback_words(db: Session, keys: Keychain, case_id: uuid.UUID) -> list[tuple[date, str]]:
    """The reporter's comments on the remedies, for staff."""
    records = db.scalars(
        select(Record)
        .where(Record.case_id == case_id, Record.kind == RecordKind.FEEDBACK.value)
        .order_by(Record.sequence)
    )
    return [
        (
            record.created_on,
            str(json.loads(open_record(keys[record.compartment_id], record))["comment"]),
        )
        for record in records
        if record.compartment_id in keys
    ]


__all__ = [
    "COMPANY_STATUSES",
    "CommitmentView",
    "RemedyError",
    "RemedyView",
    "add_commitment",
    "add_remedy",
    "company_progress",
    "feedback_round",
    "feedback_words",
    "for_company",
    "for_reporter",
    "for_staff",
    "record_feedback",
    "set_status",
]
