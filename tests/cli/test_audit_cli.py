"""``flask --app wsgi audit verify``: an intact chain passes; every kind of tampering is named."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import delete, insert, select, update

from portal.audit import HEAD_ID, event_hash
from portal.models import AuditEvent, AuditHead
from tests.conftest import Portal

EVENTS = AuditEvent.__table__
HEAD = AuditHead.__table__


def verify(app: Flask) -> Result:
    """Run ``flask audit verify`` on ``app``; the command pushes its own app context."""
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def chained(portal: Portal, count: int = 6) -> list[int]:
    """Start from an empty log, write ``count`` events through the ORM, return their ids."""
    with portal.db as db:
        db.execute(delete(EVENTS))
        db.execute(delete(HEAD))
        db.commit()
        for index in range(count):
            db.add(AuditEvent(action="case.opened", detail=f"event {index}"))
        db.commit()
        return list(db.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def tamper(portal: Portal, statement: Any) -> None:
    """Change the log behind the app's back, as someone with the database would."""
    with portal.db as db:
        db.execute(statement)
        db.commit()


def row(portal: Portal, event_id: int) -> Any:
    with portal.db as db:
        return db.execute(select(EVENTS).where(EVENTS.c.id == event_id)).one()


def assert_broken(result: Result, event_id: int, why: str) -> None:
    assert result.exit_code == 1, result.output
    assert f"audit chain broken at event {event_id}:" in result.output, result.output
    assert why in result.output, result.output
    assert "intact" not in result.output


def test_an_intact_chain_passes(portal):
    chained(portal, 6)
    result = verify(portal.app)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "audit chain intact: 6 events"


def test_an_empty_log_passes(portal):
    chained(portal, 0)
    result = verify(portal.app)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "audit chain intact: 0 events"


def test_a_changed_action_is_named(portal):
    ids = chained(portal)
    tamper(portal, update(EVENTS).where(EVENTS.c.id == ids[2]).values(action="case.viewed"))
    assert_broken(verify(portal.app), ids[2], "do not match its hash")


CHANGES: dict[str, Callable[[Portal, Any], Any]] = {
    "detail": lambda portal, original: "event X",
    "detail-emptied": lambda portal, original: None,
    "case_id": lambda portal, original: uuid.UUID(int=1),
    # A real account, so that the foreign key holds (making it appends an event: that is fine).
    "actor_account_id": lambda portal, original: portal.account("someone@example.org").id,
    "occurred_at": lambda portal, original: original.occurred_at.replace(year=2001),
    "prev_hash": lambda portal, original: bytes(32),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_every_chained_field_is_covered(portal, change):
    ids = chained(portal)
    column = change.removesuffix("-emptied")
    value = CHANGES[change](portal, row(portal, ids[3]))
    tamper(portal, update(EVENTS).where(EVENTS.c.id == ids[3]).values({column: value}))
    why = "does not link" if column == "prev_hash" else "do not match its hash"
    assert_broken(verify(portal.app), ids[3], why)


def test_an_event_deleted_in_the_middle_is_named(portal):
    ids = chained(portal)
    tamper(portal, delete(EVENTS).where(EVENTS.c.id == ids[2]))
    # The event after the gap no longer links to the one before it.
    assert_broken(verify(portal.app), ids[3], "does not link to the event before it")


def test_the_first_event_deleted_is_named(portal):
    ids = chained(portal)
    tamper(portal, delete(EVENTS).where(EVENTS.c.id == ids[0]))
    assert_broken(verify(portal.app), ids[1], "does not link to the event before it")


def test_two_events_with_their_hashes_swapped_are_named(portal):
    ids = chained(portal)
    second, third = row(portal, ids[1]), row(portal, ids[2])
    tamper(portal, update(EVENTS).where(EVENTS.c.id == ids[1]).values(hash=third.hash))
    tamper(portal, update(EVENTS).where(EVENTS.c.id == ids[2]).values(hash=second.hash))
    assert_broken(verify(portal.app), ids[1], "do not match its hash")


def test_two_events_swapped_whole_are_named(portal):
    """Moving events (all their columns but the id) breaks the links at the first one moved."""
    ids = chained(portal)
    columns = [c.name for c in EVENTS.columns if c.name != "id"]
    second, third = row(portal, ids[1]), row(portal, ids[2])
    tamper(
        portal,
        update(EVENTS).where(EVENTS.c.id == ids[1]).values({c: getattr(third, c) for c in columns}),
    )
    tamper(
        portal,
        update(EVENTS)
        .where(EVENTS.c.id == ids[2])
        .values({c: getattr(second, c) for c in columns}),
    )
    assert_broken(verify(portal.app), ids[1], "does not link to the event before it")


def test_a_truncated_end_is_named(portal):
    ids = chained(portal)
    tamper(portal, delete(EVENTS).where(EVENTS.c.id == ids[-1]))
    # The head still records six events: the log now ends one early.
    assert_broken(verify(portal.app), ids[-2], "the chain head records more events")


def test_a_head_moved_to_another_hash_is_named(portal):
    ids = chained(portal)
    tamper(portal, update(HEAD).where(HEAD.c.id == HEAD_ID).values(hash=bytes(32)))
    assert_broken(verify(portal.app), ids[-1], "the chain head does not match")


def test_a_deleted_head_is_named(portal):
    ids = chained(portal)
    tamper(portal, delete(HEAD))
    assert_broken(verify(portal.app), ids[-1], "the chain head is missing")


def test_an_event_inserted_around_the_chain_is_named(portal):
    ids = chained(portal)
    tamper(
        portal,
        insert(EVENTS).values(action="case.opened", occurred_at=row(portal, ids[0]).occurred_at),
    )
    with portal.db as db:
        sneaked = db.scalar(select(EVENTS.c.id).order_by(EVENTS.c.id.desc()).limit(1))
    assert_broken(verify(portal.app), sneaked, "no hash")


def test_a_rewritten_event_needs_the_server_key(portal):
    """Recomputing an edited event's hash under any key but the server's is still caught."""
    ids = chained(portal, 1)
    original = row(portal, ids[0])
    forged = event_hash(
        bytes(32),
        prev_hash=original.prev_hash,
        sequence=1,
        occurred_at=original.occurred_at,
        actor_account_id=None,
        action="case.viewed",
        case_id=None,
        detail=original.detail,
    )
    tamper(
        portal,
        update(EVENTS).where(EVENTS.c.id == ids[0]).values(action="case.viewed", hash=forged),
    )
    tamper(portal, update(HEAD).where(HEAD.c.id == HEAD_ID).values(hash=forged))
    assert_broken(verify(portal.app), ids[0], "do not match its hash")
