"""Remedies and their commitments, the reporter's feedback, the compliance route, reprisals.

What was promised, by whom and how it is verified is sealed in records of the case (the reporter
reads the agreed ones with the receipt). Kept in clear, for deadlines and the published figures:
categories, statuses, dates, and the reporter's yes / partly / no answers (their words are
sealed). See ``portal.clear_metadata``.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, today


class RemedyCategory(StrEnum):
    """UN Basic Principles on the Right to a Remedy and Reparation (GA res. 60/147)."""

    RESTITUTION = "restitution"
    COMPENSATION = "compensation"
    REHABILITATION = "rehabilitation"  # medical, psychological, legal, social
    SATISFACTION = "satisfaction"  # apology, cessation, sanctions
    NON_REPETITION = "non_repetition"  # policy, training, vetting


class CommitmentStatus(StrEnum):
    PROPOSED = "proposed"
    AGREED = "agreed"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    VERIFIED = "verified"
    NOT_IMPLEMENTED = "not_implemented"


# What the reporter sees on the follow-up page: what was agreed and what became of it.
SHOWN_TO_REPORTER = (
    CommitmentStatus.AGREED.value,
    CommitmentStatus.IN_PROGRESS.value,
    CommitmentStatus.IMPLEMENTED.value,
    CommitmentStatus.VERIFIED.value,
    CommitmentStatus.NOT_IMPLEMENTED.value,
)


class Answer3(StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class FeedbackRound(StrEnum):
    CLOSURE = "closure"  # asked when the case closes
    LATER = "later"  # asked again after a period (six months by default)


class ComplianceStage(StrEnum):
    """The compliance route of an "evidence of a violation" case, beside its main stages."""

    DIALOGUE = "dialogue"
    CORRECTIVE_ACTION = "corrective_action"
    RESOLVED = "resolved"
    ESCALATED = "escalated"  # to the board


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class Remedy(Base):
    __tablename__ = "remedies"
    __table_args__ = (CheckConstraint(f"category IN ({_values(RemedyCategory)})", name="category"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(20))
    referral_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("referrals.id", ondelete="SET NULL")
    )  # the referral whose recipient is responsible, if any
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id"))  # sealed details
    # The same details sealed into the referral's package, for the company responsible.
    shared_record_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("records.id"))
    created_on: Mapped[date] = mapped_column(Date, default=today)


class Commitment(Base):
    __tablename__ = "commitments"
    __table_args__ = (CheckConstraint(f"status IN ({_values(CommitmentStatus)})", name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    remedy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("remedies.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default=CommitmentStatus.PROPOSED.value)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    verified_on: Mapped[date | None] = mapped_column(Date)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id"))  # sealed details
    shared_record_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("records.id"))
    updated_on: Mapped[date] = mapped_column(Date, default=today)


class RemedyFeedback(Base):
    """The reporter's answer about one commitment in one round: did it happen, satisfied?"""

    __tablename__ = "remedy_feedback"
    __table_args__ = (
        CheckConstraint(f"round IN ({_values(FeedbackRound)})", name="round"),
        CheckConstraint(f"happened IN ({_values(Answer3)})", name="happened"),
        CheckConstraint(f"satisfied IN ({_values(Answer3)})", name="satisfied"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    commitment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commitments.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[str] = mapped_column(String(10))
    happened: Mapped[str] = mapped_column(String(8))
    satisfied: Mapped[str] = mapped_column(String(8))
    record_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("records.id"))  # their words
    answered_on: Mapped[date] = mapped_column(Date, default=today)


class ComplianceEvent(Base):
    """A step of the compliance route: who moved it, to what, when; the corrective deadline."""

    __tablename__ = "compliance_events"
    __table_args__ = (CheckConstraint(f"stage IN ({_values(ComplianceStage)})", name="stage"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(20))
    due_on: Mapped[date | None] = mapped_column(Date)
    actor_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    occurred_on: Mapped[date] = mapped_column(Date, default=today)


class Reprisal(Base):
    """A reprisal (threat, attack, dismissal) reported about a case: counted, never described
    in clear (what happened goes in a note or a message)."""

    __tablename__ = "reprisals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    reported_on: Mapped[date] = mapped_column(Date, default=today)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )


class SiteOption(Base):
    """Installation-wide switches an admin sets (e.g. the public transparency page)."""

    __tablename__ = "site_options"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
