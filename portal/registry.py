"""The registries as CSV: member companies and alternative procedures, read and written.

An admin exports a registry, edits it in a spreadsheet and imports it back; the starter
catalogue of procedures ships as the same CSV (``portal/data/alternative_procedures.csv``) and
is loaded by ``flask --app wsgi setup`` into an empty registry, every entry marked as not yet
verified. An import is all or nothing: every problem is reported with its line, and nothing
changes unless there is none. Rows are matched by ``key`` (procedures) or ``name``
(companies); a row not in the file is left as it is.

Exported cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) are written with a leading apostrophe, which the import
takes off again.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import Account, Anonymity, Company, Membership, Procedure, ProcedureKind

PROCEDURE_COLUMNS = (
    "key",
    "kind",
    "name",
    "countries",
    "languages",
    "accepts_anonymous",
    "identity_required",
    "time_limit",
    "indicative_timeline",
    "contact",
    "notes",
    "last_verified",
    "active",
)
COMPANY_COLUMNS = ("name", "membership", "countries", "grievance_contact", "response_days")
OPTIONAL = {"last_verified", "active"}  # the starter catalogue has neither
MAX_BYTES = 2_000_000
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_YES = {"yes": True, "no": False, "true": True, "false": False, "1": True, "0": False}


@dataclass(frozen=True)
class Problem:
    line: int  # 1 is the header
    text: str


class ImportRefused(ValueError):  # noqa: N818 - reads as what happened
    """The file has problems: nothing was changed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = list(problems)


@dataclass(frozen=True)
class Imported:
    added: int
    updated: int


def _safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _unsafe_cell(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA) else text


def _write(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_safe_cell(value) for value in row])
    return out.getvalue()


def export_procedures(db: Session) -> str:
    rows = db.scalars(select(Procedure).order_by(Procedure.kind, Procedure.name))
    return _write(
        PROCEDURE_COLUMNS,
        (
            [
                p.key,
                p.kind,
                p.name,
                p.countries,
                p.languages,
                p.accepts_anonymous,
                "yes" if p.identity_required else "no",
                p.time_limit,
                p.indicative_timeline,
                p.contact,
                p.notes,
                p.last_verified.isoformat() if p.last_verified else "",
                "yes" if p.active else "no",
            ]
            for p in rows
        ),
    )


def export_companies(db: Session) -> str:
    rows = db.scalars(select(Company).order_by(Company.name))
    return _write(
        COMPANY_COLUMNS,
        (
            [c.name, c.membership, c.countries, c.grievance_contact, c.response_days or ""]
            for c in rows
        ),
    )


def _records(
    text: str, columns: Sequence[str]
) -> tuple[list[tuple[int, dict[str, str]]], list[Problem]]:
    """The file's rows as column -> cell, with their line numbers; or the header's problems."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        return [], [Problem(1, str(_l("The file is too large.")))]
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [cell.strip() for cell in next(reader)]
    except (StopIteration, csv.Error):
        return [], [Problem(1, str(_l("The file is empty.")))]
    missing = [name for name in columns if name not in header and name not in OPTIONAL]
    if missing:
        problem = _l("These columns are missing: %(columns)s.", columns=", ".join(missing))
        return [], [Problem(1, str(problem))]
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            values = {
                name: _unsafe_cell(cells[index].strip()) if index < len(cells) else ""
                for index, name in enumerate(header)
            }
            rows.append((reader.line_num, values))
    except csv.Error:
        return [], [Problem(reader.line_num, str(_l("This line is not valid CSV.")))]
    return rows, []


def _codes(
    text: str, pattern: re.Pattern[str], *, upper: bool, star: bool
) -> tuple[str, list[str]]:
    """The codes of ``text`` (split at spaces and commas) normalised and without repeats,
    space-separated; and the ones that are not valid."""
    codes = [code.upper() if upper else code.lower() for code in text.replace(",", " ").split()]
    wrong = [code for code in codes if not (pattern.match(code) or (star and code == "*"))]
    return " ".join(dict.fromkeys(codes)), wrong


def country_codes(text: str, *, any_country: bool = False) -> tuple[str, list[str]]:
    """Two-letter country codes as the registries keep them (``*``, any country, only where
    ``any_country``), and the ones that are not valid: read exactly as the CSV import reads."""
    return _codes(text, _COUNTRY, upper=True, star=any_country)


def language_codes(text: str) -> tuple[str, list[str]]:
    """ISO 639 language codes as the registry keeps them, and the ones that are not valid."""
    return _codes(text, _LANGUAGE, upper=False, star=False)


def valid_procedure_key(key: str) -> bool:
    """Whether ``key`` may name a procedure (small letters, digits and hyphens)."""
    return bool(_KEY.match(key))


class _Checker:
    """Collects the problems of one line while reading its cells."""

    def __init__(self, line: int, values: dict[str, str], problems: list[Problem]) -> None:
        self.line, self.values, self.problems = line, values, problems

    def fail(self, text: Any) -> None:
        self.problems.append(Problem(self.line, str(text)))

    def text(self, name: str, limit: int, *, required: bool = False) -> str:
        value = self.values.get(name, "")
        if required and not value:
            self.fail(_l("The column %(column)s is empty.", column=name))
        if len(value) > limit:
            self.fail(
                _l("%(column)s is longer than %(limit)s characters.", column=name, limit=limit)
            )
        return value[:limit]

    def choice(self, name: str, allowed: Iterable[str], default: str | None = None) -> str:
        value = self.values.get(name, "").lower() or (default or "")
        options = list(allowed)
        if value not in options:
            self.fail(
                _l(
                    "%(column)s must be one of: %(options)s.",
                    column=name,
                    options=", ".join(options),
                )
            )
            return options[0]
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.values.get(name, "").lower()
        if not value:
            return default
        if value not in _YES:
            self.fail(_l("%(column)s must be yes or no.", column=name))
        return _YES.get(value, default)

    def codes(self, name: str, pattern: re.Pattern[str], *, upper: bool, star: bool) -> str:
        codes, wrong = _codes(self.values.get(name, ""), pattern, upper=upper, star=star)
        if wrong:
            self.fail(
                _l(
                    "%(column)s has codes that are not valid: %(codes)s.",
                    column=name,
                    codes=" ".join(wrong),
                )
            )
        return codes

    def day(self, name: str) -> date | None:
        value = self.values.get(name, "")
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(_l("%(column)s must be a date written as YYYY-MM-DD.", column=name))
            return None

    def whole_number(self, name: str) -> int | None:
        value = self.values.get(name, "")
        if not value:
            return None
        if not value.isdigit() or not 0 < int(value) <= 3650:
            self.fail(_l("%(column)s must be a number of days from 1 to 3650.", column=name))
            return None
        return int(value)


def _procedure_fields(check: _Checker) -> dict[str, Any]:
    key = check.text("key", 64, required=True).lower()
    if key and not _KEY.match(key):
        check.fail(_l("The key may hold only small letters, digits and hyphens."))
    return {
        "key": key,
        "kind": check.choice("kind", [kind.value for kind in ProcedureKind]),
        "name": check.text("name", 300, required=True),
        "countries": check.codes("countries", _COUNTRY, upper=True, star=True) or "*",
        "languages": check.codes("languages", _LANGUAGE, upper=False, star=False),
        "accepts_anonymous": check.choice(
            "accepts_anonymous", [value.value for value in Anonymity]
        ),
        "identity_required": check.flag("identity_required", True),
        "time_limit": check.text("time_limit", 2000),
        "indicative_timeline": check.text("indicative_timeline", 2000),
        "contact": check.text("contact", 500),
        "notes": check.text("notes", 4000),
        "last_verified": check.day("last_verified"),
        "active": check.flag("active", True),
    }


def _company_fields(check: _Checker) -> dict[str, Any]:
    return {
        "name": check.text("name", 200, required=True),
        "membership": check.choice(
            "membership", [value.value for value in Membership], Membership.MEMBER.value
        ),
        "countries": check.codes("countries", _COUNTRY, upper=True, star=False),
        "grievance_contact": check.text("grievance_contact", 4000),
        "response_days": check.whole_number("response_days"),
    }


def _import(
    db: Session,
    text: str,
    columns: Sequence[str],
    read: Callable[[_Checker], dict[str, Any]],
    model: type[Procedure] | type[Company],
    match: str,
) -> Imported:
    rows, problems = _records(text, columns)
    parsed: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, values in rows:
        fields = read(_Checker(line, values, problems))
        identity = str(fields[match]).casefold()
        if identity and identity in seen:
            problems.append(
                Problem(
                    line,
                    str(
                        _l(
                            "Line %(line)s has the same %(column)s.",
                            line=seen[identity],
                            column=match,
                        )
                    ),
                )
            )
        seen[identity] = line
        parsed.append(fields)
    if problems:
        raise ImportRefused(problems)
    existing = {str(getattr(row, match)).casefold(): row for row in db.scalars(select(model))}
    added = updated = 0
    for fields in parsed:
        row = existing.get(str(fields[match]).casefold())
        if row is None:
            db.add(model(**fields))
            added += 1
        else:
            for name, value in fields.items():
                setattr(row, name, value)
            updated += 1
    db.flush()
    return Imported(added=added, updated=updated)


def import_procedures(db: Session, text: str) -> Imported:
    """Add or update procedures from CSV text (matched by key); all or nothing."""
    return _import(db, text, PROCEDURE_COLUMNS, _procedure_fields, Procedure, "key")


def import_companies(db: Session, text: str) -> Imported:
    """Add or update companies from CSV text (matched by name); all or nothing."""
    return _import(db, text, COMPANY_COLUMNS, _company_fields, Company, "name")


def starter_catalogue() -> str:
    """The shipped catalogue of alternative procedures, as CSV text."""
    return (resources.files("portal") / "data" / "alternative_procedures.csv").read_text("utf-8")


def load_starter_catalogue(db: Session) -> int:
    """Fill an empty procedures registry with the starter catalogue; how many were added."""
    if db.scalar(select(Procedure.id).limit(1)) is not None:
        return 0
    return import_procedures(db, starter_catalogue()).added


def company_named(db: Session, name: str) -> Company:
    """The company of this name (case-insensitive), added to the registry as a member if new."""
    wanted = " ".join(name.split())
    for company in db.scalars(select(Company)):
        if company.name.casefold() == wanted.casefold():
            return company
    company = Company(name=wanted, membership=Membership.MEMBER.value)
    db.add(company)
    db.flush()
    return company


def company_with_name(db: Session, name: str) -> Company | None:
    """The company whose name is ``name`` once case and spacing are set aside, if any."""
    wanted = " ".join(name.split()).casefold()
    for company in db.scalars(select(Company)):
        if " ".join(company.name.split()).casefold() == wanted:
            return company
    return None


def procedure_with_key(db: Session, key: str) -> Procedure | None:
    """The procedure whose key is ``key`` (keys are compared without case), if any."""
    wanted = key.strip().casefold()
    for procedure in db.scalars(select(Procedure)):
        if procedure.key.casefold() == wanted:
            return procedure
    return None


def save_company(db: Session, fields: dict[str, Any], company: Company | None = None) -> Company:
    """Write checked ``fields`` to ``company``, or to a new company when there is none."""
    if company is None:
        company = Company()
        db.add(company)
    for name, value in fields.items():
        setattr(company, name, value)
    db.flush()
    return company


def save_procedure(
    db: Session, fields: dict[str, Any], procedure: Procedure | None = None
) -> Procedure:
    """Write checked ``fields`` to ``procedure``, or to a new procedure when there is none."""
    if procedure is None:
        procedure = Procedure()
        db.add(procedure)
    for name, value in fields.items():
        setattr(procedure, name, value)
    db.flush()
    return procedure


def mark_verified(db: Session, procedure: Procedure, day: date) -> None:
    """Record that an admin checked ``procedure``'s details against its source on ``day``."""
    procedure.last_verified = day
    db.flush()


def officer_counts(db: Session) -> dict[uuid.UUID, int]:
    """How many active grievance-officer accounts each company has (companies with none absent)."""
    rows = db.execute(
        select(Account.company_id, func.count())
        .where(Account.company_id.is_not(None), Account.is_active.is_(True))
        .group_by(Account.company_id)
    )
    return {company_id: number for company_id, number in rows if company_id is not None}


__all__ = [
    "COMPANY_COLUMNS",
    "PROCEDURE_COLUMNS",
    "ImportRefused",
    "Imported",
    "Problem",
    "company_named",
    "company_with_name",
    "country_codes",
    "export_companies",
    "export_procedures",
    "import_companies",
    "import_procedures",
    "language_codes",
    "load_starter_catalogue",
    "mark_verified",
    "officer_counts",
    "procedure_with_key",
    "save_company",
    "save_procedure",
    "starter_catalogue",
    "valid_procedure_key",
]
