"""A case and the clear metadata it carries (see ``portal.clear_metadata``)."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..stages import STAGE_VALUES, Stage
from .base import Base, today


class Channel(StrEnum):
    ANONYMOUS = "anonymous"
    CONFIDENTIAL = "confidential"
    INTERMEDIARY = "intermediary"
    STAFF_RECORDED = "staff_recorded"


CHANNEL_VALUES = ", ".join(f"'{channel.value}'" for channel in Channel)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(f"stage IN ({STAGE_VALUES})", name="stage"),
        CheckConstraint(f"channel IN ({CHANNEL_VALUES})", name="channel"),
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
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
