"""What a figure is: a :class:`Cell` (one number, shown or not), and the figures built of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from statistics import median

from .period import Period

_RECEIVED_COLUMNS = ("total", "code_violation", "member_companies")


class State(StrEnum):
    SHOWN = "shown"
    FEWER = "fewer"  # a count from 1 to THRESHOLD - 1: published as "fewer than 5"
    WITHHELD = "withheld"  # not published: it would reveal another cell, or rests on too few


@dataclass(frozen=True)
class Cell:
    """One number; ``value`` is None when it is not published (or there is nothing to count)."""

    value: float | None
    state: State = State.SHOWN

    @property
    def shown(self) -> bool:
        return self.state is State.SHOWN


@dataclass(frozen=True)
class MonthReceived:
    month: date
    total: Cell
    code_violation: Cell  # kind "evidence": alleging a violation of the Code
    member_companies: Cell  # against a member, transitional or suspended company


@dataclass(frozen=True)
class Received:
    months: tuple[MonthReceived, ...]
    total: Cell
    code_violation: Cell
    member_companies: Cell


@dataclass(frozen=True)
class Row:
    key: str | None  # topic, country code, company name, channel or language; None: not given
    count: Cell
    other: bool = False  # companies with fewer than THRESHOLD cases each, counted together


@dataclass(frozen=True)
class Breakdown:
    rows: tuple[Row, ...]
    total: Cell | None  # what the rows add up to; None when a case can count in several rows


@dataclass(frozen=True)
class Share:
    """``part`` of ``whole`` (the rest is ``rest``), and ``part / whole`` as a fraction."""

    part: Cell
    rest: Cell
    whole: Cell
    fraction: Cell


@dataclass(frozen=True)
class Duration:
    cases: Cell
    median_days: Cell


@dataclass(frozen=True)
class Destination:
    kind: str  # "company" or "procedure"
    key: str  # the company's name, or the procedure's kind
    referrals: Cell
    answered: Cell
    median_days: Cell
    response_days: tuple[int, ...] = ()  # what the median is taken over (never published)
    other: bool = False


@dataclass(frozen=True)
class Destinations:
    rows: tuple[Destination, ...]
    total: Cell


@dataclass(frozen=True)
class Answers:
    yes: Cell
    partly: Cell
    no: Cell
    total: Cell


@dataclass(frozen=True)
class MonthCount:
    month: date
    count: Cell


@dataclass(frozen=True)
class Monthly:
    months: tuple[MonthCount, ...]
    total: Cell


@dataclass(frozen=True)
class Figures:
    period: Period
    received: Received
    by_topic: Breakdown
    by_country: Breakdown
    by_company: Breakdown
    by_channel: Breakdown
    by_language: Breakdown
    acknowledge_within_days: int
    acknowledged_on_time: Share
    to_acknowledge: Duration
    to_refer: Duration
    to_close: Duration
    referrals: Destinations
    commitments_verified: Share
    happened: Answers
    satisfied: Answers
    reprisals: Monthly
    suppressed: bool = False


def _median(days: Sequence[int]) -> Cell:
    return Cell(median(days) if days else None)


def _share(part: int, whole: int) -> Share:
    return Share(Cell(part), Cell(whole - part), Cell(whole), Cell(part / whole if whole else None))
