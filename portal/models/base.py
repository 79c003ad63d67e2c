"""Declarative base with a constraint naming convention, and small column helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Every model of the portal."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Now, in UTC, without tzinfo (stored the same way on SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def today() -> date:
    """Today's date in UTC: reporter-side events are stored at day precision only."""
    return datetime.now(UTC).date()


def day_start() -> datetime:
    """Midnight of today (UTC): a timestamp that says the day and nothing more."""
    return datetime.combine(today(), time())
