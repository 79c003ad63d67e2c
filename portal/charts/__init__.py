"""The published figures as the reader sees them: accessible SVG charts drawn on the server,
and the tables beside them (their text alternative), in the reader's language.

Every chart is an ``<svg role="img">`` named by its ``<title>`` and described by a ``<desc>``
that says the largest values in words. It has no script and no ``style`` attribute (the CSP
forbids inline style): colours come from classes in ``portal.css``, with presentation attributes
as the fallback. Every text taken from the data is escaped. On right-to-left pages bars grow
from the right and months run from right to left.
"""

from __future__ import annotations

from .labels import (
    ANSWER_LABELS,
    CHANNEL_LABELS,
    PROCEDURE_KIND_LABELS,
    country_name,
    language_name,
    show_count,
    show_month,
    show_percent,
)
from .svg import (
    BAR_ROW,
    COLUMN_HEIGHT,
    LABEL_CHARS,
    MAX_BARS,
    NOTE_ROOM,
    PAD,
    WIDTH,
    Bar,
    bar_chart,
    column_chart,
)
from .tables import Labelled, Section, TableRow, sections

__all__ = [
    "ANSWER_LABELS",
    "BAR_ROW",
    "CHANNEL_LABELS",
    "COLUMN_HEIGHT",
    "LABEL_CHARS",
    "MAX_BARS",
    "NOTE_ROOM",
    "PAD",
    "PROCEDURE_KIND_LABELS",
    "WIDTH",
    "Bar",
    "Labelled",
    "Section",
    "TableRow",
    "bar_chart",
    "column_chart",
    "country_name",
    "language_name",
    "sections",
    "show_count",
    "show_month",
    "show_percent",
]
