"""The tar file: members written with their size and SHA-256, the manifest that lists them, and
the checks a restore makes of both before it writes anything."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import tarfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from .database import POSTGRESQL, SQLITE
from .shared import _CHUNK, KEY_FILES, BackupError, _create_private

FORMAT = "portal-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/portal.sqlite3"
POSTGRES_MEMBER = "database/portal.dump"
_DATABASE_MEMBERS = {SQLITE: SQLITE_MEMBER, POSTGRESQL: POSTGRES_MEMBER}
_DIRECTORIES = {"database", "keys", "files"}
_FILE_MEMBER = re.compile(r"files/([0-9a-f]{2})/([0-9a-f]{32})")
_FAN_MEMBER = re.compile(r"files/[0-9a-f]{2}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_KEY_CHECK_LABEL = b"portal backup key check v1"
_MAX_MANIFEST_BYTES = 256 * 1024 * 1024


def key_check(key: bytes) -> str:
    """A value that tells whether a key file is the one a backup was made with, and nothing
    about the key."""
    return hmac.new(key, _KEY_CHECK_LABEL, hashlib.sha256).hexdigest()


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
