"""The caseworker's case list: filters, sorting, counts per stage and pages, as queries.

Nothing here reads the request: the view hands over the query string as a mapping and gets back
a :class:`Listing`. Every query starts from :func:`portal.access.visible_cases`, so a case is
listed only through a grant the account holds.

Built so that no query touches every case: the cost that grows with the caseload is the grant
check, an EXISTS probe per case considered, so every query stops early. A page is read in the
order of an index (due date or received date) and stops after fifty-one rows; each filter is a
condition on a column of ``cases`` (or a primary-key probe of ``case_topics``). The counts per
stage are not counted at all: they are read from ``stage_tallies`` (see ``portal.tallies``),
which holds, for each account, how many of its cases are in each stage. They are the counts of
all the account's cases; with other filters set, how many cases match is known exactly only
when they fit in the pages read, unless the caseworker asks for every matching case to be
counted (``count=all``: one ``GROUP BY``, slower with many cases). Cases without a due date come
after all that have one when sorting by due date, read as a second range rather than by sorting
every case.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session

from . import tallies
from .access import visible_cases
from .models import Account, Case, CaseTopic, Channel
from .stages import Stage
from .topics import TOPICS

PAGE_SIZE = 50
# Pages are read with OFFSET, whose cost grows with the page number: past this page, sort or
# filter instead.
MAX_PAGE = 200
E = TypeVar("E", bound=StrEnum)


class Due(StrEnum):
    OVERDUE = "overdue"  # the next step was due before today, and the case is not closed
    THIS_WEEK = "week"  # due from today to Sunday of this (ISO) week


class Assigned(StrEnum):
    ME = "me"
    NOBODY = "nobody"


class Sort(StrEnum):
    DUE = "due"  # soonest due first; cases without a due date last, newest first among them
    OLDEST = "oldest"  # received longest ago first
    NEWEST = "newest"


@dataclass(frozen=True)
class CaseFilters:
    """What the caseworker asked to see: every field optional, unknown values ignored."""

    stage: Stage | None = None
    due: Due | None = None
    urgent: bool = False
    assigned: Assigned | None = None
    language: str | None = None
    country: str | None = None
    company_id: uuid.UUID | None = None
    topic: str | None = None
    channel: Channel | None = None
    sort: Sort = Sort.DUE
    page: int = 1
    count_all: bool = False  # exact counts however many cases (slower with many)

    @classmethod
    def parse(cls, args: Mapping[str, str], languages: Iterable[str]) -> CaseFilters:
        """Read the filters from a query string; a value that is not a known one is ignored."""

        def pick(name: str) -> str:
            return str(args.get(name, "") or "").strip()

        country = pick("country").upper()
        language = pick("language")
        topic = pick("topic")
        try:
            page = max(1, min(int(pick("page") or 1), MAX_PAGE))
        except ValueError:
            page = 1
        return cls(
            stage=_member(Stage, pick("stage")),
            due=_member(Due, pick("due")),
            urgent=pick("urgent") in ("1", "on", "yes", "true"),
            assigned=_member(Assigned, pick("assigned")),
            language=language if language in set(languages) else None,
            country=country if len(country) == 2 and country.isalpha() else None,
            company_id=_uuid(pick("company")),
            topic=topic if topic in TOPICS else None,
            channel=_member(Channel, pick("channel")),
            sort=_member(Sort, pick("sort")) or Sort.DUE,
            page=page,
            count_all=pick("count") == "all",
        )

    def query_args(self, **changes: Any) -> dict[str, str]:
        """These filters as query-string arguments (defaults left out), with ``changes`` made."""
        chosen = replace(self, **changes) if changes else self
        values: dict[str, object] = {
            "stage": chosen.stage,
            "due": chosen.due,
            "urgent": "1" if chosen.urgent else None,
            "assigned": chosen.assigned,
            "language": chosen.language,
            "country": chosen.country,
            "company": chosen.company_id,
            "topic": chosen.topic,
            "channel": chosen.channel,
            "sort": chosen.sort if chosen.sort is not Sort.DUE else None,
            "page": chosen.page if chosen.page > 1 else None,
            "count": "all" if chosen.count_all else None,
        }
        return {name: str(value) for name, value in values.items() if value is not None}

    @property
    def narrowed(self) -> bool:
        """Whether any filter (stage included) is set."""
        return self != CaseFilters(sort=self.sort, page=self.page, count_all=self.count_all)


@dataclass(frozen=True)
class StageCount:
    """Visible cases in a stage."""

    stage: Stage
    count: int


@dataclass(frozen=True)
class Listing:
    """One page of the case list and what the page around it needs."""

    cases: list[Case]
    filters: CaseFilters
    counts: list[StageCount]  # every stage, in workflow order
    counts_filtered: bool  # the counts follow the non-stage filters (else: every case)
    other_filters: bool  # some filter other than the stage is set
    total: int  # cases matching every filter, the stage included (at least, unless exact)
    exact: bool  # False when only some matching cases were read: ``total`` is a lower bound
    page: int
    pages: int | None  # None when the total is not known exactly
    has_next: bool
    today: date
    assignees: dict[uuid.UUID, Account] = field(default_factory=dict)

    @property
    def all_stages(self) -> int:
        """The cases counted, whatever their stage."""
        return sum(item.count for item in self.counts)


def _member(enum: type[E], value: str) -> E | None:
    try:
        return enum(value) if value else None
    except ValueError:
        return None


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def week_end(on: date) -> date:
    """The Sunday that ends ``on``'s ISO week."""
    return on + timedelta(days=6 - on.weekday())


def conditions(
    filters: CaseFilters, account: Account, on: date, *, stage: bool = True
) -> list[ColumnElement[bool]]:
    """The WHERE conditions for ``filters`` (the stage one only if ``stage``)."""
    where: list[ColumnElement[bool]] = []
    if stage and filters.stage is not None:
        where.append(Case.stage == filters.stage.value)
    if filters.due is Due.OVERDUE:
        where += [Case.next_due_on < on, Case.stage != Stage.CLOSED.value]
    elif filters.due is Due.THIS_WEEK:
        where += [
            Case.next_due_on >= on,
            Case.next_due_on <= week_end(on),
            Case.stage != Stage.CLOSED.value,
        ]
    if filters.urgent:
        where.append(Case.urgent.is_(True))
    if filters.assigned is Assigned.ME:
        where.append(Case.assigned_to_id == account.id)
    elif filters.assigned is Assigned.NOBODY:
        where.append(Case.assigned_to_id.is_(None))
    if filters.language is not None:
        where.append(Case.language == filters.language)
    if filters.country is not None:
        where.append(Case.country == filters.country)
    if filters.company_id is not None:
        where.append(Case.company_id == filters.company_id)
    if filters.channel is not None:
        where.append(Case.channel == filters.channel.value)
    if filters.topic is not None:
        where.append(exists().where(CaseTopic.case_id == Case.id, CaseTopic.topic == filters.topic))
    return where


def stage_counts(db: Session, account: Account, filters: CaseFilters, on: date) -> dict[Stage, int]:
    """Visible cases per stage under the non-stage filters, counted one by one.

    One ``GROUP BY`` over every matching case: its time grows with the caseload, so the list
    does this only when asked (``count=all``); otherwise it reads the kept tallies.
    """
    grouped = (
        visible_cases(account)
        .with_only_columns(Case.stage, func.count())
        .where(*conditions(filters, account, on, stage=False))
        .group_by(Case.stage)
        .order_by(None)
    )
    found = {str(stage): int(number) for stage, number in db.execute(grouped)}
    return {stage: found.get(stage.value, 0) for stage in Stage}


def kept_counts(db: Session, account: Account) -> dict[Stage, int]:
    """Every visible case per stage, as kept in ``stage_tallies``: one primary-key range read."""
    kept = tallies.for_account(db, account.id)
    return {stage: kept.get(stage.value, 0) for stage in Stage}


def _page_query(
    account: Account, where: Sequence[ColumnElement[bool]], order: Sequence[Any]
) -> Select[Any]:
    return visible_cases(account).where(*where).order_by(None).order_by(*order)


def page_of_cases(
    db: Session, account: Account, filters: CaseFilters, on: date, offset: int
) -> tuple[list[Case], bool]:
    """The ``PAGE_SIZE`` cases from ``offset`` in the chosen order, and whether more follow.

    In due-date order the cases with a due date come first, read along the due-date index, then
    those without one, newest first: two range reads instead of one sort of every case.
    """
    where = conditions(filters, account, on)
    wanted = PAGE_SIZE + 1  # one more than a page says whether there is a next one
    rows: list[Case]
    if filters.sort is not Sort.DUE:
        received = Case.received_on if filters.sort is Sort.OLDEST else Case.received_on.desc()
        query = _page_query(account, where, [received, Case.reference])
        rows = list(db.scalars(query.offset(offset).limit(wanted)))
    else:
        dated = _page_query(
            account,
            [*where, Case.next_due_on.is_not(None)],
            [Case.next_due_on, Case.reference],
        )
        rows = list(db.scalars(dated.offset(offset).limit(wanted)))
        if len(rows) < wanted:
            undated_offset = 0
            if not rows and offset:
                # Past the last dated case: how many dated cases the earlier pages held.
                before = dated.with_only_columns(Case.id).limit(offset).subquery()
                undated_offset = offset - (db.scalar(select(func.count()).select_from(before)) or 0)
            undated = _page_query(
                account,
                [*where, Case.next_due_on.is_(None)],
                [Case.received_on.desc(), Case.reference],
            )
            rows += list(db.scalars(undated.offset(undated_offset).limit(wanted - len(rows))))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def list_cases(db: Session, account: Account, filters: CaseFilters, on: date) -> Listing:
    """One page of the account's visible cases under ``filters``, with counts per stage."""
    narrowed = bool(conditions(filters, account, on, stage=False))
    filtered = narrowed and filters.count_all  # counts that follow the non-stage filters
    counted = stage_counts(db, account, filters, on) if filtered else kept_counts(db, account)
    counts = [StageCount(stage, number) for stage, number in counted.items()]
    exact = filtered or not narrowed
    total = sum(c.count for c in counts if filters.stage is None or c.stage is filters.stage)
    pages = max(1, -(-total // PAGE_SIZE)) if exact else None
    page = min(filters.page, pages) if pages is not None else filters.page
    offset = (page - 1) * PAGE_SIZE
    cases, more = page_of_cases(db, account, filters, on, offset)
    if not exact:
        # Unknown beyond what was read: exact once the last page is in hand, else "more than".
        total = offset + len(cases)
        exact = not more and (bool(cases) or page == 1)
    assigned_ids = {case.assigned_to_id for case in cases if case.assigned_to_id}
    assignees = (
        {a.id: a for a in db.scalars(select(Account).where(Account.id.in_(assigned_ids)))}
        if assigned_ids
        else {}
    )
    return Listing(
        cases=cases,
        filters=replace(filters, page=page),
        counts=counts,
        counts_filtered=filtered,
        other_filters=narrowed,
        total=total,
        exact=exact,
        page=page,
        pages=pages,
        has_next=more,
        today=on,
        assignees=assignees,
    )


def is_overdue(case: Case, on: date) -> bool:
    """Whether the case's next step is late (the same rule as the overdue filter)."""
    return (
        case.next_due_on is not None and case.next_due_on < on and case.stage != Stage.CLOSED.value
    )


__all__ = [
    "PAGE_SIZE",
    "Assigned",
    "CaseFilters",
    "Due",
    "Listing",
    "Sort",
    "StageCount",
    "conditions",
    "is_overdue",
    "kept_counts",
    "list_cases",
    "stage_counts",
    "week_end",
]
