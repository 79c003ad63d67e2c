"""The Alembic migrations, run on an empty database: they build exactly the schema of the models.

Every test starts from a database with no tables at all (a new SQLite file, or a new PostgreSQL
database when ``PORTAL_TEST_DATABASE_URL`` is set), and migrates it through the same engine the
app uses (``portal.db.Database``: on SQLite, with ``PRAGMA foreign_keys=ON``), as ``setup`` does.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import CheckConstraint, Engine, UniqueConstraint, inspect

from portal import migrate
from portal.db import Database
from portal.models import Base
from tests.support import database as testdb

PORTAL_TABLES = frozenset(Base.metadata.tables)
ALEMBIC_TABLE = "alembic_version"


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    if testdb.on_postgres():
        url = testdb.create_postgres_database("portal_migrations")
        yield url
        testdb.drop_postgres_database(url)
    else:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"


@pytest.fixture
def engine(empty_database_url: str) -> Iterator[Engine]:
    database = Database(empty_database_url)
    yield database.engine
    database.dispose()


def schema_differences(engine: Engine) -> list[Any]:
    """What autogenerate would write to turn the database into the models' schema."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def revisions_from_base() -> list[Script]:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    return list(reversed(list(script.walk_revisions())))


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_the_database_starts_empty(engine: Engine) -> None:
    # Guards every other test here: they must not run on an already migrated database.
    assert table_names(engine) == set()
    assert migrate.current_revision(engine) is None


def test_upgrade_to_head_creates_every_table_and_records_the_head_revision(
    engine: Engine,
) -> None:
    migrate.upgrade(engine)

    assert table_names(engine) == PORTAL_TABLES | {ALEMBIC_TABLE}
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_upgrade_to_head_builds_exactly_the_schema_of_the_models(engine: Engine) -> None:
    migrate.upgrade(engine)

    # Tables, columns and their types and nullability, indexes, unique and foreign keys.
    assert schema_differences(engine) == []


def test_there_is_one_linear_history_from_base_to_head() -> None:
    revisions = revisions_from_base()

    assert revisions, "no migration scripts found"
    assert revisions[0].down_revision is None
    for earlier, later in itertools.pairwise(revisions):
        assert later.down_revision == earlier.revision
    assert revisions[-1].revision == migrate.head_revision()


def test_every_revision_downgrades_and_upgrades_again(engine: Engine) -> None:
    for script in revisions_from_base():
        migrate.upgrade(engine, script.revision)
        assert migrate.current_revision(engine) == script.revision

        below = script.down_revision
        assert not isinstance(below, tuple), f"{script.revision} is a merge revision"
        migrate.downgrade(engine, below or "base")
        assert migrate.current_revision(engine) == below

        migrate.upgrade(engine, script.revision)
        assert migrate.current_revision(engine) == script.revision

    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert schema_differences(engine) == []


def test_downgrade_to_base_leaves_no_portal_table(engine: Engine) -> None:
    migrate.upgrade(engine)

    migrate.downgrade(engine, "base")

    assert table_names(engine) <= {ALEMBIC_TABLE}
    assert migrate.current_revision(engine) is None
    if engine.dialect.name == "postgresql":
        # audit_events.id is a serial column: its sequence must go with the table.
        assert inspect(engine).get_sequence_names() == []


def test_upgrade_after_a_downgrade_to_base_builds_the_same_schema(engine: Engine) -> None:
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")

    migrate.upgrade(engine)

    assert schema_differences(engine) == []


def reflected_constraints(engine: Engine, table: str) -> dict[str, list[str | None]]:
    inspector = inspect(engine)
    return {
        "pk": [inspector.get_pk_constraint(table).get("name")],
        "fk": [fk["name"] for fk in inspector.get_foreign_keys(table)],
        "uq": [uq["name"] for uq in inspector.get_unique_constraints(table)],
        "ck": [ck["name"] for ck in inspector.get_check_constraints(table)],
    }


def test_every_constraint_name_follows_the_naming_convention(engine: Engine) -> None:
    # SQLAlchemy reads SQLite's constraint names back from the CREATE TABLE text, and the
    # migrations name every constraint there, so the same names are checked on both backends.
    migrate.upgrade(engine)

    unnamed_or_misnamed = [
        (table, kind, name)
        for table in sorted(PORTAL_TABLES)
        for kind, names in reflected_constraints(engine, table).items()
        for name in names
        if not (name or "").startswith(f"{kind}_")
    ]
    assert unnamed_or_misnamed == []


def test_index_names_follow_the_naming_convention(engine: Engine) -> None:
    migrate.upgrade(engine)
    inspector = inspect(engine)

    misnamed = [
        (table, index["name"])
        for table in sorted(PORTAL_TABLES)
        for index in inspector.get_indexes(table)
        # PostgreSQL also lists the index behind each unique constraint; its name is a uq_ one.
        if "duplicates_constraint" not in index and not (index["name"] or "").startswith("ix_")
    ]
    assert misnamed == []


def test_reflected_constraint_names_are_those_the_models_declare(engine: Engine) -> None:
    # compare_metadata ignores check constraints and constraint names; compare them directly.
    migrate.upgrade(engine)

    for table in Base.metadata.sorted_tables:
        declared = {
            "pk": [table.primary_key.name],
            "fk": sorted(fk.name for fk in table.foreign_key_constraints),
            "uq": sorted(c.name for c in table.constraints if isinstance(c, UniqueConstraint)),
            "ck": sorted(c.name for c in table.constraints if isinstance(c, CheckConstraint)),
        }
        reflected = {
            kind: sorted(names, key=str)
            for kind, names in reflected_constraints(engine, table.name).items()
        }
        assert reflected == declared, table.name


def test_foreign_keys_keep_the_on_delete_rules_of_the_models(engine: Engine) -> None:
    migrate.upgrade(engine)
    inspector = inspect(engine)

    for table in Base.metadata.sorted_tables:
        reflected = {
            fk["name"]: (fk["options"].get("ondelete") or "NO ACTION").upper()
            for fk in inspector.get_foreign_keys(table.name)
        }
        declared = {
            fk.constraint.name: (fk.ondelete or "NO ACTION").upper() for fk in table.foreign_keys
        }
        assert reflected == declared, table.name
