"""Installation-wide clear values: the recovery public key and the receipt salt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Installation(Base):
    """A single row (id 1), written by ``setup`` on first run."""

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recovery_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    receipt_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    receipt_kdf: Mapped[bytes] = mapped_column(LargeBinary(9))
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
