"""Intermediary organisations (civil-society groups, lawyers, unions) and the invitations that
open their accounts.

An organisation applies through a public form and an admin approves or refuses it. Accounts of
an approved organisation are made only through an invitation: a single-use link whose token is
never stored, only its keyed hash under the server key (outside the database).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, today, utcnow


class OrganisationKind(StrEnum):
    CSO = "cso"  # a civil-society organisation
    LAWYER = "lawyer"  # a lawyer or law firm
    UNION = "union"  # a trade union
    OTHER = "other"


class OrganisationStatus(StrEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    REFUSED = "refused"


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_values(OrganisationKind)})", name="kind"),
        CheckConstraint(f"status IN ({_values(OrganisationStatus)})", name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166 code
    kind: Mapped[str] = mapped_column(String(16))
    contact: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=OrganisationStatus.APPLIED.value)
    applied_on: Mapped[date] = mapped_column(Date, default=today)
    decided_on: Mapped[date | None] = mapped_column(Date)
    # use_alter: accounts refer to organisations too; this breaks the cycle when sorting tables.
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL", use_alter=True)
    )


class Invitation(Base):
    """A single-use link that creates one account of an organisation."""

    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    as_org_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
