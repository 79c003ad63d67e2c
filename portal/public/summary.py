"""Answers shown back in words: the "check your answers" page and the caseworker's case page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, SelectMultipleField

from .steps import STEPS

_WHEN_PARTS = ("when_day", "when_month", "when_year", "when_text")


@dataclass(frozen=True)
class Row:
    name: str
    label: str
    value: str | list[str]


@dataclass(frozen=True)
class Section:
    step: str
    title: str
    rows: list[Row]


def _when(answers: dict[str, Any]) -> str:
    day, month, year = (answers.get(part) for part in ("when_day", "when_month", "when_year"))
    parts = []
    try:
        if year and month and day:
            parts.append(format_date(date(int(year), int(month), int(day)), format="long"))
        elif year and month:
            parts.append(format_date(date(int(year), int(month), 1), format="LLLL y"))
        elif year:
            parts.append(str(year))
    except ValueError:
        parts.append(" ".join(str(part) for part in (day, month, year) if part))
    if answers.get("when_text"):
        parts.append(str(answers["when_text"]))
    return " · ".join(parts)


def _display(field: Any, value: Any) -> str | list[str]:
    if value in (None, "", []):
        return ""
    if isinstance(field, SelectMultipleField | RadioField | SelectField):
        labels = {str(key): str(label) for key, label in field.choices}
        if isinstance(value, list):
            return [labels.get(str(item), str(item)) for item in value]
        return labels.get(str(value), str(value))
    return str(value)


def summarise(answers: dict[str, Any], skip: tuple[str, ...] = ()) -> list[Section]:
    """Every step's questions with the answers given, in the reader's language."""
    sections = []
    for step in STEPS:
        if step.form is None or step.name in skip:
            continue
        form = step.form(formdata=None, meta={"csrf": False})
        rows = []
        for field in form:
            if field.name in _WHEN_PARTS[1:]:
                continue
            if field.name == "when_day":
                rows.append(Row("when", str(_l("When did it happen?")), _when(answers)))
                continue
            rows.append(
                Row(field.name, str(field.label.text), _display(field, answers.get(field.name)))
            )
        sections.append(Section(step.name, str(step.title), rows))
    return sections
