"""Restoring a backup: checked whole before anything is written, and only into an empty
installation; then migrated, and its key files checked against the database."""

from __future__ import annotations

import hmac
import os
import secrets
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import crypto

from .. import migrate
from ..audit import verify_chain
from ..config import Settings
from ..datadir import SERVER_MAC_KEY_FILE, DataDir
from ..keyring import Keyring
from ..models import Installation
from .archive import POSTGRES_MEMBER, SQLITE_MEMBER, _damaged, _read_manifest, _stage, key_check
from .database import (
    POSTGRESQL,
    SQLITE,
    _known_revisions,
    _place_sqlite,
    _run_pg_tool,
    _scratch_engine,
    _target_database_is_empty,
    database_kind,
    find_pg_tool,
    libpq_connection,
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


@dataclass(frozen=True)
class RestoreSummary:
    kind: str
    revision_in_backup: str
    revision_now: str | None
    keys_restored: bool
    file_count: int


def _store_is_empty(data_dir: DataDir) -> bool:
    if not data_dir.files.exists():
        return True
    return not any(path.is_file() or path.is_symlink() for path in data_dir.files.rglob("*"))


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
