"""Every published figure as a section: a heading, a table (the text alternative) and its chart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import format_decimal, gettext
from markupsafe import Markup

from ..statistics import THRESHOLD, Answers, Breakdown, Cell, Duration, Figures, Share
from ..topics import TOPICS
from .labels import (
    ANSWER_LABELS,
    CHANNEL_LABELS,
    PROCEDURE_KIND_LABELS,
    _month_bar,
    country_name,
    language_name,
    show_count,
    show_month,
    show_percent,
)
from .svg import Bar, bar_chart, column_chart


@dataclass(frozen=True)
class TableRow:
    label: Markup | str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    note: str
    columns: tuple[str, ...]  # the first heads the row labels
    rows: tuple[TableRow, ...]
    total: TableRow | None
    chart: Markup | None  # None when there is nothing to draw


Labelled = list[tuple[Markup | str, Cell]]


def _bar(label: Markup | str, cell: Cell) -> Bar:
    """A bar for ``cell``, labelled without markup (the chart escapes the text again)."""
    plain = label.striptags() if isinstance(label, Markup) else str(label)
    return Bar(plain, cell.value if cell.shown else None, show_count(cell))


def _section(
    section_id: str,
    title: str,
    columns: tuple[str, ...],
    rows: Sequence[TableRow],
    bars: Sequence[Bar],
    *,
    rtl: bool,
    total: TableRow | None = None,
    note: str = "",
    chart: Callable[..., Markup] = bar_chart,
) -> Section:
    drawn = any(bar.value for bar in bars)
    return Section(
        id=section_id,
        title=title,
        note=note,
        columns=columns,
        rows=tuple(rows),
        total=total,
        chart=chart(f"chart-{section_id}", title, bars, rtl=rtl) if drawn else None,
    )


def _counts(
    section_id: str,
    title: str,
    columns: tuple[str, str],
    rows: Labelled,
    total: Cell | None,
    *,
    rtl: bool,
    note: str = "",
) -> Section:
    """A table of counts, with its bar chart."""
    return _section(
        section_id,
        title,
        columns,
        [TableRow(label, (show_count(cell),)) for label, cell in rows],
        [_bar(label, cell) for label, cell in rows],
        rtl=rtl,
        total=TableRow(gettext("All"), (show_count(total),)) if total is not None else None,
        note=note,
    )


def _labelled(
    breakdown: Breakdown, name: Callable[[str], Markup | str], missing: str, other: str = ""
) -> Labelled:
    return [
        (other if row.other else missing if row.key is None else name(row.key), row.count)
        for row in breakdown.rows
    ]


def _company(name: str) -> Markup:
    return Markup("<bdi>{}</bdi>").format(name)


def _share(
    section_id: str,
    title: str,
    note: str,
    share: Share,
    labels: tuple[str, str, str, str],
    *,
    public: bool,
    rtl: bool,
) -> Section:
    """A whole, its split in two and the rate; the public page gives only the whole and rate."""
    part, rest, whole, rate = labels
    split = [] if public else [(part, share.part), (rest, share.rest)]
    rows = [(whole, share.whole), *split]
    return _section(
        section_id,
        title,
        (gettext("What"), gettext("Number")),
        [
            *(TableRow(label, (show_count(cell),)) for label, cell in rows),
            TableRow(rate, (show_percent(share.fraction),)),
        ],
        [_bar(label, cell) for label, cell in split],
        rtl=rtl,
        note=note,
    )


def _months(
    section_id: str,
    title: str,
    columns: tuple[str, ...],
    months: Sequence[Any],
    names: tuple[str, ...],
    totals: tuple[Cell, ...],
    *,
    rtl: bool,
    note: str = "",
) -> Section:
    """One row a month (cells ``names`` of each), and a column chart of the first of them."""

    def cells(row: Any) -> tuple[str, ...]:
        return tuple(show_count(getattr(row, name)) for name in names)

    return _section(
        section_id,
        title,
        columns,
        [TableRow(show_month(month.month), cells(month)) for month in months],
        [_month_bar(month.month, getattr(month, names[0]), i) for i, month in enumerate(months)],
        rtl=rtl,
        total=TableRow(gettext("All months"), tuple(show_count(cell) for cell in totals)),
        note=note,
        chart=column_chart,
    )


def _durations(figures: Figures, rtl: bool) -> Section:
    steps: list[tuple[str, Duration]] = [
        (gettext("From receipt to acknowledgement"), figures.to_acknowledge),
        (gettext("From receipt to the first referral"), figures.to_refer),
        (gettext("From receipt to closing"), figures.to_close),
    ]
    return _section(
        "durations",
        gettext("How long the steps took"),
        (gettext("Step"), gettext("Complaints"), gettext("Median days")),
        [TableRow(step, (show_count(d.cases), show_count(d.median_days))) for step, d in steps],
        [_bar(step, d.median_days) for step, d in steps],
        rtl=rtl,
        note=gettext("The median: half of the complaints took less time, half took more."),
    )


def _referrals(figures: Figures, other: str, rtl: bool) -> Section:
    rows: list[TableRow] = []
    bars: list[Bar] = []
    for destination in figures.referrals.rows:
        if destination.other:
            label: Markup | str = other
        elif destination.kind == "company":
            label = _company(destination.key)
        else:
            label = str(PROCEDURE_KIND_LABELS.get(destination.key, destination.key))
        answers = (destination.referrals, destination.answered, destination.median_days)
        rows.append(TableRow(label, tuple(show_count(cell) for cell in answers)))
        bars.append(_bar(label, destination.referrals))
    return _section(
        "referrals",
        gettext("Where we sent complaints"),
        (
            gettext("Sent to"),
            gettext("Complaints sent"),
            gettext("Answers"),
            gettext("Median days to answer"),
        ),
        rows,
        bars,
        rtl=rtl,
        total=TableRow(gettext("All"), (show_count(figures.referrals.total), "", "")),
        note=gettext(
            "Days to answer count from the day we sent the complaint to the day of the answer,"
            " or to the day we stopped waiting."
        ),
    )


def _answers(answers: Answers) -> Labelled:
    return [(str(ANSWER_LABELS[key]), getattr(answers, key)) for key in ("yes", "partly", "no")]


def sections(figures: Figures, *, rtl: bool) -> list[Section]:
    """Every figure as a titled table with its chart, in the reader's language."""
    complaints, not_given = gettext("Complaints"), gettext("Not given")
    answer_columns = (gettext("Answer"), gettext("Answers"))
    other = gettext(
        "Other companies (fewer than %(number)s each)", number=format_decimal(THRESHOLD)
    )
    return [
        _months(
            "received",
            gettext("Complaints received"),
            (
                gettext("Month"),
                complaints,
                gettext("About a breach of the Code"),
                gettext("Against a member company"),
            ),
            figures.received.months,
            ("total", "code_violation", "member_companies"),
            (
                figures.received.total,
                figures.received.code_violation,
                figures.received.member_companies,
            ),
            rtl=rtl,
        ),
        _counts(
            "topics",
            gettext("What the complaints are about"),
            (gettext("Topic"), complaints),
            _labelled(figures.by_topic, lambda key: str(TOPICS.get(key, key)), not_given),
            None,
            rtl=rtl,
            note=gettext("A complaint can be about more than one thing."),
        ),
        _counts(
            "countries",
            gettext("Where it happened"),
            (gettext("Country"), complaints),
            _labelled(figures.by_country, country_name, not_given),
            figures.by_country.total,
            rtl=rtl,
        ),
        _counts(
            "companies",
            gettext("Companies complained about"),
            (gettext("Company"), complaints),
            _labelled(figures.by_company, _company, gettext("No company named"), other),
            figures.by_company.total,
            rtl=rtl,
        ),
        _counts(
            "channels",
            gettext("How the complaints came to us"),
            (gettext("Way"), complaints),
            _labelled(figures.by_channel, lambda key: str(CHANNEL_LABELS.get(key, key)), not_given),
            figures.by_channel.total,
            rtl=rtl,
        ),
        _counts(
            "languages",
            gettext("Languages people used"),
            (gettext("Language"), complaints),
            _labelled(figures.by_language, language_name, not_given),
            figures.by_language.total,
            rtl=rtl,
        ),
        _share(
            "acknowledged",
            gettext("Complaints acknowledged on time"),
            gettext(
                "On time means that a caseworker read the complaint and told the person"
                " within %(days)s days.",
                days=format_decimal(figures.acknowledge_within_days),
            ),
            figures.acknowledged_on_time,
            (
                gettext("On time"),
                gettext("Late"),
                gettext("Complaints acknowledged"),
                gettext("Share on time"),
            ),
            public=figures.suppressed,
            rtl=rtl,
        ),
        _durations(figures, rtl),
        _referrals(figures, other, rtl),
        _share(
            "commitments",
            gettext("Remedy commitments checked"),
            gettext(
                "Promises made in remedies agreed in this period, and how many we checked"
                " were kept. Promises only proposed are not counted."
            ),
            figures.commitments_verified,
            (
                gettext("Checked and kept"),
                gettext("Not checked yet, or not kept"),
                gettext("Promises"),
                gettext("Share checked and kept"),
            ),
            public=figures.suppressed,
            rtl=rtl,
        ),
        _counts(
            "happened",
            gettext("Did the remedy happen? What people told us"),
            answer_columns,
            _answers(figures.happened),
            figures.happened.total,
            rtl=rtl,
        ),
        _counts(
            "satisfied",
            gettext("Were people satisfied with the remedy?"),
            answer_columns,
            _answers(figures.satisfied),
            figures.satisfied.total,
            rtl=rtl,
        ),
        _months(
            "reprisals",
            gettext("Reprisals reported"),
            (gettext("Month"), gettext("Reports")),
            figures.reprisals.months,
            ("count",),
            (figures.reprisals.total,),
            rtl=rtl,
            note=gettext(
                "Threats, attacks or other harm that people told us about because they complained."
            ),
        ),
    ]
