"""The company's side: its referrals, its acknowledgement, answers and evidence (P9)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..datadir import DataDir
from ..drafts import StagedFile
from ..intake import store_files
from ..keyring import Keyring
from ..models import (
    Account,
    AuditEvent,
    AuthorRole,
    Compartment,
    Grant,
    RecordKind,
    Referral,
    ReferralStatus,
    Role,
    today,
)
from ..staff import SignedIn
from ..vault import (
    seal,
)
from .core import VISIBLE_TO_COMPANY, ReferralError, SharedFile, _package_records, _referral_key


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
    found = _package_records(
        db, keyring, account, private_key, referral, RecordKind.REFERRAL_ANSWER
    )
    return [
        Answer(
            record.created_on,
            bool(content.get("acknowledgement")),
            str(content.get("findings", "")),
            str(content.get("proposed_remedy", "")),
        )
        for record, content in found
    ]


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
    found = _package_records(
        db, keyring, account, private_key, referral, RecordKind.FILE_KEY, AuthorRole.COMPANY
    )
    return [
        SharedFile(
            uuid.UUID(content["file_id"]),
            str(content["name"]),
            str(content["content_type"]),
            int(content["size"]),
        )
        for _record, content in found
    ]
