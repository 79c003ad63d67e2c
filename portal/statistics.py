"""The figures the organisation publishes, counted from clear metadata only (never decrypting).

Every figure counts what happened in the period: cases received in it, first acknowledgements,
first referrals and closures made in it (their days counted from the case's receipt), referrals
sent in it (answered whenever), commitments of remedies agreed in it, answers given in it and
reprisals reported in it. :func:`figures` gives them all for staff; :func:`suppress` makes the
public version, where small counts cannot point to a person. See ``portal.clear_metadata`` for
what these columns are.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from statistics import median
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .config import Settings
from .models import (
    AuditEvent,
    Case,
    CaseTopic,
    Commitment,
    CommitmentStatus,
    Company,
    ComplaintKind,
    Membership,
    Procedure,
    Referral,
    Remedy,
    RemedyFeedback,
    Reprisal,
    SiteOption,
    StageEvent,
    today,
)
from .stages import Stage
from .workflow import deadline_days

THRESHOLD = 5  # counts below this (but above 0) are published as "fewer than 5"
TRANSPARENCY_OPTION = "transparency_public"  # SiteOption: "on" publishes /transparency
MEMBER_STATES = (Membership.MEMBER.value, Membership.TRANSITIONAL.value, Membership.SUSPENDED.value)
MAX_MONTHS = 120  # a longer period asked for falls back to the default
PUBLISHED_YEARS = 10
_ISO_DATE = re.compile(r"(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}")  # years 1900 to 2999
_RECEIVED_COLUMNS = ("total", "code_violation", "member_companies")


# --- The period -------------------------------------------------------------------------------


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


# --- What a figure is --------------------------------------------------------------------------


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


# --- Counting ------------------------------------------------------------------------------------


def _received_in(period: Period) -> Any:
    return Case.received_on.between(period.start, period.end)


def received_per_month(db: Session, period: Period) -> Received:
    """Cases received, in all, alleging a violation of the Code, and against member companies."""
    counts: dict[date, Counter[str]] = {month: Counter() for month in period.months()}
    query = (
        select(Case.received_on, Case.kind, Company.membership, func.count())
        .outerjoin(Company, Company.id == Case.company_id)
        .where(_received_in(period))
        .group_by(Case.received_on, Case.kind, Company.membership)
    )
    for received_on, kind, membership, number in db.execute(query):
        month = counts[_month_start(received_on)]
        month["total"] += number
        month["code_violation"] += number if kind == ComplaintKind.EVIDENCE.value else 0
        month["member_companies"] += number if membership in MEMBER_STATES else 0
    months = tuple(
        MonthReceived(
            month, Cell(c["total"]), Cell(c["code_violation"]), Cell(c["member_companies"])
        )
        for month, c in counts.items()
    )
    return Received(
        months,
        *(Cell(sum(c[name] for c in counts.values())) for name in _RECEIVED_COLUMNS),
    )


def _breakdown(rows: Iterable[Any], *, adds_up: bool) -> Breakdown:
    counted = [(key, int(number)) for key, number in rows]
    counted.sort(key=lambda row: (-row[1], row[0] is None, row[0] or ""))
    total = Cell(sum(number for _key, number in counted)) if adds_up else None
    return Breakdown(tuple(Row(key, Cell(number)) for key, number in counted), total)


def by_topic(db: Session, period: Period) -> Breakdown:
    """Cases per topic (a case may have several, so the rows have no total)."""
    query = (
        select(CaseTopic.topic, func.count())
        .join(Case, Case.id == CaseTopic.case_id)
        .where(_received_in(period))
        .group_by(CaseTopic.topic)
    )
    return _breakdown(db.execute(query), adds_up=False)


def by_case_column(db: Session, period: Period, column: str) -> Breakdown:
    """Cases per country, channel or language (None: not given)."""
    attribute = {"country": Case.country, "channel": Case.channel, "language": Case.language}
    chosen = attribute[column]
    query = select(chosen, func.count()).where(_received_in(period)).group_by(chosen)
    return _breakdown(db.execute(query), adds_up=True)


def by_company(db: Session, period: Period) -> Breakdown:
    """Cases per company named (None: no company named)."""
    query = (
        select(Company.name, func.count())
        .select_from(Case)
        .outerjoin(Company, Company.id == Case.company_id)
        .where(_received_in(period))
        .group_by(Company.name)
    )
    return _breakdown(db.execute(query), adds_up=True)


def _days_to_first(
    db: Session, first: Any, lower: date | datetime, upper: date | datetime
) -> list[int]:
    """Days from receipt to each case's first ``first`` event, for those from ``lower`` up to
    (not including) ``upper``; ``first`` is a subquery of (case_id, at)."""
    query = (
        select(Case.received_on, first.c.at)
        .join(first, first.c.case_id == Case.id)
        .where(first.c.at >= lower, first.c.at < upper)
    )
    days = []
    for received_on, at in db.execute(query):
        day = at.date() if isinstance(at, datetime) else at
        days.append((day - received_on).days)
    return days


def _first_move(stage: Stage) -> Any:
    return (
        select(StageEvent.case_id, func.min(StageEvent.occurred_at).label("at"))
        .where(StageEvent.to_stage == stage.value)
        .group_by(StageEvent.case_id)
        .subquery()
    )


def acknowledgement(db: Session, settings: Settings, period: Period) -> tuple[int, Share, Duration]:
    """The days allowed to acknowledge, how many first acknowledgements made in the period were
    on time, and the median days they took."""
    allowed = deadline_days(settings, Stage.RECEIVED) or 0
    days = _days_to_first(db, _first_move(Stage.ACKNOWLEDGED), *period.moments())
    on_time = sum(1 for value in days if value <= allowed)
    return allowed, _share(on_time, len(days)), Duration(Cell(len(days)), _median(days))


def days_to_refer(db: Session, period: Period) -> Duration:
    """From receipt to a case's first referral sent, for first referrals sent in the period."""
    first = (
        select(Referral.case_id, func.min(Referral.sent_on).label("at"))
        .where(Referral.sent_on.is_not(None))
        .group_by(Referral.case_id)
        .subquery()
    )
    days = _days_to_first(db, first, period.start, period.end + timedelta(days=1))
    return Duration(Cell(len(days)), _median(days))


def days_to_close(db: Session, period: Period) -> Duration:
    """From receipt to closing, for cases closed in the period."""
    days = _days_to_first(db, _first_move(Stage.CLOSED), *period.moments())
    return Duration(Cell(len(days)), _median(days))


def referrals_by_destination(db: Session, period: Period) -> Destinations:
    """Referrals sent in the period, per company and per kind of procedure, and the median days
    to the answer (or, without one, to the referral's closing)."""
    query = (
        select(
            Company.name, Procedure.kind, Referral.sent_on, Referral.answered_on, Referral.closed_on
        )
        .outerjoin(Company, Company.id == Referral.company_id)
        .outerjoin(Procedure, Procedure.id == Referral.procedure_id)
        .where(Referral.sent_on.between(period.start, period.end))
    )
    sent: Counter[tuple[str, str]] = Counter()
    days: dict[tuple[str, str], list[int]] = {}
    for company, procedure_kind, sent_on, answered_on, closed_on in db.execute(query):
        key = ("company", company) if company is not None else ("procedure", procedure_kind)
        sent[key] += 1
        responses = days.setdefault(key, [])
        response_on = answered_on or closed_on
        if response_on is not None:
            responses.append((response_on - sent_on).days)
    rows = [
        Destination(
            kind=kind,
            key=name,
            referrals=Cell(number),
            answered=Cell(len(days[kind, name])),
            median_days=_median(days[kind, name]),
            response_days=tuple(sorted(days[kind, name])),
        )
        for (kind, name), number in sent.items()
    ]
    rows.sort(key=lambda row: (row.kind != "company", -(row.referrals.value or 0), row.key))
    return Destinations(tuple(rows), Cell(sum(sent.values())))


def commitments_verified(db: Session, period: Period) -> Share:
    """Of the commitments of remedies agreed in the period (other than those only proposed),
    how many are verified as implemented."""
    query = (
        select(Commitment.status, func.count())
        .join(Remedy, Remedy.id == Commitment.remedy_id)
        .where(
            Remedy.created_on.between(period.start, period.end),
            Commitment.status != CommitmentStatus.PROPOSED.value,
        )
        .group_by(Commitment.status)
    )
    counts = {status: number for status, number in db.execute(query)}
    return _share(counts.get(CommitmentStatus.VERIFIED.value, 0), sum(counts.values()))


def feedback(db: Session, period: Period) -> tuple[Answers, Answers]:
    """The reporters' answers given in the period: did the remedy happen, are they satisfied."""
    query = (
        select(RemedyFeedback.happened, RemedyFeedback.satisfied, func.count())
        .where(RemedyFeedback.answered_on.between(period.start, period.end))
        .group_by(RemedyFeedback.happened, RemedyFeedback.satisfied)
    )
    happened: Counter[str] = Counter()
    satisfied: Counter[str] = Counter()
    for did_happen, was_satisfied, number in db.execute(query):
        happened[did_happen] += number
        satisfied[was_satisfied] += number
    return _answers(happened), _answers(satisfied)


def _answers(counts: Counter[str]) -> Answers:
    return Answers(
        Cell(counts["yes"]), Cell(counts["partly"]), Cell(counts["no"]), Cell(counts.total())
    )


def reprisals_per_month(db: Session, period: Period) -> Monthly:
    counts: Counter[date] = Counter({month: 0 for month in period.months()})
    query = (
        select(Reprisal.reported_on, func.count())
        .where(Reprisal.reported_on.between(period.start, period.end))
        .group_by(Reprisal.reported_on)
    )
    for reported_on, number in db.execute(query):
        counts[_month_start(reported_on)] += number
    months = tuple(MonthCount(month, Cell(number)) for month, number in sorted(counts.items()))
    return Monthly(months, Cell(counts.total()))


def figures(db: Session, settings: Settings, period: Period) -> Figures:
    """Every published figure for ``period``, unsuppressed (for staff)."""
    allowed, on_time, to_acknowledge = acknowledgement(db, settings, period)
    happened, satisfied = feedback(db, period)
    return Figures(
        period=period,
        received=received_per_month(db, period),
        by_topic=by_topic(db, period),
        by_country=by_case_column(db, period, "country"),
        by_company=by_company(db, period),
        by_channel=by_case_column(db, period, "channel"),
        by_language=by_case_column(db, period, "language"),
        acknowledge_within_days=allowed,
        acknowledged_on_time=on_time,
        to_acknowledge=to_acknowledge,
        to_refer=days_to_refer(db, period),
        to_close=days_to_close(db, period),
        referrals=referrals_by_destination(db, period),
        commitments_verified=commitments_verified(db, period),
        happened=happened,
        satisfied=satisfied,
        reprisals=reprisals_per_month(db, period),
    )


# --- Publishing safely -----------------------------------------------------------------------


def _raw(cell: Cell) -> int:
    if not cell.shown:
        raise ValueError("these figures are already suppressed")
    return int(cell.value or 0)


def _recoverable(hidden: Sequence[int], threshold: int) -> bool:
    """Whether "fewer than" cells could be worked out from their row's total and the other
    cells: one alone always can; several can when their sum allows a single split (all 1, or
    all just under the threshold)."""
    return len(hidden) == 1 or sum(hidden) in (len(hidden), len(hidden) * (threshold - 1))


def protect(values: Sequence[int], threshold: int = THRESHOLD, *, total: bool = True) -> list[Cell]:
    """The published cells of one row of counts.

    A count from 1 to ``threshold - 1`` becomes "fewer than"; 0 stays 0. When the row's total is
    published (``total``) and the hidden cells could be worked out from it, the smallest shown
    non-zero cell is withheld too (secondary suppression).
    """
    states = [State.FEWER if 0 < value < threshold else State.SHOWN for value in values]
    hidden = [value for value, state in zip(values, states, strict=True) if state is State.FEWER]
    if total and hidden and _recoverable(hidden, threshold):
        shown = [i for i, value in enumerate(values) if states[i] is State.SHOWN and value > 0]
        if shown:
            states[min(shown, key=lambda i: (values[i], i))] = State.WITHHELD
    return [
        Cell(value if state is State.SHOWN else None, state)
        for value, state in zip(values, states, strict=True)
    ]


def _count(cell: Cell, threshold: int) -> Cell:
    return protect([_raw(cell)], threshold, total=False)[0]


def _over(value: Cell, cases: int, threshold: int) -> Cell:
    """A median or a rate, withheld when it rests on fewer than ``threshold`` cases."""
    return Cell(None, State.WITHHELD) if 0 < cases < threshold else value


def _published_order(row: Row) -> tuple[bool, bool, float, str, bool]:
    # Hidden rows follow the shown ones by name, so their order tells nothing of their size.
    last = row.key is None or row.other
    return (last, not row.count.shown, -(row.count.value or 0), row.key or "", row.other)


def _suppress_breakdown(breakdown: Breakdown, threshold: int, *, fold: bool = False) -> Breakdown:
    rows = list(breakdown.rows)
    if fold:  # never a company-level row for fewer than ``threshold`` cases
        small = [row for row in rows if row.key is not None and _raw(row.count) < threshold]
        if small:
            folded = Row(None, Cell(sum(_raw(row.count) for row in small)), other=True)
            rows = [row for row in rows if row not in small] + [folded]
    cells = protect([_raw(row.count) for row in rows], threshold, total=breakdown.total is not None)
    published = [replace(row, count=cell) for row, cell in zip(rows, cells, strict=True)]
    total = _count(breakdown.total, threshold) if breakdown.total is not None else None
    return Breakdown(tuple(sorted(published, key=_published_order)), total)


def _suppress_destinations(destinations: Destinations, threshold: int) -> Destinations:
    rows = list(destinations.rows)
    small = [row for row in rows if row.kind == "company" and _raw(row.referrals) < threshold]
    if small:
        days = tuple(sorted(day for row in small for day in row.response_days))
        sent = Cell(sum(_raw(row.referrals) for row in small))
        folded = Destination("company", "", sent, Cell(len(days)), _median(days), days, True)
        rows = [row for row in rows if row not in small] + [folded]
    cells = protect([_raw(row.referrals) for row in rows], threshold)
    published = [
        Destination(
            kind=row.kind,
            key=row.key,
            referrals=cell,
            answered=_count(row.answered, threshold),
            median_days=_over(row.median_days, _raw(row.answered), threshold),
            other=row.other,
        )
        for row, cell in zip(rows, cells, strict=True)
    ]
    published.sort(
        key=lambda row: (
            row.kind != "company" or row.other,
            row.kind,
            not row.referrals.shown,
            -(row.referrals.value or 0),
            row.key,
        )
    )
    return Destinations(tuple(published), _count(destinations.total, threshold))


def _suppress_share(share: Share, threshold: int) -> Share:
    # Published as a rate of its whole; the two counts it splits into are not published.
    whole = _raw(share.whole)
    withheld = Cell(None, State.WITHHELD)
    return Share(
        withheld, withheld, _count(share.whole, threshold), _over(share.fraction, whole, threshold)
    )


def _suppress_duration(duration: Duration, threshold: int) -> Duration:
    cases = _raw(duration.cases)
    return Duration(
        _count(duration.cases, threshold), _over(duration.median_days, cases, threshold)
    )


def _suppress_answers(answers: Answers, threshold: int) -> Answers:
    yes, partly, no = protect(
        [_raw(answers.yes), _raw(answers.partly), _raw(answers.no)], threshold
    )
    return Answers(yes, partly, no, _count(answers.total, threshold))


def suppress(figures: Figures, threshold: int = THRESHOLD) -> Figures:
    """The figures as the public page may show them.

    Every count from 1 to ``threshold - 1`` is "fewer than" (0 stays 0); medians and rates
    resting on fewer than ``threshold`` cases are withheld; in every row whose total is
    published, a hidden cell that the total would give away takes the next-smallest cell with
    it; companies with fewer than ``threshold`` cases (or referrals) are counted together,
    never named; rates are published with their whole, not with the counts they split it into.
    """
    received = figures.received
    columns = {
        name: protect([_raw(getattr(month, name)) for month in received.months], threshold)
        for name in _RECEIVED_COLUMNS
    }
    months = tuple(
        MonthReceived(month.month, *(columns[name][i] for name in _RECEIVED_COLUMNS))
        for i, month in enumerate(received.months)
    )
    reprisal_cells = protect([_raw(month.count) for month in figures.reprisals.months], threshold)
    return replace(
        figures,
        received=Received(
            months, *(_count(getattr(received, name), threshold) for name in _RECEIVED_COLUMNS)
        ),
        by_topic=_suppress_breakdown(figures.by_topic, threshold),
        by_country=_suppress_breakdown(figures.by_country, threshold),
        by_company=_suppress_breakdown(figures.by_company, threshold, fold=True),
        by_channel=_suppress_breakdown(figures.by_channel, threshold),
        by_language=_suppress_breakdown(figures.by_language, threshold),
        acknowledged_on_time=_suppress_share(figures.acknowledged_on_time, threshold),
        to_acknowledge=_suppress_duration(figures.to_acknowledge, threshold),
        to_refer=_suppress_duration(figures.to_refer, threshold),
        to_close=_suppress_duration(figures.to_close, threshold),
        referrals=_suppress_destinations(figures.referrals, threshold),
        commitments_verified=_suppress_share(figures.commitments_verified, threshold),
        happened=_suppress_answers(figures.happened, threshold),
        satisfied=_suppress_answers(figures.satisfied, threshold),
        reprisals=Monthly(
            tuple(
                MonthCount(month.month, cell)
                for month, cell in zip(figures.reprisals.months, reprisal_cells, strict=True)
            ),
            _count(figures.reprisals.total, threshold),
        ),
        suppressed=True,
    )


# --- The staff export --------------------------------------------------------------------------

_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run these as a formula


def _csv_value(value: object) -> str:
    if isinstance(value, Cell):
        if value.state is State.FEWER:
            return f"fewer than {THRESHOLD}"
        if value.state is State.WITHHELD:
            return "withheld"
        value = value.value
    if isinstance(value, float):
        value = int(value) if value.is_integer() else round(value, 1)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _percent(cell: Cell) -> Cell:
    return replace(cell, value=cell.value * 100) if cell.value is not None else cell


def _csv_rows(figures: Figures) -> Iterable[tuple[str, str, str, object]]:
    yield ("period", "", "from", figures.period.start.isoformat())
    yield ("period", "", "to", figures.period.end.isoformat())
    for month in figures.received.months:
        for name in _RECEIVED_COLUMNS:
            yield ("cases_received", f"{month.month:%Y-%m}", name, getattr(month, name))
    for name in _RECEIVED_COLUMNS:
        yield ("cases_received", "all", name, getattr(figures.received, name))
    for figure, breakdown in (
        ("cases_by_topic", figures.by_topic),
        ("cases_by_country", figures.by_country),
        ("cases_by_company", figures.by_company),
        ("cases_by_channel", figures.by_channel),
        ("cases_by_language", figures.by_language),
    ):
        for row in breakdown.rows:
            yield (figure, "(other)" if row.other else row.key or "", "cases", row.count)
        if breakdown.total is not None:
            yield (figure, "all", "cases", breakdown.total)
    on_time = figures.acknowledged_on_time
    yield ("acknowledged_on_time", "", "within_days", figures.acknowledge_within_days)
    yield ("acknowledged_on_time", "", "acknowledged", on_time.whole)
    yield ("acknowledged_on_time", "", "on_time", on_time.part)
    yield ("acknowledged_on_time", "", "late", on_time.rest)
    yield ("acknowledged_on_time", "", "percent", _percent(on_time.fraction))
    for figure, duration in (
        ("days_to_acknowledge", figures.to_acknowledge),
        ("days_to_refer", figures.to_refer),
        ("days_to_close", figures.to_close),
    ):
        yield (figure, "", "cases", duration.cases)
        yield (figure, "", "median_days", duration.median_days)
    for destination in figures.referrals.rows:
        item = "company:(other)" if destination.other else f"{destination.kind}:{destination.key}"
        yield ("referrals", item, "sent", destination.referrals)
        yield ("referrals", item, "answered", destination.answered)
        yield ("referrals", item, "median_days_to_answer", destination.median_days)
    yield ("referrals", "all", "sent", figures.referrals.total)
    verified = figures.commitments_verified
    yield ("commitments_verified", "", "commitments", verified.whole)
    yield ("commitments_verified", "", "verified", verified.part)
    yield ("commitments_verified", "", "not_verified", verified.rest)
    yield ("commitments_verified", "", "percent", _percent(verified.fraction))
    for figure, answers in (
        ("remedy_happened", figures.happened),
        ("satisfied", figures.satisfied),
    ):
        for item in ("yes", "partly", "no"):
            yield (figure, item, "answers", getattr(answers, item))
        yield (figure, "all", "answers", answers.total)
    for month_count in figures.reprisals.months:
        yield ("reprisals_reported", f"{month_count.month:%Y-%m}", "reports", month_count.count)
    yield ("reprisals_reported", "all", "reports", figures.reprisals.total)


def to_csv(figures: Figures) -> str:
    """The figures as CSV for staff (UTF-8, a header row): one number a line, as
    figure, item, measure, value; cells a spreadsheet would run are prefixed with ``'``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("figure", "item", "measure", "value"))
    for row in _csv_rows(figures):
        writer.writerow([_csv_value(value) for value in row])
    return out.getvalue()


# --- The public page's switch and years ---------------------------------------------------------


def transparency_is_public(db: Session) -> bool:
    option = db.get(SiteOption, TRANSPARENCY_OPTION)
    return option is not None and option.value == "on"


def switch_transparency(db: Session, actor_account_id: uuid.UUID, public: bool) -> None:
    """Publish or withdraw the public figures page, in the audit trail (the caller commits)."""
    value = "on" if public else "off"
    option = db.get(SiteOption, TRANSPARENCY_OPTION)
    if option is None:
        db.add(SiteOption(name=TRANSPARENCY_OPTION, value=value))
    else:
        option.value = value
    db.add(
        AuditEvent(action="transparency.switched", actor_account_id=actor_account_id, detail=value)
    )


def published_years(db: Session, on: date | None = None) -> list[int]:
    """The whole past years since the first case, newest first (at most ten)."""
    first = db.scalar(select(func.min(Case.received_on)))
    last = (on or today()).year - 1
    if first is None or first.year > last:
        return []
    return list(range(last, max(first.year, last - PUBLISHED_YEARS + 1) - 1, -1))
