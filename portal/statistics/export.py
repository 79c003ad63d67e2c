"""The staff export: the figures as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import replace

from .cells import _RECEIVED_COLUMNS, Cell, Figures, State
from .suppression import THRESHOLD

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
