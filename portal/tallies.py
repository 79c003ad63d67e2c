"""Counts of visible cases per account and stage, kept exact on every flush.

The case list shows how many cases an account holds in each stage. Counting them through the
grant check at every page view costs time in proportion to the caseload, so the counts are
kept in ``stage_tallies`` instead: a ``before_flush`` hook notes which cases a flush touches
(a grant added or deleted, a case compartment retired, a case's stage changed, a case added or
deleted) and what those cases contributed to the tallies before; an ``after_flush`` hook reads
what they contribute now and adds the difference. The same statement reads both states, so
any mix of changes in one flush counts once. A bulk ``update``/``delete`` run through a
session on grants, compartments or the stage of cases (which no flush sees) is followed by a
full :func:`recount`: correct, and slower, so the portal's own code changes these rows one by
one.

:func:`truth` counts from scratch; the functional tests compare it with the tallies after
every test, and the migration that created the table filled it with it.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, Result, delete, event, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from .models import Case, Compartment, CompartmentKind, Grant, StageTally

Tally = Counter[tuple[uuid.UUID, str]]  # (account, stage) -> cases
_PENDING = "portal_tallies_before"
_CHUNK = 500  # ids per IN (...) list


def _chunks(ids: Collection[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _live_case_grants() -> object:
    return (
        select(Grant.account_id, Case.stage, func.count())
        .join(Compartment, Compartment.id == Grant.compartment_id)
        .join(Case, Case.id == Compartment.case_id)
        .where(
            Compartment.kind == CompartmentKind.CASE.value,
            Compartment.retired_at.is_(None),
            Grant.account_id.is_not(None),
        )
        .group_by(Grant.account_id, Case.stage)
    )


def _contribution(connection: Connection, case_ids: Collection[uuid.UUID]) -> Tally:
    """What these cases add to every account's tallies, as the database holds them now."""
    found: Tally = Counter()
    for chunk in _chunks(case_ids):
        query = _live_case_grants().where(Case.id.in_(chunk))  # type: ignore[attr-defined]
        for account_id, stage, number in connection.execute(query):
            found[(account_id, stage)] += int(number)
    return found


def truth(db: Session | Connection, account_ids: Iterable[uuid.UUID] | None = None) -> Tally:
    """Every (account, stage) count made from scratch (only non-zero ones)."""
    query = _live_case_grants()
    if account_ids is not None:
        query = query.where(Grant.account_id.in_(list(account_ids)))  # type: ignore[attr-defined]
    return Counter(
        {(account_id, stage): int(number) for account_id, stage, number in db.execute(query)}  # type: ignore[call-overload]
    )


def stored(db: Session | Connection, account_ids: Iterable[uuid.UUID] | None = None) -> Tally:
    """The tallies as kept (only non-zero ones)."""
    query = select(StageTally.account_id, StageTally.stage, StageTally.cases).where(
        StageTally.cases != 0
    )
    if account_ids is not None:
        query = query.where(StageTally.account_id.in_(list(account_ids)))
    return Counter({(account_id, stage): int(n) for account_id, stage, n in db.execute(query)})


def for_account(db: Session, account_id: uuid.UUID) -> dict[str, int]:
    """Stage -> cases the account can see there (stages without any left out)."""
    rows = db.execute(
        select(StageTally.stage, StageTally.cases).where(StageTally.account_id == account_id)
    )
    return {stage: int(number) for stage, number in rows}


def _add(connection: Connection, changes: Tally) -> None:
    """Add each change to its tally, creating missing rows; in key order (no lock cycles)."""
    table = StageTally.__table__
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    for (account_id, stage), number in sorted(changes.items()):
        if number == 0:
            continue
        statement = insert(table).values(account_id=account_id, stage=stage, cases=number)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.account_id, table.c.stage],
            set_={"cases": table.c.cases + statement.excluded.cases},
        )
        connection.execute(statement)


def recount(db: Session, account_ids: Iterable[uuid.UUID] | None = None) -> None:
    """Rebuild the tallies (of some accounts, or all) from scratch; after bulk deletes."""
    chosen = None if account_ids is None else list(account_ids)
    db.flush()
    table = StageTally.__table__
    clear = delete(table)
    if chosen is not None:
        clear = clear.where(table.c.account_id.in_(chosen))
    connection = db.connection()
    connection.execute(clear)
    _add(connection, truth(connection, chosen))


def _touched_cases(session: Session) -> set[uuid.UUID]:
    """Cases whose contribution to the tallies this flush may change."""
    cases: set[uuid.UUID] = set()
    compartment_ids: set[uuid.UUID] = set()
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, Grant) and obj.account_id is not None:
            compartment_ids.add(obj.compartment_id)
        elif isinstance(obj, Case) and obj.id is not None:  # no id yet: nothing granted
            cases.add(obj.id)
        elif isinstance(obj, Compartment) and obj.kind == CompartmentKind.CASE.value:
            cases.add(obj.case_id)
    for obj in session.dirty:
        if isinstance(obj, Case) and inspect(obj).attrs.stage.history.has_changes():
            cases.add(obj.id)
        elif (
            isinstance(obj, Compartment)
            and obj.kind == CompartmentKind.CASE.value
            and inspect(obj).attrs.retired_at.history.has_changes()
        ):
            cases.add(obj.case_id)
        elif isinstance(obj, Grant) and inspect(obj).attrs.account_id.history.has_changes():
            compartment_ids.add(obj.compartment_id)
    pending = {
        obj.id: obj.case_id
        for obj in session.new
        if isinstance(obj, Compartment) and obj.kind == CompartmentKind.CASE.value
    }
    stored_ids = compartment_ids - pending.keys()
    cases.update(pending[id_] for id_ in compartment_ids & pending.keys())
    if stored_ids:
        connection = session.connection()
        for chunk in _chunks(stored_ids):
            query = select(Compartment.case_id).where(
                Compartment.id.in_(chunk), Compartment.kind == CompartmentKind.CASE.value
            )
            cases.update(connection.scalars(query))
    return cases


def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    session.info.pop(_PENDING, None)
    cases = _touched_cases(session)
    if cases:
        session.info[_PENDING] = (cases, _contribution(session.connection(), cases))


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    cases, before = pending
    connection = session.connection()
    after = _contribution(connection, cases)
    changes: Tally = Counter()
    for key in before.keys() | after.keys():
        changes[key] = after.get(key, 0) - before.get(key, 0)
    _add(connection, changes)


def _bulk_changes_tallies(state: ORMExecuteState) -> bool:
    if not (state.is_update or state.is_delete):
        return False
    mappers = {mapper.class_ for mapper in state.all_mappers}
    if mappers & {Grant, Compartment} or (Case in mappers and state.is_delete):
        return True
    return Case in mappers and "stage" in state.statement.compile().params


def _after_bulk_statement(state: ORMExecuteState) -> Result[Any] | None:
    """Run a bulk statement that may change what the tallies count, then recount them all."""
    if not _bulk_changes_tallies(state):
        return None
    result = state.invoke_statement()
    recount(state.session)
    return result


def install_tally_hooks() -> None:
    """Listen on every Session (idempotent), as the audit chain does."""
    if not event.contains(Session, "do_orm_execute", _after_bulk_statement):
        event.listen(Session, "do_orm_execute", _after_bulk_statement)
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


install_tally_hooks()


__all__ = ["Tally", "for_account", "install_tally_hooks", "recount", "stored", "truth"]
