"""``backup create`` and ``backup restore`` through Flask's CLI runner, on the suite's database
(SQLite, or PostgreSQL with ``PORTAL_TEST_DATABASE_URL``).

Complaints are filed through the public form, backed up, the data dir (and database) destroyed,
the backup restored into an empty installation, and every case opened again: with its receipt,
and by a caseworker with the password. A backup that was changed, is newer than the code, or
meets a target that is not empty is refused and nothing is written.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import sqlite3
import stat
import tarfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.orm import Session

from portal import Settings, create_app, migrate
from portal.backup import KEY_FILES, MANIFEST, POSTGRES_MEMBER, SQLITE_MEMBER
from portal.models import Case
from tests.conftest import PASSWORD, Portal, csrf_token, sign_in
from tests.support import database as testdb
from tests.support.filing import file_complaint
from tests.support.leaks import find_in_bytes

CASEWORKER = "amina@example.org"
FILE_LINK = re.compile(r'href="(/caseworker/cases/[0-9a-f-]{36}/files/[0-9a-f-]{36})"')
DATABASE_MEMBER = POSTGRES_MEMBER if testdb.on_postgres() else SQLITE_MEMBER


@dataclasses.dataclass(frozen=True)
class Filed:
    """A complaint as its reporter knows it."""

    receipt: str
    text: str
    message: str
    attachment: bytes | None


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


@contextmanager
def app_on(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    try:
        yield app
    finally:
        app.extensions["portal_db"].dispose()


def open_follow_up(client: FlaskClient, receipt: str) -> Any:
    token = csrf_token(client, "/follow-up")
    return client.post("/follow-up", data={"csrf_token": token, "receipt": receipt})


@pytest.fixture
def filed(portal: Portal) -> list[Filed]:
    """Two complaints from two reporters, each of whom came back and wrote a message; the
    first with an attachment. Every text carries a canary unique to this run."""
    portal.account(CASEWORKER)
    canary = uuid.uuid4().hex
    complaints = []
    for number in (1, 2):
        text = f"Guards beat us at the north gate, canary {canary}-{number}"
        attachment = f"attachment canary {canary}\n".encode() * 200 if number == 1 else None
        files = [("notes.txt", attachment)] if attachment else []
        receipt = file_complaint(portal.app.test_client(), text=text, files=files)
        reporter = portal.app.test_client()
        assert open_follow_up(reporter, receipt).status_code == 302
        message = f"Reporter message canary {canary}-{number}"
        token = csrf_token(reporter, "/follow-up/case")
        sent = reporter.post("/follow-up/reply", data={"csrf_token": token, "message": message})
        assert sent.status_code == 302
        complaints.append(Filed(receipt, text, message, attachment))
    return complaints


@pytest.fixture
def new_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database: a new PostgreSQL database, or a SQLite file not made yet."""
    if not testdb.on_postgres():
        yield f"sqlite:///{tmp_path / 'target' / 'portal.sqlite3'}"
        return
    url = testdb.create_postgres_database("portal_restore")
    yield url
    testdb.drop_postgres_database(url)


@pytest.fixture
def empty_target(settings: Settings, tmp_path: Path, new_database_url: str) -> Settings:
    """An installation with nothing in it, apart from the source."""
    return dataclasses.replace(
        settings, data_dir=tmp_path / "target", database_url=new_database_url
    )


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    return folder / "portal.tar"


def back_up(app: Flask, archive: Path, *options: str) -> Result:
    result = run(app, "backup", "create", str(archive), *options)
    assert result.exit_code == 0, result.output
    return result


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {
            info.name: tar.extractfile(info).read()  # type: ignore[union-attr]
            for info in tar.getmembers()
            if info.isreg()
        }


def stored_files(data_dir: Path) -> list[Path]:
    return sorted(path for path in (data_dir / "files").rglob("*") if path.is_file())


def key_files(data_dir: Path) -> dict[str, bytes]:
    return {name: (data_dir / name).read_bytes() for name in KEY_FILES}


def portal_tables(settings: Settings) -> list[str]:
    if settings.sqlite_path is not None:
        if not settings.sqlite_path.exists():
            return []
        with sqlite3.connect(settings.sqlite_path) as connection:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            return [row[0] for row in rows]
    engine = create_engine(settings.database_url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def assert_untouched(target: Settings, keys_before: dict[str, bytes]) -> None:
    """Nothing of a refused backup was written into ``target``."""
    assert portal_tables(target) == []
    assert stored_files(target.data_dir) == []
    assert key_files(target.data_dir) == keys_before
    assert not [path for path in target.data_dir.iterdir() if path.name.startswith(".")]


def refused_restore(target: Settings, archive: Path) -> str:
    """Restore ``archive`` into ``target`` and check it was refused with nothing written."""
    with app_on(target) as app:
        keys_before = key_files(target.data_dir)
        result = run(app, "backup", "restore", str(archive))
    assert result.exit_code == 1, result.output
    assert "Nothing was changed" in result.output
    assert_untouched(target, keys_before)
    return result.output


def case_ids(app: Flask) -> list[uuid.UUID]:
    with Session(app.extensions["portal_db"].engine) as db:
        return list(db.scalars(select(Case.id)))


def assert_every_case_opens(app: Flask, complaints: list[Filed]) -> None:
    """Each reporter reads their case with the receipt; the caseworker, signed in with the
    password, reads every case and downloads the attachment unchanged."""
    for complaint in complaints:
        reporter = app.test_client()
        assert open_follow_up(reporter, complaint.receipt).status_code == 302
        page = reporter.get("/follow-up/case")
        assert page.status_code == 200
        assert complaint.message in page.get_data(as_text=True)
    staff = app.test_client()
    sign_in(staff, CASEWORKER, PASSWORD)
    pages = {}
    for case_id in case_ids(app):
        response = staff.get(f"/caseworker/cases/{case_id}")
        assert response.status_code == 200
        pages[case_id] = response.get_data(as_text=True)
    assert len(pages) == len(complaints)
    for complaint in complaints:
        (page,) = [page for page in pages.values() if complaint.text in page]
        assert complaint.message in page
        if complaint.attachment is not None:
            (link,) = FILE_LINK.findall(page)
            download = staff.get(link)
            assert download.status_code == 200
            assert download.data == complaint.attachment


def secrets_of(complaints: list[Filed]) -> dict[str, bytes]:
    found = {"password": PASSWORD.encode()}
    for number, complaint in enumerate(complaints, 1):
        found[f"text {number}"] = complaint.text.encode()
        found[f"message {number}"] = complaint.message.encode()
        found[f"receipt {number}"] = complaint.receipt.encode()
        found[f"receipt digits {number}"] = complaint.receipt.replace(" ", "").encode()
        if complaint.attachment is not None:
            found[f"attachment {number}"] = complaint.attachment[:64]
    return found


# --- create, destroy, restore -------------------------------------------------------------------


def test_a_restored_backup_opens_every_case_with_its_receipt_and_the_password(
    portal: Portal, settings: Settings, filed: list[Filed], archive: Path, new_database_url: str
) -> None:
    result = back_up(portal.app, archive)

    assert "Key files: server_mac_key and secret_key included." in result.output
    assert "Files: 1 encrypted file(s)" in result.output
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert [path.name for path in archive.parent.iterdir()] == [archive.name]
    data = archive.read_bytes()
    assert find_in_bytes(data, secrets_of(filed)) == []
    inside = members(archive)
    manifest = json.loads(inside[MANIFEST])
    assert manifest["file_count"] == 1
    assert manifest["database"] == ("postgresql" if testdb.on_postgres() else "sqlite")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", manifest["created"])
    (stored,) = stored_files(settings.data_dir)
    assert inside[f"files/{stored.parent.name}/{stored.name}"] == stored.read_bytes()
    assert {f"keys/{name}" for name in KEY_FILES} <= set(inside)

    # Destroy everything: the data dir, and the database (its tables emptied on PostgreSQL,
    # where the restore goes into a new, empty database).
    portal.app.extensions["portal_db"].dispose()
    shutil.rmtree(settings.data_dir)
    if testdb.on_postgres():
        testdb.truncate_all(settings.database_url)
    target = dataclasses.replace(
        settings, database_url=new_database_url if testdb.on_postgres() else settings.database_url
    )
    with app_on(target) as restoring:
        restored = run(restoring, "backup", "restore", str(archive))

    assert restored.exit_code == 0, restored.output
    assert "Files: 1 encrypted file(s) restored" in restored.output
    assert "audit chain intact" in restored.output
    assert "Restore complete" in restored.output
    assert key_files(target.data_dir) == {name: inside[f"keys/{name}"] for name in KEY_FILES}
    assert [path.read_bytes() for path in stored_files(target.data_dir)] == [stored_bytes(inside)]
    if target.sqlite_path is not None:
        assert stat.S_IMODE(target.sqlite_path.stat().st_mode) == 0o600
    with app_on(target) as fresh:
        assert_every_case_opens(fresh, filed)


def test_a_backup_is_taken_while_a_write_is_in_progress_and_holds_only_what_was_committed(
    portal: Portal, filed: list[Filed], archive: Path, empty_target: Settings
) -> None:
    engine = portal.app.extensions["portal_db"].engine
    with engine.connect() as writer:
        transaction = writer.begin()
        writer.execute(text("DELETE FROM cases"))  # not committed while the backup runs
        assert writer.execute(text("SELECT count(*) FROM cases")).scalar() == 0
        back_up(portal.app, archive)
        transaction.rollback()

    with app_on(empty_target) as app:
        result = run(app, "backup", "restore", str(archive))
        assert result.exit_code == 0, result.output
        assert len(case_ids(app)) == len(filed)


def stored_bytes(inside: dict[str, bytes]) -> bytes:
    (data,) = [data for name, data in inside.items() if name.startswith("files/")]
    return data


# --- refusals -----------------------------------------------------------------------------------


def test_restore_refuses_an_installation_that_holds_a_database(
    portal: Portal, filed: list[Filed], archive: Path
) -> None:
    back_up(portal.app, archive)
    keys_before = key_files(portal.settings.data_dir)
    files_before = stored_files(portal.settings.data_dir)

    result = run(portal.app, "backup", "restore", str(archive))

    assert result.exit_code == 1, result.output
    assert "already holds portal tables" in result.output
    assert "Nothing was changed" in result.output
    assert key_files(portal.settings.data_dir) == keys_before
    assert stored_files(portal.settings.data_dir) == files_before
    assert len(case_ids(portal.app)) == 2


def test_restore_refuses_a_data_dir_that_holds_files(
    portal: Portal, filed: list[Filed], archive: Path, empty_target: Settings
) -> None:
    back_up(portal.app, archive)
    stray = empty_target.data_dir / "files" / "ab" / ("ab" + "0" * 30)
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left over")

    with app_on(empty_target) as app:
        result = run(app, "backup", "restore", str(archive))

    assert result.exit_code == 1, result.output
    assert "already holds files" in result.output
    assert portal_tables(empty_target) == []
    assert stored_files(empty_target.data_dir) == [stray]


def flip_one_byte(archive: Path, member: str) -> None:
    with tarfile.open(archive) as tar:
        info = tar.getmember(member)
        offset = info.offset_data + info.size // 2
    with archive.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0x01]))


def first_stored_file(archive: Path) -> str:
    return next(name for name in members(archive) if name.startswith("files/"))


@pytest.mark.parametrize(
    "member",
    [
        pytest.param(lambda _archive: DATABASE_MEMBER, id="database"),
        pytest.param(first_stored_file, id="stored-file"),
        pytest.param(lambda _archive: "keys/server_mac_key", id="key-file"),
    ],
)
def test_restore_refuses_a_backup_with_one_byte_changed(
    portal: Portal,
    filed: list[Filed],
    archive: Path,
    empty_target: Settings,
    member: Callable[[Path], str],
) -> None:
    back_up(portal.app, archive)
    name = member(archive)
    flip_one_byte(archive, name)

    output = refused_restore(empty_target, archive)

    assert "not an intact portal backup" in output
    assert f"{name} does not match its SHA-256" in output


def test_restore_refuses_a_truncated_backup(
    portal: Portal, filed: list[Filed], archive: Path, empty_target: Settings
) -> None:
    back_up(portal.app, archive)
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])

    output = refused_restore(empty_target, archive)

    assert "not an intact portal backup" in output


def rewrite_manifest(archive: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Repack ``archive`` with its manifest changed by ``change`` (every other member kept)."""
    with tarfile.open(archive) as tar:
        kept = [(info, tar.extractfile(info).read() if info.isreg() else b"") for info in tar]  # type: ignore[union-attr]
    with tarfile.open(archive, "w") as tar:
        for info, data in kept:
            if info.name == MANIFEST:
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)


def test_restore_refuses_a_backup_from_a_newer_schema(
    portal: Portal, filed: list[Filed], archive: Path, empty_target: Settings
) -> None:
    back_up(portal.app, archive)
    rewrite_manifest(archive, lambda manifest: manifest.update(schema_revision="9999_future"))

    output = refused_restore(empty_target, archive)

    assert "schema revision 9999_future, newer than this version of the portal" in output


def test_a_repacked_backup_still_restores(
    portal: Portal, filed: list[Filed], archive: Path, empty_target: Settings
) -> None:
    """The refusal above is the schema's, not the repacking's."""
    back_up(portal.app, archive)
    rewrite_manifest(archive, lambda _manifest: None)

    with app_on(empty_target) as app:
        result = run(app, "backup", "restore", str(archive))

    assert result.exit_code == 0, result.output


@pytest.fixture
def older_installation(settings: Settings, tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    """An installation whose database is one migration behind the code, and that revision."""
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    head = script.get_revision(migrate.head_revision())
    assert head is not None and isinstance(head.down_revision, str)
    previous = head.down_revision
    if testdb.on_postgres():
        url = testdb.create_postgres_database("portal_old")
    else:
        (tmp_path / "old").mkdir()
        url = f"sqlite:///{tmp_path / 'old' / 'portal.sqlite3'}"
    engine = create_engine(url)
    migrate.upgrade(engine, previous)
    engine.dispose()
    yield dataclasses.replace(settings, data_dir=tmp_path / "old", database_url=url), previous
    if testdb.on_postgres():
        testdb.drop_postgres_database(url)


def test_a_backup_of_an_older_schema_is_migrated_when_restored(
    older_installation: tuple[Settings, str], archive: Path, empty_target: Settings
) -> None:
    older, previous = older_installation
    with app_on(older) as app:
        made = back_up(app, archive)
    assert f"at schema revision {previous}" in made.output

    with app_on(empty_target) as app:
        result = run(app, "backup", "restore", str(archive))

    assert result.exit_code == 0, result.output
    assert f"migrated from revision {previous} to {migrate.head_revision()}" in result.output
    engine = create_engine(empty_target.database_url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


# --- key files kept apart -----------------------------------------------------------------------


def test_without_keys_leaves_the_key_files_out_and_restore_then_requires_them(
    portal: Portal, settings: Settings, filed: list[Filed], archive: Path, empty_target: Settings
) -> None:
    result = back_up(portal.app, archive, "--without-keys")

    assert "left out (--without-keys)" in result.output
    inside = members(archive)
    assert not [name for name in inside if name.startswith("keys/")]
    keys = key_files(settings.data_dir)
    data = archive.read_bytes()
    assert not [name for name, key in keys.items() if key in data]

    # The target's own key files (made when its app started) are not the backup's: refused.
    output = refused_restore(empty_target, archive)
    assert "made --without-keys" in output
    assert "server_mac_key and secret_key" in output

    # The operator puts the key files kept apart in place first; then it restores.
    for name, key in keys.items():
        (empty_target.data_dir / name).write_bytes(key)
    with app_on(empty_target) as app:
        restored = run(app, "backup", "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "Key files: not in this backup" in restored.output
    assert key_files(empty_target.data_dir) == keys
    with app_on(empty_target) as fresh:
        assert_every_case_opens(fresh, filed)


# --- create -------------------------------------------------------------------------------------


def test_create_never_replaces_a_file(portal: Portal, archive: Path) -> None:
    archive.write_bytes(b"an earlier backup")

    result = run(portal.app, "backup", "create", str(archive))

    assert result.exit_code == 1
    assert "already exists" in result.output
    assert archive.read_bytes() == b"an earlier backup"
    assert [path.name for path in archive.parent.iterdir()] == [archive.name]


def test_create_wants_a_tar_file_name(portal: Portal, archive: Path) -> None:
    result = run(portal.app, "backup", "create", str(archive.with_suffix("")))

    assert result.exit_code == 1
    assert "ending in .tar" in result.output
    assert list(archive.parent.iterdir()) == []
