"""Compartments (a key pair each), grants of them to accounts, and the reporter's receipt lock."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, day_start


class CompartmentKind(StrEnum):
    CASE = "case"  # what reporter and caseworkers exchange
    IDENTITY = "identity"  # name and contact details
    STAFF = "staff"  # internal notes, risk assessment
    REFERRAL = "referral"  # one referral package


class GrantHolder(StrEnum):
    ACCOUNT = "account"
    RECOVERY = "recovery"


KIND_VALUES = ", ".join(f"'{kind.value}'" for kind in CompartmentKind)


class Compartment(Base):
    __tablename__ = "compartments"
    __table_args__ = (
        CheckConstraint(f"kind IN ({KIND_VALUES})", name="kind"),
        # The access check (which cases may this account see) reads only this index.
        Index("ix_compartments_case_kind_live", "case_id", "kind", "retired_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    public_key_mac: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=day_start)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)


class Grant(Base):
    """A compartment's private key sealed to an account or to the recovery key."""

    __tablename__ = "grants"
    __table_args__ = (
        UniqueConstraint("compartment_id", "account_id", name="uq_grants_compartment_account"),
        CheckConstraint("holder IN ('account', 'recovery')", name="holder"),
        CheckConstraint(
            "(holder = 'account') = (account_id IS NOT NULL)", name="account_when_account"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    compartment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("compartments.id", ondelete="CASCADE"), index=True
    )
    holder: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    wrap: Mapped[bytes] = mapped_column(LargeBinary)
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=day_start)


class ReceiptLock(Base):
    """The case compartment wrapped under a key only the reporter's receipt derives."""

    __tablename__ = "receipt_locks"

    lookup_token: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    # Public half of a key pair only the receipt derives: later compartments are sealed to it.
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    compartment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("compartments.id", ondelete="CASCADE")
    )
    wrap: Mapped[bytes] = mapped_column(LargeBinary)
    expires_on: Mapped[date] = mapped_column(Date)


class ReceiptSuccessor(Base):
    """A later case compartment (after a rotation), sealed to the receipt's own public key, so
    the reporter keeps reading their case while a revoked account cannot follow."""

    __tablename__ = "receipt_successors"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    compartment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("compartments.id", ondelete="CASCADE")
    )
    # The receipt it is sealed to (a case may have several: one per person of a group).
    lookup_token: Mapped[bytes] = mapped_column(
        ForeignKey("receipt_locks.lookup_token", ondelete="CASCADE"), index=True
    )
    wrap: Mapped[bytes] = mapped_column(LargeBinary)
