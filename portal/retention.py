"""Keeping cases no longer than the policy allows, and erasing them for good (P8).

A closed case is kept for a number of days after its closure that depends on how it ended
(``Settings.retention_*``); a case whose reporter asked for erasure when withdrawing is erased
as soon as a supervisor confirms. Erasing deletes the case's row, which takes with it (foreign
keys, ``ON DELETE CASCADE``) every compartment, every grant and wrap of its keys (the recovery
key's included), the receipt lock and its successors, every record and every file row; then the
ciphertext files are deleted from the store. With every wrap gone, nothing can open what is
left anywhere (backups made before excepted, until they expire: docs/operations.md). SQLite
runs with ``secure_delete`` so freed pages are overwritten; PostgreSQL needs a ``VACUUM`` (see
the operations guide).

An audit event says that a case was erased, under which rule, and nothing else. The purge
also removes ciphertext files no row points to (left by a process killed mid-filing) once
they are an hour old, expired drafts, and lapsed follow-up sessions.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from .config import Settings
from .datadir import DataDir
from .drafts import sweep_expired
from .models import (
    AuditEvent,
    Case,
    Outcome,
    ReporterSession,
    StageEvent,
    StoredFile,
    today,
    utcnow,
)
from .stages import Stage

PURGED = "case.purged"
ORPHAN_AGE_SECONDS = 3600  # a file younger than this may belong to a filing not yet committed


@dataclass(frozen=True)
class Due:
    case_id: uuid.UUID
    reference: str
    rule: str  # erasure_requested, withdrawn, spam, not_eligible, closed


@dataclass
class PurgeRun:
    erased: list[Due] = field(default_factory=list)
    orphan_files: int = 0
    drafts: int = 0
    sessions: int = 0
    wal_cleared: bool = True


def _rule(outcome: str | None, acknowledged: bool) -> str:
    if outcome == Outcome.WITHDRAWN.value:
        return "withdrawn"
    if outcome == Outcome.NOT_ELIGIBLE.value:
        return "not_eligible" if acknowledged else "spam"
    return "closed"


def _keep_days(settings: Settings, rule: str) -> int:
    return {
        "withdrawn": settings.retention_withdrawn_days,
        "spam": settings.retention_spam_days,
        "not_eligible": settings.retention_not_eligible_days,
        "closed": settings.retention_closed_days,
    }[rule]


def due_cases(db: Session, settings: Settings, on: date | None = None) -> list[Due]:
    """Closed cases whose retention has run out, in the order they closed.

    One statement, each case read with whether it was ever acknowledged (a correlated EXISTS),
    rather than one query per closed case: the purge runs over years of closed cases.
    """
    on = on or today()
    acknowledged = (
        select(StageEvent.id)
        .where(StageEvent.case_id == Case.id, StageEvent.to_stage == Stage.ACKNOWLEDGED.value)
        .exists()
    )
    closed = db.execute(
        select(Case.id, Case.reference, Case.outcome, Case.stage_changed_on, acknowledged)
        .where(Case.stage == Stage.CLOSED.value, Case.erasure_requested_on.is_(None))
        .order_by(Case.stage_changed_on, Case.reference)
    )
    found = []
    for case_id, reference, outcome, closed_on, was_acknowledged in closed:
        rule = _rule(outcome, bool(was_acknowledged))
        if closed_on + timedelta(days=_keep_days(settings, rule)) <= on:
            found.append(Due(case_id, reference, rule))
    return found


def erase_case(
    db: Session, data_dir: DataDir, case_id: uuid.UUID, rule: str, actor: uuid.UUID | None
) -> bool:
    """Erase one case now: its row and everything hanging from it, then its files. Commits."""
    case = db.get(Case, case_id)
    if case is None:
        return False
    files = list(db.scalars(select(StoredFile.id).where(StoredFile.case_id == case_id)))
    db.delete(case)
    db.add(AuditEvent(action=PURGED, actor_account_id=actor, case_id=case_id, detail=rule))
    db.commit()
    for file_id in files:  # after the commit: a failed commit must not lose the files
        data_dir.file_path(file_id.hex).unlink(missing_ok=True)
    return True


def _store_files(data_dir: DataDir) -> Iterator[os.DirEntry[str]]:
    if not data_dir.files.exists():
        return
    for entry in os.scandir(data_dir.files):
        if entry.is_dir(follow_symlinks=False):
            yield from (e for e in os.scandir(entry.path) if e.is_file(follow_symlinks=False))
        elif entry.is_file(follow_symlinks=False):
            yield entry


def remove_orphan_files(db: Session, data_dir: DataDir, now: float | None = None) -> int:
    """Delete ciphertext no file row points to, once old enough not to be a filing in flight.

    The age is the inode's change time: stored files get their modification time set to the
    day, but a rename (into the store) and that very change both set the change time.
    """
    now = now or time.time()
    known = {file_id.hex for file_id in db.scalars(select(StoredFile.id))}
    removed = 0
    for entry in _store_files(data_dir):
        stem = entry.name.split(".", 1)[0]
        if stem in known or now - entry.stat().st_ctime < ORPHAN_AGE_SECONDS:
            continue
        os.unlink(entry.path)
        removed += 1
    return removed


def purge(
    db: Session,
    settings: Settings,
    data_dir: DataDir,
    *,
    dry_run: bool = False,
    on: date | None = None,
) -> PurgeRun:
    """Erase every case due; sweep orphan files, expired drafts and lapsed sessions."""
    run = PurgeRun(erased=due_cases(db, settings, on))
    if dry_run:
        return run
    for due in run.erased:
        erase_case(db, data_dir, due.case_id, due.rule, None)
    run.orphan_files = remove_orphan_files(db, data_dir)
    run.drafts = sweep_expired(db)
    lapsed = db.execute(
        ReporterSession.__table__.delete().where(ReporterSession.expires_at <= utcnow())
    )
    run.sessions = lapsed.rowcount or 0
    db.commit()
    if run.erased:
        run.wal_cleared = clear_sqlite_wal(db)
    return run


def clear_sqlite_wal(db: Session) -> bool:
    """SQLite: copy the WAL into the database and empty it, so the old page versions holding
    erased wraps are gone from the WAL too (secure_delete has zeroed them in the new ones).
    False when a reader kept it from finishing (run the purge again); True elsewhere."""
    if db.get_bind().dialect.name != "sqlite":
        return True
    busy, _log, _done = db.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).one()
    db.commit()
    return not busy


__all__ = [
    "PURGED",
    "Due",
    "PurgeRun",
    "due_cases",
    "erase_case",
    "purge",
    "remove_orphan_files",
]
