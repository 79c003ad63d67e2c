"""The database in a backup: SQLite's online backup API, or pg_dump and pg_restore; its schema
revision; and whether a restore's target database is empty."""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3

# pg_dump and pg_restore only, never through a shell.
import subprocess  # nosec B404
from glob import glob
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, pool
from sqlalchemy.engine import URL, make_url

from .. import migrate
from ..config import Settings
from ..models import Base
from .shared import _CHUNK, BackupError, _create_private, _fsync_directory

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


def database_kind(settings: Settings) -> str:
    if settings.sqlite_path is not None:
        return SQLITE
    if settings.database_url.startswith("postgresql"):
        return POSTGRESQL
    raise BackupError("Only SQLite and PostgreSQL databases can be backed up.")


def find_pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: on PATH, or else the newest in Debian's versioned
    directories."""
    found = shutil.which(name)
    if found:
        return found

    def version(path: str) -> tuple[int, ...]:
        part = Path(path).parent.parent.name
        return tuple(int(piece) for piece in part.split(".") if piece.isdigit())

    candidates = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)
    if candidates:
        return candidates[-1]
    raise BackupError(
        f"{name} was not found on PATH or in /usr/lib/postgresql/*/bin: install the PostgreSQL"
        " client (apt-get install postgresql-client) of at least the server's version."
    )


def _quote_conninfo(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_connection(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment for the client
    programs: the password, if the URL has one, goes only into ``PGPASSWORD``."""
    url: URL = make_url(database_url)
    params: dict[str, str] = {}
    if url.host:
        params["host"] = url.host
    if url.port:
        params["port"] = str(url.port)
    if url.username:
        params["user"] = url.username
    if url.database:
        params["dbname"] = url.database
    for key, value in url.query.items():
        params[key] = value[-1] if isinstance(value, tuple) else value
    conninfo = " ".join(f"{key}={_quote_conninfo(value)}" for key, value in params.items())
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    return conninfo, environment


def _run_pg_tool(arguments: list[str], environment: dict[str, str], what: str) -> None:
    # A fixed program (pg_dump or pg_restore), no shell.
    completed = subprocess.run(  # noqa: S603  # nosec B603
        arguments, env=environment, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        detail = completed.stderr.strip() or f"exit status {completed.returncode}"
        raise BackupError(f"{what} failed: {detail}")


def _known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    return {revision.revision for revision in script.walk_revisions()}


def _sqlite_revision(path: Path) -> str | None:
    connection = sqlite3.connect(path)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None


def _portal_tables() -> set[str]:
    return set(Base.metadata.tables) | {"alembic_version"}


def _scratch_engine(url: str) -> Engine:
    return create_engine(url, poolclass=pool.NullPool)


def _snapshot_sqlite(settings: Settings, destination: Path) -> str:
    source = settings.sqlite_path
    assert source is not None
    if not source.is_file() or source.stat().st_size == 0:
        raise BackupError(f"There is no database at {source}: nothing to back up.")
    with _create_private(destination):
        pass
    live = sqlite3.connect(source, timeout=15)
    try:
        copy = sqlite3.connect(destination)
        try:
            # One step (pages=-1): one read transaction, so one consistent snapshot, while
            # writers carry on in WAL mode.
            live.backup(copy)
        finally:
            copy.close()
    finally:
        live.close()
    revision = _sqlite_revision(destination)
    if revision is None:
        raise BackupError("The database has no schema yet (run setup first): nothing to back up.")
    return revision


def _snapshot_postgres(settings: Settings, engine: Engine, pg_dump: str, destination: Path) -> str:
    before = migrate.current_revision(engine)
    if before is None:
        raise BackupError("The database has no schema yet (run setup first): nothing to back up.")
    conninfo, environment = libpq_connection(settings.database_url)
    _run_pg_tool(
        [
            pg_dump,
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--file",
            str(destination),
            "--dbname",
            conninfo,
        ],
        environment,
        "pg_dump",
    )
    os.chmod(destination, 0o600)
    if migrate.current_revision(engine) != before:
        raise BackupError("The schema was migrated while the dump ran: run the backup again.")
    return before


def _target_database_is_empty(settings: Settings, kind: str) -> bool:
    if kind == SQLITE:
        target = settings.sqlite_path
        assert target is not None
        wal = Path(f"{target}-wal")
        if not target.exists():
            return not wal.exists()
        if target.stat().st_size == 0 and (not wal.exists() or wal.stat().st_size == 0):
            return True
        connection = sqlite3.connect(target, timeout=15)
        try:
            count = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            connection.close()
        return int(count) == 0
    engine = _scratch_engine(settings.database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    return not tables & _portal_tables()


def _place_sqlite(staged: Path, target: Path) -> None:
    with staged.open("rb") as handle:
        os.fsync(handle.fileno())
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # WAL and shared-memory files of the empty database would be applied to the restored one.
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    try:
        os.replace(staged, target)
    except OSError:  # another file system: copy beside the target first
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}")
        try:
            with staged.open("rb") as source, _create_private(temporary) as sink:
                shutil.copyfileobj(source, sink, _CHUNK)
                sink.flush()
                os.fsync(sink.fileno())
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
    os.chmod(target, 0o600)
    _fsync_directory(target.parent)
