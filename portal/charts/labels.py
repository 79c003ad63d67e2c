"""Numbers and names in the reader's language: counts, months, countries, languages."""

from __future__ import annotations

from datetime import date

from babel import Locale
from babel.dates import format_skeleton
from flask_babel import format_decimal, format_percent, get_locale, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from ..i18n import LANGUAGE_NAMES
from ..models import Channel, ProcedureKind
from ..statistics import THRESHOLD, Cell, State
from .svg import Bar

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
