"""A case and the clear metadata it carries (see ``portal.clear_metadata``)."""

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
    Index,
    Integer,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..stages import STAGE_VALUES, Stage
from .base import Base, today, utcnow


class Channel(StrEnum):
    ANONYMOUS = "anonymous"
    CONFIDENTIAL = "confidential"
    INTERMEDIARY = "intermediary"
    STAFF_RECORDED = "staff_recorded"


SCOPE_VALUES = "'unasked', 'nothing', 'account', 'identity'"  # models.referral.Scope
CHANNEL_VALUES = ", ".join(f"'{channel.value}'" for channel in Channel)


class ComplaintKind(StrEnum):
    HARM = "harm"  # "I, or the person I speak for, was harmed": the remedy route
    EVIDENCE = "evidence"  # "I have evidence a company broke the Code": the compliance route


class Filer(StrEnum):
    SELF = "self"
    FOR_OTHER = "for_other"
    WITNESS = "witness"


class Consent(StrEnum):
    """May the reporter's identity go to a kind of recipient?"""

    UNASKED = "unasked"
    NO = "no"
    YES = "yes"


class Outcome(StrEnum):
    REMEDIED = "remedied"
    PARTLY_REMEDIED = "partly_remedied"
    NOT_REMEDIED = "not_remedied"
    WITHDRAWN = "withdrawn"
    NO_RESPONSE = "no_response"
    NOT_ELIGIBLE = "not_eligible"


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(f"stage IN ({STAGE_VALUES})", name="stage"),
        CheckConstraint(f"channel IN ({CHANNEL_VALUES})", name="channel"),
        CheckConstraint(f"kind IN ({_values(ComplaintKind)})", name="kind"),
        CheckConstraint(f"filer IN ({_values(Filer)})", name="filer"),
        CheckConstraint(f"identity_to_company IN ({_values(Consent)})", name="identity_to_company"),
        CheckConstraint(f"identity_to_bodies IN ({_values(Consent)})", name="identity_to_bodies"),
        CheckConstraint(f"outcome IS NULL OR outcome IN ({_values(Outcome)})", name="outcome"),
        CheckConstraint(f"share_with_company IN ({SCOPE_VALUES})", name="share_with_company"),
        CheckConstraint(f"share_with_bodies IN ({SCOPE_VALUES})", name="share_with_bodies"),
        # The dashboard filters by stage and sorts by due date or age.
        Index("ix_cases_stage_next_due_on", "stage", "next_due_on"),
        Index("ix_cases_stage_received_on", "stage", "received_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    received_on: Mapped[date] = mapped_column(Date, default=today, index=True)
    stage: Mapped[str] = mapped_column(String(32), default=Stage.RECEIVED.value, index=True)
    stage_changed_on: Mapped[date] = mapped_column(Date, default=today)
    next_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(20), default=Channel.ANONYMOUS.value)
    country: Mapped[str | None] = mapped_column(String(2))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), default=ComplaintKind.HARM.value)
    filer: Mapped[str] = mapped_column(String(16), default=Filer.SELF.value)
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL"), index=True
    )
    identity_to_company: Mapped[str] = mapped_column(String(8), default=Consent.UNASKED.value)
    identity_to_bodies: Mapped[str] = mapped_column(String(8), default=Consent.UNASKED.value)
    # What the reporter allows to go, asked on the follow-up page before any referral.
    share_with_company: Mapped[str] = mapped_column(String(10), default="unasked")
    share_with_bodies: Mapped[str] = mapped_column(String(10), default="unasked")
    # The reporter asked, when withdrawing, for everything to be erased; a supervisor confirms.
    erasure_requested_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(20))
    assigned_to_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    # The organisation that filed for the people concerned (channel "intermediary").
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    # False when someone concerned did not agree to the case being counted in public reports.
    in_public_reports: Mapped[bool] = mapped_column(Boolean, default=True)


class StageEvent(Base):
    """A stage change: who moved the case, from where to where, when."""

    __tablename__ = "stage_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    from_stage: Mapped[str] = mapped_column(String(32))
    to_stage: Mapped[str] = mapped_column(String(32))
    actor_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    occurred_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class IdentityRequest(Base):
    """An account asks to see a reporter's identity; a supervisor grants or refuses."""

    __tablename__ = "identity_requests"
    __table_args__ = (
        CheckConstraint("decision IS NULL OR decision IN ('granted', 'refused')", name="decision"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision: Mapped[str | None] = mapped_column(String(8))


class CaseTopic(Base):
    """A kind of conduct the complaint is about (several per case)."""

    __tablename__ = "case_topics"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
