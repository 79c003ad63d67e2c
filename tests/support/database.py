"""Test databases: a fresh SQLite file per test, or a truncated PostgreSQL database.

Set ``PORTAL_TEST_DATABASE_URL`` (``postgresql+psycopg://...``) to run the suite on PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import migrate
from portal.models import Base

POSTGRES_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")


def on_postgres() -> bool:
    return POSTGRES_URL.startswith("postgresql")


def sqlite_template(directory: Path) -> Path:
    """A SQLite file migrated to head once per session, copied for every test."""
    path = directory / "template.sqlite3"
    if not path.exists():
        engine = create_engine(f"sqlite:///{path}")
        migrate.upgrade(engine)
        engine.dispose()
    return path


def fresh_sqlite(template: Path, directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "portal.sqlite3"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def postgres_admin_url() -> str:
    return make_url(POSTGRES_URL).set(database="postgres").render_as_string(hide_password=False)


def create_postgres_database(prefix: str) -> str:
    """A new, empty PostgreSQL database on the test server; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
