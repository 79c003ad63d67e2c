"""Schema migrations through Alembic, driven from the portal's settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` without any ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class ForeignKeyViolationError(RuntimeError):
    """A migration left rows pointing nowhere: it was rolled back."""


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction for migrating.

    On SQLite, Alembic alters a table by copying it to a new one and dropping the old: with
    foreign keys enforced, dropping ``cases`` would cascade-delete every compartment, grant and
    record of every case. So foreign keys are off while migrating (the pragma has no effect
    inside a transaction, hence before it begins), every reference is checked before the
    commit, and they are on again afterwards.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise ForeignKeyViolationError(
                            f"{len(broken)} rows point nowhere: {broken[:3]}"
                        )
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (creating it if empty)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with _migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with _migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
