"""How many cases each account can see in each stage, kept as cases and grants change."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class StageTally(Base):
    """The number of cases in ``stage`` the account holds a live case grant for.

    Derived data, kept by ``portal.tallies`` on every flush that changes a grant, a case
    compartment or a case's stage, so that the case list can show counts per stage without
    counting a hundred thousand cases.
    """

    __tablename__ = "stage_tallies"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)
