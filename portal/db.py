"""The database engine and the per-request session."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from flask import current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from .audit import install_chain_hook, register_engine
from .tallies import install_tally_hooks

# Every session, whether made by ``Database.sessions`` or as ``Session(engine)``, chains the
# audit events it writes (see ``portal.audit``) and keeps the case counts per stage (see
# ``portal.tallies``).
install_chain_hook()
install_tally_hooks()


class Database:
    """An engine and a session factory for one app."""

    def __init__(self, url: str) -> None:
        self.url = url
        options: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            options["connect_args"] = {"timeout": 15}
        else:
            options["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **options)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            _create_private_file(self.engine.url.database)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.audit_key: bytes | None = None

    def set_audit_key(self, key: bytes) -> None:
        """Chain the audit events written through this engine under ``key`` (the server MAC
        key): without it, writing an audit event is refused."""
        register_engine(self.engine, key)
        self.audit_key = key

    def dispose(self) -> None:
        self.engine.dispose()


def _create_private_file(path: str | None) -> None:
    """Create the SQLite file with mode 0600 (its WAL and shared-memory files inherit it)."""
    if not path or path == ":memory:":
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    # secure_delete overwrites freed pages, so destroyed key material does not linger.
    for pragma in (
        "PRAGMA foreign_keys=ON",
        "PRAGMA journal_mode=WAL",
        "PRAGMA secure_delete=ON",
        "PRAGMA busy_timeout=15000",
    ):
        cursor.execute(pragma)
    cursor.close()


def database() -> Database:
    """The current app's database."""
    db: Database = current_app.extensions["portal_db"]
    return db


def db_session() -> Session:
    """The session of the current request (or CLI command), opened on first use."""
    if "db_session" not in g:
        g.db_session = database().sessions()
    session: Session = g.db_session
    return session


def close_db_session(_exc: BaseException | None = None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
