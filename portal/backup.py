"""Backups: one tar file with a consistent snapshot of the database and the file store.

The format (``FORMAT_VERSION`` 1) is a single uncompressed POSIX tar file, every member mode
0600 (directories 0700), owned by uid 0 with no user or group name, every time set to midnight
(UTC) of the day it was made:

``database/portal.sqlite3``
    SQLite: a copy made with SQLite's online backup API, in one step, so it is one consistent
    snapshot (WAL included) taken while the portal keeps serving;
``database/portal.dump``
    or PostgreSQL: ``pg_dump --format=custom`` (one transaction, so consistent too);
``keys/server_mac_key``, ``keys/secret_key``
    the data dir's key files, left out with ``--without-keys``;
``files/xx/<file id>``
    the encrypted file store, the ciphertext byte for byte as stored (``incoming/`` is not
    backed up: filings in progress);
``manifest.json``
    last: the format, the schema revision of the snapshot, the database kind, the day it was
    made (no time), the number of files, the size and SHA-256 of every other member, and a
    check value of each key file (an HMAC under the key itself, which says nothing of the key
    but lets a restore from a backup made ``--without-keys`` tell whether the key files put in
    the data dir are the right ones).

The database is snapshotted before the file store is copied: stored files never change, so
every file a row of the snapshot names is already in the store; a file stored after the
snapshot is an orphan without a row, and harmless. Nothing is ever decrypted: what is secret in
the database and the store stays sealed to caseworkers, the recovery key and receipts. Metadata
is not encrypted (dates at day precision, sizes, routing), so the archive should be encrypted
before it leaves the server (docs/operations.md, section 7).

A restore verifies the manifest and every member's SHA-256 before it writes anything, and goes
only into an empty installation: no portal tables in the database, no file in the store.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import stat

# pg_dump and pg_restore only, never through a shell.
import subprocess  # nosec B404
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from glob import glob
from pathlib import Path
from typing import IO, Any

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, pool
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

import crypto

from . import migrate
from .audit import verify_chain
from .config import Settings
from .datadir import SECRET_KEY_FILE, SERVER_MAC_KEY_FILE, DataDir
from .keyring import Keyring
from .models import Base, Installation, today

FORMAT = "portal-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/portal.sqlite3"
POSTGRES_MEMBER = "database/portal.dump"
KEY_FILES = (SERVER_MAC_KEY_FILE, SECRET_KEY_FILE)
KEY_SIZE = 32
SQLITE = "sqlite"
POSTGRESQL = "postgresql"
_DATABASE_MEMBERS = {SQLITE: SQLITE_MEMBER, POSTGRESQL: POSTGRES_MEMBER}
_DIRECTORIES = {"database", "keys", "files"}
_FAN = re.compile(r"[0-9a-f]{2}")
_FILE_ID = re.compile(r"[0-9a-f]{32}")
_FILE_MEMBER = re.compile(r"files/([0-9a-f]{2})/([0-9a-f]{32})")
_FAN_MEMBER = re.compile(r"files/[0-9a-f]{2}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_KEY_CHECK_LABEL = b"portal backup key check v1"
_MAX_MANIFEST_BYTES = 256 * 1024 * 1024
_CHUNK = 1024 * 1024

Say = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore refused or failed; the message is for the operator."""


# --- shared -------------------------------------------------------------------------------------


def database_kind(settings: Settings) -> str:
    if settings.sqlite_path is not None:
        return SQLITE
    if settings.database_url.startswith("postgresql"):
        return POSTGRESQL
    raise BackupError("Only SQLite and PostgreSQL databases can be backed up.")


def key_check(key: bytes) -> str:
    """A value that tells whether a key file is the one a backup was made with, and nothing
    about the key."""
    return hmac.new(key, _KEY_CHECK_LABEL, hashlib.sha256).hexdigest()


def _read_key(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(data) != KEY_SIZE:
        raise BackupError(f"{path} is damaged: expected {KEY_SIZE} bytes.")
    return data


def _create_private(path: Path) -> IO[bytes]:
    """A new file, mode 0600, open for writing; refuses to replace anything."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _fsync_directory(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _size(count: int) -> str:
    if count < 1000:
        return f"{count} bytes"
    value = count / 1000
    for unit in ("KB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _midnight(day: date) -> float:
    return datetime.combine(day, time(), tzinfo=UTC).timestamp()


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


# --- create -------------------------------------------------------------------------------------


@dataclass
class _Writer:
    """Adds members to the tar, recording each one's size and SHA-256."""

    archive: tarfile.TarFile
    mtime: float
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    directories: set[str] = field(default_factory=set)

    def _info(self, name: str, kind: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = mode
        info.size = size
        info.mtime = int(self.mtime)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    def directory(self, name: str) -> None:
        if name not in self.directories:
            self.archive.addfile(self._info(name, tarfile.DIRTYPE, 0o700))
            self.directories.add(name)

    def add(self, name: str, handle: IO[bytes], size: int) -> None:
        digest = hashlib.sha256()
        info = self._info(name, tarfile.REGTYPE, 0o600, size)
        self.archive.addfile(info, _Hashing(handle, digest))  # type: ignore[arg-type]
        self.members[name] = {"size": size, "sha256": digest.hexdigest()}

    def add_bytes(self, name: str, data: bytes) -> None:
        self.add(name, io.BytesIO(data), len(data))

    def add_manifest(self, data: bytes) -> None:
        """The manifest, last, and not listed in itself."""
        self.archive.addfile(
            self._info(MANIFEST, tarfile.REGTYPE, 0o600, len(data)), io.BytesIO(data)
        )


class _Hashing:
    """A file object that hashes what is read through it."""

    def __init__(self, handle: IO[bytes], digest: Any) -> None:
        self._handle = handle
        self._digest = digest

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._digest.update(data)
        return data


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    kind: str
    revision: str
    keys_included: bool
    file_count: int
    file_bytes: int


def create_backup(
    settings: Settings,
    data_dir: DataDir,
    engine: Engine,
    path: Path,
    *,
    include_keys: bool = True,
    say: Say = print,
) -> BackupSummary:
    """Write the backup to ``path``, a new ``.tar`` file (written under a temporary name in the
    same directory, then linked into place, so a reader never sees half a backup)."""
    kind = database_kind(settings)
    path = path.absolute()
    if path.suffix != ".tar":
        raise BackupError(
            f"{path}: the backup is a single tar file; give a new name ending in .tar."
        )
    if path.exists() or path.is_symlink():
        raise BackupError(f"{path} already exists: give a new name (a backup never replaces one).")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} is not a directory.")
    keys: dict[str, bytes] = {}
    for name in KEY_FILES:
        key = _read_key(data_dir.root / name)
        if key is None:
            raise BackupError(f"{data_dir.root / name} is missing: this data dir was never used.")
        keys[name] = key
    pg_dump = find_pg_tool("pg_dump") if kind == POSTGRESQL else None
    day = today()
    staging = Path(tempfile.mkdtemp(prefix=".portal-backup-", dir=path.parent))  # mode 0700
    try:
        # 1. The database, first.
        if kind == SQLITE:
            snapshot = staging / "portal.sqlite3"
            revision = _snapshot_sqlite(settings, snapshot)
            say(
                f"Database: SQLite snapshot taken with the online backup API at schema revision"
                f" {revision} ({_size(snapshot.stat().st_size)})."
            )
        else:
            assert pg_dump is not None
            snapshot = staging / "portal.dump"
            revision = _snapshot_postgres(settings, engine, pg_dump, snapshot)
            say(
                f"Database: PostgreSQL dump taken with {pg_dump} at schema revision {revision}"
                f" ({_size(snapshot.stat().st_size)})."
            )
        partial = staging / path.name
        with _create_private(partial) as handle:
            archive = tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
            writer = _Writer(archive, _midnight(day))
            writer.directory("database")
            with snapshot.open("rb") as source:
                writer.add(_DATABASE_MEMBERS[kind], source, snapshot.stat().st_size)
            snapshot.unlink()
            # 2. The key files, unless they are kept apart.
            if include_keys:
                writer.directory("keys")
                for name, key in keys.items():
                    writer.add_bytes(f"keys/{name}", key)
                say(f"Key files: {' and '.join(KEY_FILES)} included.")
            else:
                say(
                    f"Key files: left out (--without-keys). Keep {' and '.join(KEY_FILES)}"
                    " backed up apart: a restore needs them in the data dir first."
                )
            # 3. Then the file store, as ciphertext.
            count, total, vanished, ignored = _add_files(writer, data_dir)
            say(
                f"Files: {count} encrypted file(s) copied as stored ({_size(total)});"
                " nothing was decrypted."
            )
            if vanished:
                say(
                    f"Files: {vanished} file(s) were deleted while being copied (a purge): skipped."
                )
            if ignored:
                say(f"Files: skipped {ignored} item(s) in {data_dir.files}: not stored files.")
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created": day.isoformat(),
                "schema_revision": revision,
                "database": kind,
                "keys_included": include_keys,
                "key_check": {name: key_check(key) for name, key in keys.items()},
                "file_count": count,
                "members": writer.members,
            }
            encoded = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8") + b"\n"
            writer.add_manifest(encoded)
            archive.close()
            handle.flush()
            os.fsync(handle.fileno())
        _link_into_place(partial, path)
        _fsync_directory(path.parent)
        members = len(writer.members)
        say(
            f"Wrote {path} (mode 0600, {_size(path.stat().st_size)}): {members} member(s) and a"
            " manifest with the SHA-256 of each."
        )
        say(
            "It holds ciphertext, but its metadata is in clear: encrypt it (age) before it"
            " leaves this server."
        )
        return BackupSummary(path, kind, revision, include_keys, count, total)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _link_into_place(partial: Path, path: Path) -> None:
    """Give the finished archive its name, never replacing a file of that name."""
    try:
        os.link(partial, path)
    except FileExistsError as exc:
        raise BackupError(f"{path} appeared while the backup was written: not replaced.") from exc
    except OSError as exc:  # a file system without hard links
        if path.exists():
            raise BackupError(
                f"{path} appeared while the backup was written: not replaced."
            ) from exc
        os.rename(partial, path)


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


def _stored_files(data_dir: DataDir) -> Iterator[tuple[str, Path] | None]:
    """(member name, path) of every stored file, in name order; None for anything else."""
    if not data_dir.files.is_dir():
        return
    for fan in sorted(data_dir.files.iterdir()):
        if not (_FAN.fullmatch(fan.name) and fan.is_dir() and not fan.is_symlink()):
            yield None
            continue
        for stored in sorted(fan.iterdir()):
            if _FILE_ID.fullmatch(stored.name) and stored.name.startswith(fan.name):
                yield f"files/{fan.name}/{stored.name}", stored
            else:
                yield None


def _add_files(writer: _Writer, data_dir: DataDir) -> tuple[int, int, int, int]:
    count = total = vanished = ignored = 0
    writer.directory("files")
    for entry in _stored_files(data_dir):
        if entry is None:
            ignored += 1
            continue
        name, stored = entry
        try:
            handle = stored.open("rb")
        except FileNotFoundError:
            vanished += 1
            continue
        with handle:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode):
                ignored += 1
                continue
            writer.directory(name.rsplit("/", 1)[0])
            writer.add(name, handle, status.st_size)
        count += 1
        total += status.st_size
    return count, total, vanished, ignored


# --- restore ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoreSummary:
    kind: str
    revision_in_backup: str
    revision_now: str | None
    keys_restored: bool
    file_count: int


def _damaged(path: Path, why: str) -> BackupError:
    return BackupError(f"{path} is not an intact portal backup ({why}). Nothing was changed.")


def _read_manifest(
    path: Path, archive: tarfile.TarFile
) -> tuple[dict[str, Any], list[tarfile.TarInfo]]:
    """The manifest and the regular members, after checking every member's name and type."""
    seen: set[str] = set()
    regular: list[tarfile.TarInfo] = []
    manifest_info: tarfile.TarInfo | None = None
    for info in archive.getmembers():
        name = info.name
        if name in seen:
            raise _damaged(path, f"{name} appears twice")
        seen.add(name)
        if info.isdir():
            if name in _DIRECTORIES or _FAN_MEMBER.fullmatch(name):
                continue
            raise _damaged(path, f"unexpected directory {name!r}")
        if not info.isreg():
            raise _damaged(path, f"{name!r} is not a regular file")
        if name == MANIFEST:
            manifest_info = info
        elif (
            name in _DATABASE_MEMBERS.values()
            or name in {f"keys/{key}" for key in KEY_FILES}
            or (
                (found := _FILE_MEMBER.fullmatch(name))
                and found.group(2).startswith(found.group(1))
            )
        ):
            regular.append(info)
        else:
            raise _damaged(path, f"unexpected member {name!r}")
    if manifest_info is None:
        raise _damaged(path, "it has no manifest")
    if manifest_info.size > _MAX_MANIFEST_BYTES:
        raise _damaged(path, "its manifest is too large")
    handle = archive.extractfile(manifest_info)
    assert handle is not None
    try:
        manifest = json.loads(handle.read().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _damaged(path, "its manifest is not readable") from exc
    _check_manifest(path, manifest, regular)
    return manifest, regular


def _check_manifest(path: Path, manifest: Any, regular: list[tarfile.TarInfo]) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _damaged(path, "its manifest is not a portal backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} is in backup format version {manifest.get('format_version')!r}; this"
            f" version of the portal reads version {FORMAT_VERSION}. Nothing was changed."
        )
    kind = manifest.get("database")
    members = manifest.get("members")
    checks = manifest.get("key_check")
    if (
        kind not in _DATABASE_MEMBERS
        or not isinstance(manifest.get("schema_revision"), str)
        or not isinstance(manifest.get("keys_included"), bool)
        or not isinstance(manifest.get("file_count"), int)
        or not isinstance(members, dict)
        or not isinstance(checks, dict)
        or set(checks) != set(KEY_FILES)
        or not all(isinstance(value, str) and _SHA256.fullmatch(value) for value in checks.values())
        or not _is_day(manifest.get("created"))
    ):
        raise _damaged(path, "its manifest is incomplete")
    names = {info.name for info in regular}
    if names != set(members):
        missing = sorted(set(members) - names)
        extra = sorted(names - set(members))
        why = f"missing {missing[0]}" if missing else f"{extra[0]} is not in the manifest"
        raise _damaged(path, why)
    for info in regular:
        entry = members[info.name]
        if not isinstance(entry, dict) or entry.get("size") != info.size:
            raise _damaged(path, f"{info.name} does not have the size the manifest says")
        if not (isinstance(entry.get("sha256"), str) and _SHA256.fullmatch(entry["sha256"])):
            raise _damaged(path, "its manifest is incomplete")
    if _DATABASE_MEMBERS[kind] not in names:
        raise _damaged(path, "it has no database")
    keys_present = {f"keys/{key}" for key in KEY_FILES} & names
    if manifest["keys_included"] != bool(keys_present) or (
        keys_present and len(keys_present) != len(KEY_FILES)
    ):
        raise _damaged(path, "its key files do not match the manifest")
    if manifest["file_count"] != sum(1 for name in names if name.startswith("files/")):
        raise _damaged(path, "it does not hold the number of files the manifest says")


def _is_day(value: Any) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


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


def _store_is_empty(data_dir: DataDir) -> bool:
    if not data_dir.files.exists():
        return True
    return not any(path.is_file() or path.is_symlink() for path in data_dir.files.rglob("*"))


def _stage(
    path: Path,
    archive: tarfile.TarFile,
    regular: list[tarfile.TarInfo],
    members: dict[str, Any],
    staging: Path,
) -> None:
    """Extract every member into ``staging`` (files mode 0600, folders 0700), checking each
    one's SHA-256 against the manifest."""
    for info in regular:
        target = staging / info.name
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        source = archive.extractfile(info)
        assert source is not None
        digest = hashlib.sha256()
        with _create_private(target) as sink:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                sink.write(chunk)
        if not hmac.compare_digest(digest.hexdigest(), str(members[info.name]["sha256"])):
            raise _damaged(path, f"{info.name} does not match its SHA-256 in the manifest")


def restore_backup(
    settings: Settings, data_dir: DataDir, path: Path, *, say: Say = print
) -> RestoreSummary:
    """Restore the backup at ``path`` into this installation, which must be empty."""
    kind = database_kind(settings)
    path = path.absolute()
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    try:
        archive = tarfile.open(path, mode="r:")  # noqa: SIM115 - closed below
    except (tarfile.TarError, OSError) as exc:
        raise _damaged(path, f"not a readable tar file: {exc}") from exc
    with archive:
        try:
            manifest, regular = _read_manifest(path, archive)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise _damaged(path, f"truncated or unreadable: {exc}") from exc
        revision = manifest["schema_revision"]
        if manifest["database"] != kind:
            raise BackupError(
                f"{path} holds a {manifest['database']} database and this installation uses"
                f" {kind}: restore it into a {manifest['database']} installation. Nothing was"
                " changed."
            )
        if revision not in _known_revisions():
            raise BackupError(
                f"{path} was made at schema revision {revision}, newer than this version of the"
                f" portal knows (its newest is {migrate.head_revision()}): install the version"
                " that made it, or a later one. Nothing was changed."
            )
        if not _target_database_is_empty(settings, kind):
            where = settings.sqlite_path if kind == SQLITE else "the database"
            raise BackupError(
                f"{where} already holds portal tables: a backup is restored only into an empty"
                " database. Nothing was changed."
            )
        if not _store_is_empty(data_dir):
            raise BackupError(
                f"{data_dir.files} already holds files: a backup is restored only into an empty"
                " data dir. Nothing was changed."
            )
        keys_included = bool(manifest["keys_included"])
        if not keys_included:
            wrong = [
                name
                for name in KEY_FILES
                if (key := _read_key(data_dir.root / name)) is None
                or not hmac.compare_digest(key_check(key), str(manifest["key_check"][name]))
            ]
            if wrong:
                verb = "is not the one" if len(wrong) == 1 else "are not the ones"
                raise BackupError(
                    f"{path} was made --without-keys, and {' and '.join(wrong)} in"
                    f" {data_dir.root} {verb}"
                    " it was made with (a missing key file is made anew when the portal starts)."
                    f" Copy the backed-up {' and '.join(KEY_FILES)} into {data_dir.root} (mode"
                    " 0600), replacing those there, then restore again. Nothing was changed."
                )
        pg_restore = find_pg_tool("pg_restore") if kind == POSTGRESQL else None

        staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=data_dir.root))  # mode 0700
        try:
            try:
                _stage(path, archive, regular, manifest["members"], staging)
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise _damaged(path, f"truncated or unreadable: {exc}") from exc
            say(
                f"Checked {path}: made on {manifest.get('created')}, {kind}, schema revision"
                f" {revision}, {len(regular)} member(s), each matching its SHA-256."
            )
            return _put_in_place(
                settings, data_dir, manifest, staging, kind, pg_restore, keys_included, say
            )
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _put_in_place(
    settings: Settings,
    data_dir: DataDir,
    manifest: dict[str, Any],
    staging: Path,
    kind: str,
    pg_restore: str | None,
    keys_included: bool,
    say: Say,
) -> RestoreSummary:
    revision = manifest["schema_revision"]
    # 1. The database (a failed pg_restore rolls back: nothing is left of it).
    if kind == SQLITE:
        target = settings.sqlite_path
        assert target is not None
        _place_sqlite(staging / SQLITE_MEMBER, target)
        say(f"Database: restored to {target} (mode 0600).")
    else:
        assert pg_restore is not None
        conninfo, environment = libpq_connection(settings.database_url)
        _run_pg_tool(
            [
                pg_restore,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                "--dbname",
                conninfo,
                str(staging / POSTGRES_MEMBER),
            ],
            environment,
            "pg_restore (nothing was changed)",
        )
        name = make_url(settings.database_url).database
        say(f"Database: restored into PostgreSQL database {name} with {pg_restore}.")
    done = ["the database"]
    try:
        # 2. The key files.
        if keys_included:
            replaced = []
            for name in KEY_FILES:
                key = (staging / "keys" / name).read_bytes()
                existing = _read_key(data_dir.root / name)
                if existing is not None and existing != key:
                    replaced.append(name)
                _place_key(data_dir.root / name, key)
            note = (
                f", replacing the different {' and '.join(replaced)} found there (in an empty"
                " data dir they guarded nothing)"
                if replaced
                else ""
            )
            say(f"Key files: {' and '.join(KEY_FILES)} restored into {data_dir.root}{note}.")
            done.append("the key files")
        else:
            say(
                f"Key files: not in this backup; the {' and '.join(KEY_FILES)} already in"
                f" {data_dir.root} are the ones it was made with."
            )
        # 3. The file store.
        count = _place_files(staging / "files", data_dir, date.fromisoformat(manifest["created"]))
        os.sync()  # once for all the files, rather than one fsync each
        say(f"Files: {count} encrypted file(s) restored into {data_dir.files}.")
        done.append("the files")
        # 4. Migrations, then a check that the keys open this database.
        engine = _scratch_engine(settings.database_url)
        try:
            migrate.upgrade(engine)
            now = migrate.current_revision(engine)
            if now == revision:
                say(f"Schema: at revision {now}, the current one.")
            else:
                say(f"Schema: migrated from revision {revision} to {now}.")
            _check_keys(engine, data_dir, say)
        finally:
            engine.dispose()
    except BackupError as exc:
        raise BackupError(
            f"{exc} Restored so far: {', '.join(done)}; empty the database and the data dir"
            " before trying again."
        ) from exc
    except Exception as exc:
        raise BackupError(
            f"The restore stopped: {exc!r}. Restored so far: {', '.join(done)}; empty the"
            " database and the data dir before trying again."
        ) from exc
    say("Restore complete: start the portal, sign in, open a case and download an attachment.")
    return RestoreSummary(kind, revision, now, keys_included, count)


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


def _place_key(target: Path, key: bytes) -> None:
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}")
    try:
        with _create_private(temporary) as sink:
            sink.write(key)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_directory(target.parent)


def _place_files(staged: Path, data_dir: DataDir, day: date) -> int:
    data_dir.files.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not staged.is_dir():
        return 0
    midnight = _midnight(day)
    count = 0
    for fan in sorted(staged.iterdir()):
        destination = data_dir.files / fan.name
        destination.mkdir(mode=0o700, exist_ok=True)
        for stored in sorted(fan.iterdir()):
            target = destination / stored.name
            if target.exists():
                raise BackupError(f"{target} appeared during the restore: not replaced.")
            os.rename(stored, target)
            os.utime(target, (midnight, midnight))
            count += 1
        _fsync_directory(destination)
    return count


def _check_keys(engine: Engine, data_dir: DataDir, say: Say) -> None:
    """The restored server MAC key must authenticate the installation and the audit chain."""
    mac_key = _read_key(data_dir.root / SERVER_MAC_KEY_FILE)
    assert mac_key is not None
    with Session(engine) as db:
        row = db.get(Installation, 1)
        if row is None:
            say("Check: this database was never set up (no installation row).")
            return
        try:
            Keyring(mac_key).verify_installation(row)
        except crypto.CryptoError as exc:
            raise BackupError(
                f"The installation does not verify under {data_dir.root / SERVER_MAC_KEY_FILE}:"
                " the key files are not this database's."
            ) from exc
        report = verify_chain(db, mac_key)
    if not report.intact:
        raise BackupError(f"Check failed: {report.describe()}.")
    say(f"Check: the installation verifies under the restored key files; {report.describe()}.")
