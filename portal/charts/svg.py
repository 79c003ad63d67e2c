"""The charts themselves: SVG bars and columns, each named by its title and described in words."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import format_decimal, gettext
from markupsafe import Markup

WIDTH = 360  # every chart's viewBox width; CSS scales it to the page
PAD = 4
BAR_ROW = 40
NOTE_ROOM = 100  # beside the longest bar, for its number or "fewer than 5"
MAX_BARS = 12  # the table beside the chart lists every row
LABEL_CHARS = 48
COLUMN_HEIGHT = 200


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
