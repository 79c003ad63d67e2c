"""Referrals of a case to a company's grievance mechanism or another body, and the consent
questions that gate them. Only routing facts are kept in clear; the package is a record."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, today


class Scope(StrEnum):
    """What the reporter allows to go to a kind of recipient."""

    UNASKED = "unasked"
    NOTHING = "nothing"
    ACCOUNT = "account"  # the account of what happened, without who they are
    IDENTITY = "identity"  # the account and their name and contact details


class Recipient(StrEnum):
    """The kinds of recipient consent is asked for separately."""

    COMPANY = "company"
    BODIES = "bodies"  # every other complaint body


class ReferralStatus(StrEnum):
    WAITING_CONSENT = "waiting_consent"  # the reporter has been asked and has not answered
    READY = "ready"  # consent allows it: the caseworker composes the package
    PREPARED = "prepared"  # another body's package is ready to be sent through its channel
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    ANSWERED = "answered"
    CLOSED = "closed"
    CANCELLED = "cancelled"  # the reporter said no, or the caseworker withdrew it


class ReferralOutcome(StrEnum):
    REMEDY_OFFERED = "remedy_offered"
    NO_REMEDY = "no_remedy"
    NOT_ADMISSIBLE = "not_admissible"
    NO_RESPONSE = "no_response"
    RESOLVED = "resolved"


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(f"status IN ({_values(ReferralStatus)})", name="status"),
        CheckConstraint(
            f"scope IS NULL OR scope IN ('{Scope.ACCOUNT.value}', '{Scope.IDENTITY.value}')",
            name="scope",
        ),
        CheckConstraint(
            f"outcome IS NULL OR outcome IN ({_values(ReferralOutcome)})", name="outcome"
        ),
        CheckConstraint("(company_id IS NULL) <> (procedure_id IS NULL)", name="one_target"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    company_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("companies.id"), index=True)
    procedure_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("procedures.id"))
    status: Mapped[str] = mapped_column(String(20), default=ReferralStatus.READY.value)
    scope: Mapped[str | None] = mapped_column(String(10))  # what went, once sent
    compartment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("compartments.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    created_on: Mapped[date] = mapped_column(Date, default=today)
    sent_on: Mapped[date | None] = mapped_column(Date)
    response_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    answered_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(20))
    their_reference: Mapped[str] = mapped_column(String(100), default="")

    @property
    def recipient(self) -> Recipient:
        return Recipient.COMPANY if self.company_id is not None else Recipient.BODIES


class ConsentRequest(Base):
    """The reporter was asked, on the follow-up page, what may go to a kind of recipient."""

    __tablename__ = "consent_requests"
    __table_args__ = (CheckConstraint(f"recipient IN ({_values(Recipient)})", name="recipient"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(10))
    asked_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    asked_on: Mapped[date] = mapped_column(Date, default=today)
    answered_on: Mapped[date | None] = mapped_column(Date)
