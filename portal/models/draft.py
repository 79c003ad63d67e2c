"""Work in progress on the public side, unreadable without the browser's cookie.

A filing in progress is a *draft*: its answers are encrypted under a key derived from a token
only the reporter's cookie holds, and it expires an hour after the last step. A *reporter
session* (following up with the receipt) holds the case key the same way.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Draft(Base):
    __tablename__ = "drafts"

    id: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class ReporterSession(Base):
    __tablename__ = "reporter_sessions"

    id: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    # Which of the case's receipts opened the session.
    lookup_token: Mapped[bytes] = mapped_column(
        ForeignKey("receipt_locks.lookup_token", ondelete="CASCADE")
    )
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
