"""The pieces every part of a referral shares: errors, the package's shape, who holds it."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import active_compartment
from ..keyring import Keyring
from ..models import (
    STAFF_ROLES,
    Account,
    AuthorRole,
    Compartment,
    CompartmentKind,
    Grant,
    GrantHolder,
    Record,
    RecordKind,
    Referral,
    ReferralStatus,
    Role,
)
from ..vault import (
    open_record,
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
                # An organisation that filed the case sees what the reporter would, no package.
                Account.role.in_(STAFF_ROLES),
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


def _referral_key(
    db: Session, keyring: Keyring, account: Account, private_key: PrivateKey, referral: Referral
) -> tuple[Compartment, PrivateKey] | None:
    compartment = db.get(Compartment, referral.compartment_id) if referral.compartment_id else None
    if compartment is None or compartment.kind != CompartmentKind.REFERRAL.value:
        return None
    key = unlock_compartment(db, keyring, compartment, account, private_key)
    return (compartment, key) if key is not None else None


def _package_records(
    db: Session,
    keyring: Keyring,
    account: Account,
    private_key: PrivateKey,
    referral: Referral,
    kind: RecordKind,
    author: AuthorRole | None = None,
) -> list[tuple[Record, dict[str, Any]]]:
    """The package's records of a kind (by one author role), decrypted, in order; none for an
    account that does not hold the package."""
    unlocked = _referral_key(db, keyring, account, private_key, referral)
    if unlocked is None:
        return []
    compartment, key = unlocked
    query = select(Record).where(Record.compartment_id == compartment.id, Record.kind == kind.value)
    if author is not None:
        query = query.where(Record.author_role == author.value)
    return [
        (record, json.loads(open_record(key, record)))
        for record in db.scalars(query.order_by(Record.sequence))
    ]
