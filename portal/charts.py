"""The published figures as the reader sees them: accessible SVG charts drawn on the server,
and the tables beside them (their text alternative), in the reader's language.

Every chart is an ``<svg role="img">`` named by its ``<title>`` and described by a ``<desc>``
that says the largest values in words. It has no script and no ``style`` attribute (the CSP
forbids inline style): colours come from classes in ``portal.css``, with presentation attributes
as the fallback. Every text taken from the data is escaped. On right-to-left pages bars grow
from the right and months run from right to left.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import Locale
from babel.dates import format_skeleton
from flask_babel import format_decimal, format_percent, get_locale, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from .i18n import LANGUAGE_NAMES
from .models import Channel, ProcedureKind
from .statistics import (
    THRESHOLD,
    Answers,
    Breakdown,
    Cell,
    Duration,
    Figures,
    Share,
    State,
)
from .topics import TOPICS

WIDTH = 360  # every chart's viewBox width; CSS scales it to the page
PAD = 4
BAR_ROW = 40
NOTE_ROOM = 100  # beside the longest bar, for its number or "fewer than 5"
MAX_BARS = 12  # the table beside the chart lists every row
LABEL_CHARS = 48
COLUMN_HEIGHT = 200

# The same wording as the staff case list and the registry pages.
CHANNEL_LABELS = {
    Channel.ANONYMOUS.value: _l("Anonymous"),
    Channel.CONFIDENTIAL.value: _l("Confidential"),
    Channel.INTERMEDIARY.value: _l("Through an intermediary"),
    Channel.STAFF_RECORDED.value: _l("Recorded by staff"),
}
PROCEDURE_KIND_LABELS = {
    ProcedureKind.NCP.value: _l("OECD National Contact Point"),
    ProcedureKind.NHRI.value: _l("National human rights institution"),
    ProcedureKind.DFI.value: _l("Development-finance accountability mechanism"),
    ProcedureKind.LEGAL_AID.value: _l("Courts and legal aid"),
    ProcedureKind.UN_PROCEDURE.value: _l("UN special procedure or treaty body"),
    ProcedureKind.CLIENT_MECHANISM.value: _l("A client's own complaint mechanism"),
    ProcedureKind.GOOD_OFFICES.value: _l("Good offices or mediation"),
}
ANSWER_LABELS = {"yes": _l("Yes"), "partly": _l("Partly"), "no": _l("No")}


# --- Charts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: nothing drawn (not published, or nothing to count)
    note: str  # written at the bar's end: its value as the table shows it
    sublabel: str = ""  # a second line under a column (the year under January)
    spoken: str = ""  # the label in full for the description, when the drawn one is short


def _svg(chart_id: str, title: str, desc: str, height: int, body: Markup, rtl: bool) -> Markup:
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}"'
        ' role="img" aria-labelledby="{id}-title {id}-desc" direction="{direction}"'
        ' font-size="13" fill="currentColor"><title id="{id}-title">{title}</title>'
        '<desc id="{id}-desc">{desc}</desc>{body}</svg>'
    ).format(
        width=WIDTH,
        height=height,
        id=chart_id,
        direction="rtl" if rtl else "ltr",
        title=title,
        desc=desc,
        body=body,
    )


def _summary(bars: Sequence[Bar], drawn_bars: int) -> str:
    """The chart in words: its three largest values, and what it leaves out."""
    drawn = sorted(
        (bar for bar in bars if bar.value is not None), key=lambda bar: -(bar.value or 0)
    )
    if not drawn:
        return gettext("There is no number to draw: see the table.")
    largest = "; ".join(f"{bar.spoken or bar.label}: {bar.note}" for bar in drawn[:3])
    summary = gettext("Largest: %(values)s.", values=largest)
    if len(drawn) < len(bars):
        summary += " " + gettext("Some numbers are not drawn: see the table.")
    if drawn_bars < len(bars):
        summary += " " + gettext(
            "The chart shows the first %(number)s; the table lists them all.",
            number=format_decimal(drawn_bars),
        )
    return summary


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def _x(x: float, rtl: bool, width: float = 0) -> str:
    """An x coordinate measured from the inline start (the right edge when ``rtl``)."""
    return f"{WIDTH - x - width if rtl else x:.0f}"


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], *, rtl: bool) -> Markup:
    """Horizontal bars, each under its label, its value written at its end (the first
    ``MAX_BARS`` of them)."""
    summary = _summary(bars, min(len(bars), MAX_BARS))
    bars = list(bars)[:MAX_BARS]
    largest = max((bar.value for bar in bars if bar.value), default=0)
    room = WIDTH - 2 * PAD - NOTE_ROOM
    parts = []
    for index, bar in enumerate(bars):
        top = PAD + index * BAR_ROW
        length = round(room * bar.value / largest) if bar.value and largest else 0
        parts.append(
            Markup('<text x="{}" y="{}">{}</text>').format(
                _x(PAD, rtl), top + 14, _short(bar.label)
            )
        )
        if length:
            parts.append(
                Markup(
                    '<rect class="bar" fill="#1d4e89" x="{}" y="{}" width="{}" height="14"/>'
                ).format(_x(PAD, rtl, length), top + 19, length)
            )
        note_at = PAD + length + (5 if length else 0)
        parts.append(
            Markup('<text x="{}" y="{}" font-size="12">{}</text>').format(
                _x(note_at, rtl), top + 31, bar.note
            )
        )
    height = 2 * PAD + len(bars) * BAR_ROW
    return _svg(chart_id, title, summary, height, Markup("").join(parts), rtl)


def column_chart(chart_id: str, title: str, columns: Sequence[Bar], *, rtl: bool) -> Markup:
    """One column a month, oldest at the inline start; labels under, values above."""
    count = max(len(columns), 1)
    top, bottom = 18, 32
    plot = COLUMN_HEIGHT - top - bottom
    slot = (WIDTH - 2 * PAD) / count
    every = math.ceil(count / 12)  # never more than twelve labels
    largest = max((column.value for column in columns if column.value), default=0)
    baseline = top + plot
    parts = [
        Markup('<line class="axis" stroke="#8a9095" x1="{}" x2="{}" y1="{}" y2="{}"/>').format(
            PAD, WIDTH - PAD, baseline, baseline
        )
    ]
    for index, column in enumerate(columns):
        centre = PAD + slot * (index + 0.5)
        centre = WIDTH - centre if rtl else centre
        height = round(plot * column.value / largest) if column.value and largest else 0
        if height:
            parts.append(
                Markup(
                    '<rect class="bar" fill="#1d4e89" x="{:.0f}" y="{}" width="{:.0f}"'
                    ' height="{}"/>'
                ).format(centre - slot * 0.3, baseline - height, slot * 0.6, height)
            )
        if index % every == 0:
            if count <= 12:
                parts.append(
                    Markup(
                        '<text x="{:.0f}" y="{}" text-anchor="middle" font-size="10">{}</text>'
                    ).format(centre, baseline - height - 4, column.note)
                )
            parts.append(
                Markup(
                    '<text x="{:.0f}" y="{}" text-anchor="middle" font-size="10">{}</text>'
                ).format(centre, baseline + 13, column.label)
            )
            if column.sublabel:
                parts.append(
                    Markup(
                        '<text x="{:.0f}" y="{}" text-anchor="middle" font-size="10">{}</text>'
                    ).format(centre, baseline + 26, column.sublabel)
                )
    return _svg(
        chart_id, title, _summary(columns, len(columns)), COLUMN_HEIGHT, Markup("").join(parts), rtl
    )


# --- Numbers and names in the reader's language ----------------------------------------------


def _locale() -> str:
    return str(get_locale() or "en")


def show_count(cell: Cell) -> str:
    """A published number: the count, "fewer than 5", or "not shown"."""
    if cell.state is State.FEWER:
        return gettext("fewer than %(number)s", number=format_decimal(THRESHOLD))
    if cell.state is State.WITHHELD:
        return gettext("not shown")
    if cell.value is None:
        return gettext("no cases")
    return format_decimal(cell.value, format="#,##0.#")


def show_percent(cell: Cell) -> str:
    if cell.shown and cell.value is not None:
        return format_percent(cell.value, format="#,##0%")
    return show_count(cell)


def _column_note(cell: Cell) -> str:
    """A column's value in the few characters above it."""
    if cell.state is State.FEWER:
        return f"<{format_decimal(THRESHOLD)}"
    return "*" if cell.state is State.WITHHELD else show_count(cell)


def show_month(month: date) -> str:
    """A month and its year, in the reader's language (e.g. "September 2024")."""
    return format_skeleton("yMMMM", month, locale=_locale())


def _month_bar(month: date, cell: Cell, index: int) -> Bar:
    year = format_skeleton("y", month, locale=_locale()) if index == 0 or month.month == 1 else ""
    label = format_skeleton("MMM", month, locale=_locale())
    value = cell.value if cell.shown else None
    return Bar(label, value, _column_note(cell), year, show_month(month))


def country_name(code: str) -> str:
    return Locale.parse(_locale()).territories.get(code, code)


def language_name(code: str) -> Markup:
    """A language named in itself (marked with its code), or in the reader's language."""
    if code in LANGUAGE_NAMES:
        return Markup('<span lang="{}">{}</span>').format(code, LANGUAGE_NAMES[code])
    return Markup("{}").format(Locale.parse(_locale()).languages.get(code, code))


# --- Sections: a heading, a table and its chart ---------------------------------------------------


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
