"""Creating a backup: the database first, then the key files and the file store as stored,
then the manifest."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from ..config import Settings
from ..datadir import DataDir
from ..models import today
from .archive import _DATABASE_MEMBERS, FORMAT, FORMAT_VERSION, _Writer, key_check
from .database import (
    POSTGRESQL,
    SQLITE,
    _snapshot_postgres,
    _snapshot_sqlite,
    database_kind,
    find_pg_tool,
)
from .shared import (
    KEY_FILES,
    BackupError,
    Say,
    _create_private,
    _fsync_directory,
    _midnight,
    _read_key,
)

_FAN = re.compile(r"[0-9a-f]{2}")
_FILE_ID = re.compile(r"[0-9a-f]{32}")


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


def _size(count: int) -> str:
    if count < 1000:
        return f"{count} bytes"
    value = count / 1000
    for unit in ("KB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
