"""Staff, intermediary and company accounts, each with its own key pair."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, DateTime, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    CASEWORKER = "caseworker"
    INTERMEDIARY = "intermediary"
    COMPANY = "company"


ROLE_VALUES = ", ".join(f"'{role.value}'" for role in Role)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint(f"role IN ({ROLE_VALUES})", name="role"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    in_intake_team: Mapped[bool] = mapped_column(Boolean, default=False)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    public_key_mac: Mapped[bytes] = mapped_column(LargeBinary(32))
    wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
