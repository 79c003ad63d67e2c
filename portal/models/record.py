"""Encrypted records and encrypted files. Nothing here is readable without a compartment key."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, today


class RecordKind(StrEnum):
    ANSWERS = "answers"  # the reporter's answers to the intake form
    IDENTITY = "identity"  # name and contact details
    FILE_KEY = "file_key"  # an attachment's key, name, type and size
    MESSAGE = "message"
    NOTE = "note"
    PACKAGE = "package"  # what a referral carries: chosen answers, cover note, identity if allowed
    REFERRAL_ANSWER = "referral_answer"  # a company's acknowledgement or answer to a referral
    REMEDY = "remedy"  # a remedy's description, beneficiaries and responsible party
    COMMITMENT = "commitment"  # what is promised, how and by whom it is verified, evidence
    FEEDBACK = "feedback"  # the reporter's words about a remedy
    PROGRESS = "progress"  # a company's report on a commitment, in its referral's package
    CONSENT = "consent"  # an intermediary's record of each complainant's consent


class AuthorRole(StrEnum):
    REPORTER = "reporter"
    STAFF = "staff"
    COMPANY = "company"
    SYSTEM = "system"
    INTERMEDIARY = "intermediary"  # an organisation filing or following for the people it helps


KIND_VALUES = ", ".join(f"'{kind.value}'" for kind in RecordKind)
AUTHOR_VALUES = ", ".join(f"'{role.value}'" for role in AuthorRole)


class Record(Base):
    __tablename__ = "records"
    __table_args__ = (
        CheckConstraint(f"kind IN ({KIND_VALUES})", name="kind"),
        CheckConstraint(f"author_role IN ({AUTHOR_VALUES})", name="author_role"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    compartment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("compartments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    author_role: Mapped[str] = mapped_column(String(16))
    author_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    created_on: Mapped[date] = mapped_column(Date, default=today)
    # Order within the case (dates are kept at day precision only).
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class StoredFile(Base):
    """An attachment: ciphertext in the data dir, its key and name in a FILE_KEY record."""

    __tablename__ = "files"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    key_record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), unique=True
    )
    stored_bytes: Mapped[int] = mapped_column(Integer)
    created_on: Mapped[date] = mapped_column(Date, default=today)


class ReadMark(Base):
    """How far an account has read a case's messages (for its "unread" counts)."""

    __tablename__ = "read_marks"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    seen_sequence: Mapped[int] = mapped_column(Integer, default=0)
