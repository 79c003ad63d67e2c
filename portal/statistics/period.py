"""The period the figures count: from one day to another, both included, as a query string
asks for it or by default."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from ..models import today

MAX_MONTHS = 120  # a longer period asked for falls back to the default
_ISO_DATE = re.compile(r"(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}")  # years 1900 to 2999


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both days included."""

    start: date
    end: date
    fallback: bool = False  # the dates asked for could not be used: these are the defaults
    # For the public page: leave out cases someone concerned did not want in public reports.
    public_only: bool = False

    @classmethod
    def last_12_months(cls, on: date | None = None) -> Period:
        """This month so far and the eleven before it (the staff page's default)."""
        on = on or today()
        return cls(_add_months(_month_start(on), -11), on)

    @classmethod
    def last_12_complete_months(cls, on: date | None = None) -> Period:
        """The twelve months before this one (the public default: it changes once a month)."""
        this_month = _month_start(on or today())
        return cls(_add_months(this_month, -12), this_month - timedelta(days=1))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def from_args(cls, args: Mapping[str, str], on: date | None = None) -> Period:
        """``from`` and ``to`` (YYYY-MM-DD) of a query string; the last 12 months by default,
        and also (flagged) when they cannot be read, are the wrong way round or too far apart."""
        default = cls.last_12_months(on)
        raw_from, raw_to = (args.get("from") or "").strip(), (args.get("to") or "").strip()
        if not raw_from and not raw_to:
            return default
        try:
            end = _parse_day(raw_to) if raw_to else default.end
            start = _parse_day(raw_from) if raw_from else _add_months(_month_start(end), -11)
        except ValueError:
            return replace(default, fallback=True)
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        if start > end or months > MAX_MONTHS:
            return replace(default, fallback=True)
        return cls(start, end)

    def months(self) -> list[date]:
        """The first day of every month the period touches."""
        months, month = [], _month_start(self.start)
        while month <= self.end:
            months.append(month)
            month = _add_months(month, 1)
        return months

    def query_args(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}

    def moments(self) -> tuple[datetime, datetime]:
        """The first moment of the period and the first moment after it (for timestamps)."""
        return datetime.combine(self.start, time()), datetime.combine(
            self.end + timedelta(days=1), time()
        )


def _parse_day(text: str) -> date:
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)
