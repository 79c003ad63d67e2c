"""Counting: every figure for a period, from clear metadata only (never decrypting)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ..config import Settings
from ..models import (
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
    StageEvent,
)
from ..stages import Stage
from ..workflow import deadline_days
from .cells import (
    _RECEIVED_COLUMNS,
    Answers,
    Breakdown,
    Cell,
    Destination,
    Destinations,
    Duration,
    Figures,
    MonthCount,
    Monthly,
    MonthReceived,
    Received,
    Row,
    Share,
    _median,
    _share,
)
from .period import Period, _month_start

MEMBER_STATES = (Membership.MEMBER.value, Membership.TRANSITIONAL.value, Membership.SUSPENDED.value)


def _received_in(period: Period) -> Any:
    received = Case.received_on.between(period.start, period.end)
    return and_(received, Case.in_public_reports.is_(True)) if period.public_only else received


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
