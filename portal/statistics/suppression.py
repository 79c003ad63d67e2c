"""Publishing safely: the public version of the figures, where small counts cannot point to a
person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

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
    State,
    _median,
)

THRESHOLD = 5  # counts below this (but above 0) are published as "fewer than 5"


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
