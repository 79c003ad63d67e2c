"""The hash-chained audit log: every event is linked to the one before it under a server key.

Code everywhere writes ``db.add(AuditEvent(...))`` and nothing more. A ``before_flush``
listener on every SQLAlchemy :class:`~sqlalchemy.orm.Session` (the request sessions of
:class:`portal.db.Database` and the ``Session(engine)`` of CLI code alike) chains the new events
of each flush, in the order they were added:

1. ``UPDATE audit_head SET count = count + n WHERE id = 1``: the single head row is locked for
   the rest of the transaction (SQLite's write lock, PostgreSQL's row lock), so two writers can
   never chain onto the same head; the row is created lazily at the genesis hash (32 zero bytes).
2. Each event gets ``prev_hash`` (the head's hash, then its predecessor's) and ``hash``: keyed
   BLAKE2b under the server MAC key (kept in the data dir, outside the database) over a
   length-prefixed encoding of the previous hash, the time, the actor, the action, the case,
   the detail and the event's sequence number.
3. The head takes the last event's hash. Everything commits, or rolls back, together.

Because the head is locked before an event is inserted, events are inserted (and get their ids)
in chain order, so :func:`verify_chain` walks them by id. Editing, deleting or reordering an
event, or dropping the last ones, is found and named; an event cannot be forged without the key.
The log is append-only: a flush that would change or delete an event is refused.
"""

from __future__ import annotations

import uuid
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Connection, Engine, Row, Table, event, insert, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.sql.dml import Insert

from crypto.encoding import encode_fields
from crypto.hashing import LABEL_AUDIT_CHAIN, constant_time_equal, keyed_hash

from .models import AuditEvent, AuditHead, utcnow

GENESIS = bytes(32)
"""The hash the first event links to."""
HEAD_ID = 1
CHAIN_VERSION = 1
KEY_BYTES = 32

_HEAD = cast(Table, AuditHead.__table__)
_EVENTS = cast(Table, AuditEvent.__table__)

# The key each portal engine chains its events under (set by ``Database.set_audit_key``).
_KEYS: weakref.WeakKeyDictionary[Engine, bytes] = weakref.WeakKeyDictionary()


class UnchainedWriteError(RuntimeError):
    """An audit event would be written, changed or deleted outside the chain."""


def register_engine(engine: Engine, key: bytes) -> None:
    """Chain every audit event written through ``engine`` under ``key`` (the server MAC key)."""
    if len(key) != KEY_BYTES:
        raise ValueError("the audit chain key must be 32 bytes")
    _KEYS[engine] = key


def engine_key(bind: Engine | Connection) -> bytes | None:
    """The chain key of the engine behind ``bind``, or None when it is no portal engine."""
    engine = bind.engine if isinstance(bind, Connection) else bind
    return _KEYS.get(engine)


def _as_utc_naive(value: datetime) -> datetime:
    """``value`` as naive UTC, the way both databases store it."""
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _optional_uuid(value: uuid.UUID | None) -> uuid.UUID | bytes:
    # Absent is zero bytes, a UUID sixteen: the length keeps them apart.
    return value if value is not None else b""


def _optional_text(value: str | None) -> str | bytes:
    # Absent is an empty *bytes* field, text a *str* field: the type tag keeps None and "" apart.
    return value if value is not None else b""


def hash_of(key: bytes, previous: bytes, sequence: int, event: Any) -> bytes:
    """``event_hash`` of an event or a row read back (anything with the event's fields)."""
    return event_hash(
        key,
        prev_hash=previous,
        sequence=sequence,
        occurred_at=event.occurred_at,
        actor_account_id=event.actor_account_id,
        action=event.action,
        case_id=event.case_id,
        detail=event.detail,
    )


def event_hash(
    key: bytes,
    *,
    prev_hash: bytes,
    sequence: int,
    occurred_at: datetime,
    actor_account_id: uuid.UUID | None,
    action: str,
    case_id: uuid.UUID | None,
    detail: str | None,
) -> bytes:
    """The hash of one event, binding it to the previous hash and its place in the chain."""
    data = encode_fields(
        [
            CHAIN_VERSION,
            prev_hash,
            sequence,
            _as_utc_naive(occurred_at).isoformat(sep=" ", timespec="microseconds"),
            _optional_uuid(actor_account_id),
            action,
            _optional_uuid(case_id),
            _optional_text(detail),
        ]
    )
    return keyed_hash(key, LABEL_AUDIT_CHAIN, data)


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def _normalise(audit_event: AuditEvent) -> None:
    """Give the event the exact values the database will store and return, before hashing."""
    audit_event.occurred_at = _as_utc_naive(audit_event.occurred_at or utcnow())
    audit_event.actor_account_id = _uuid_or_none(audit_event.actor_account_id)
    audit_event.case_id = _uuid_or_none(audit_event.case_id)


def _insert_head(connection: Connection) -> Insert:
    """Create the head row at genesis, doing nothing when a concurrent writer just did."""
    values = {"id": HEAD_ID, "count": 0, "hash": GENESIS}
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert(_HEAD).values(values).on_conflict_do_nothing(index_elements=["id"])
    if name == "sqlite":
        return sqlite.insert(_HEAD).values(values).on_conflict_do_nothing(index_elements=["id"])
    return insert(_HEAD).values(values)


def _advance_head(connection: Connection, steps: int) -> tuple[int, bytes]:
    """Lock the head row, move its count on by ``steps`` and return (new count, hash)."""
    advance = (
        update(_HEAD)
        .where(_HEAD.c.id == HEAD_ID)
        .values(count=_HEAD.c.count + steps)
        .returning(_HEAD.c.count, _HEAD.c.hash)
    )
    row = connection.execute(advance).first()
    if row is None:
        connection.execute(_insert_head(connection))
        row = connection.execute(advance).first()
        if row is None:
            raise UnchainedWriteError("the audit chain head could not be created")
    return int(row[0]), bytes(row[1])


def chain_pending(session: Session, key: bytes, pending: list[AuditEvent]) -> None:
    """Link ``pending`` (in order) onto the chain head, inside the session's transaction."""
    connection = session.connection(bind_arguments={"mapper": AuditEvent.__mapper__})
    count, previous = _advance_head(connection, len(pending))
    sequence = count - len(pending)
    for audit_event in pending:
        sequence += 1
        _normalise(audit_event)
        audit_event.prev_hash = previous
        audit_event.hash = previous = hash_of(key, previous, sequence, audit_event)
    connection.execute(update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(hash=previous))


def _insert_order(audit_event: AuditEvent) -> int:
    """When the event was added to its session: the order the unit of work inserts them in."""
    order: int | None = inspect(audit_event).insert_order
    return order if order is not None else 0


def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    """Chain the new audit events of this flush; refuse to change or delete an existing one."""
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise UnchainedWriteError("audit events are never deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj):
            raise UnchainedWriteError("audit events are never changed")
    pending = sorted((obj for obj in session.new if isinstance(obj, AuditEvent)), key=_insert_order)
    if not pending:
        return
    key = engine_key(session.get_bind(mapper=AuditEvent.__mapper__))
    if key is None:
        raise UnchainedWriteError("audit events are written only through a portal database")
    chain_pending(session, key, pending)


def install_chain_hook() -> None:
    """Listen on every Session (idempotent): request sessions and ``Session(engine)`` alike."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)


install_chain_hook()


# Verification


class Problem(StrEnum):
    """Why the chain is broken where it is."""

    UNCHAINED = "unchained"  # an event without its hash: written around the chain
    LINK = "link"  # does not link to the event before it: one was deleted or moved
    ALTERED = "altered"  # its fields or its hash were changed
    HEAD_MISSING = "head-missing"  # events exist but the chain head does not
    TRUNCATED = "truncated"  # the head records more events than remain: the last were deleted
    HEAD_MISMATCH = "head-mismatch"  # the head's hash is not the last event's


DESCRIPTIONS: dict[Problem, str] = {
    Problem.UNCHAINED: "it has no hash: it was written around the chain",
    Problem.LINK: (
        "it does not link to the event before it: an event before it was deleted or moved, "
        "or its link was changed"
    ),
    Problem.ALTERED: "its recorded fields do not match its hash: it or its hash was changed",
    Problem.HEAD_MISSING: "the chain head is missing",
    Problem.TRUNCATED: (
        "the log ends here but the chain head records more events: the last were deleted"
    ),
    Problem.HEAD_MISMATCH: "the chain head does not match the last event",
}


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain."""

    events: int
    """Events checked (all of them when the chain is intact)."""
    broken_at: int | None = None
    """The id of the first broken event (for a head problem: the last event, if any)."""
    problem: Problem | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None

    def describe(self) -> str:
        """One line for operators (the admin page words it through gettext)."""
        if self.problem is None:
            return f"audit chain intact: {self.events} events"
        where = f"at event {self.broken_at}" if self.broken_at is not None else "before any event"
        return f"audit chain broken {where}: {DESCRIPTIONS[self.problem]}"


_COLUMNS = (
    _EVENTS.c.id,
    _EVENTS.c.occurred_at,
    _EVENTS.c.actor_account_id,
    _EVENTS.c.action,
    _EVENTS.c.case_id,
    _EVENTS.c.detail,
    _EVENTS.c.prev_hash,
    _EVENTS.c.hash,
)


def _check(
    key: bytes, row: Row[*tuple[Any, ...]], sequence: int, previous: bytes
) -> Problem | None:
    """What is wrong with the event in ``row`` at ``sequence`` after ``previous``, if anything."""
    if row.hash is None or row.prev_hash is None:
        return Problem.UNCHAINED
    if not constant_time_equal(bytes(row.prev_hash), previous):
        return Problem.LINK
    expected = hash_of(key, previous, sequence, row)
    if not constant_time_equal(bytes(row.hash), expected):
        return Problem.ALTERED
    return None


def verify_chain(db: Session, key: bytes, batch: int = 2000) -> ChainReport:
    """Walk every event in id order, recompute its hash and check its link, then the head.

    The head is read first: events committed after that read carry higher ids (writers take
    the head lock before inserting), so they are checked as a continuation of the chain, and
    the head must match the event at its own position.
    """
    head = db.execute(select(_HEAD.c.count, _HEAD.c.hash).where(_HEAD.c.id == HEAD_ID)).first()
    head_count = int(head[0]) if head is not None else 0
    head_hash = bytes(head[1]) if head is not None else GENESIS
    previous = GENESIS
    at_head: tuple[int | None, bytes] = (None, GENESIS)  # (id, hash) at the head's position
    seen = 0
    last_id: int | None = None
    rows = db.execute(select(*_COLUMNS).order_by(_EVENTS.c.id).execution_options(yield_per=batch))
    with rows:
        for row in rows:
            problem = _check(key, row, seen + 1, previous)
            if problem is not None:
                return ChainReport(events=seen, broken_at=row.id, problem=problem)
            seen += 1
            last_id = row.id
            previous = bytes(row.hash)
            if seen == head_count:
                at_head = (row.id, previous)
    if head is None:
        if seen:
            return ChainReport(events=seen, broken_at=last_id, problem=Problem.HEAD_MISSING)
        return ChainReport(events=0)
    if seen < head_count:
        return ChainReport(events=seen, broken_at=last_id, problem=Problem.TRUNCATED)
    if not constant_time_equal(at_head[1], head_hash):
        return ChainReport(events=seen, broken_at=at_head[0], problem=Problem.HEAD_MISMATCH)
    return ChainReport(events=seen)
