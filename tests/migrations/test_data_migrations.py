"""Migrations that change tables holding data are tested with data in them."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import text

from portal import migrate
from tests.migrations.test_migrations import empty_database_url, engine  # noqa: F401 - fixtures


def _insert_case_at_0001(connection, case_id: uuid.UUID) -> None:  # type: ignore[no-untyped-def]
    connection.execute(
        text(
            "INSERT INTO cases (id, reference, received_on, stage, stage_changed_on, language,"
            " channel, urgent) VALUES (:id, 'ABCD-2345', :day, 'received', :day, 'fr',"
            " 'anonymous', :urgent)"
        ),
        {
            "id": case_id.hex if connection.dialect.name == "sqlite" else case_id,
            "day": date(2026, 1, 5),
            "urgent": False,
        },
    )


def test_0002_gives_existing_cases_the_meaning_they_had(engine):  # noqa: F811
    migrate.upgrade(engine, "0001")
    case_id = uuid.uuid4()
    with engine.begin() as connection:
        _insert_case_at_0001(connection, case_id)
    migrate.upgrade(engine, "0002")
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT kind, filer, identity_to_company, identity_to_bodies, outcome, language"
                " FROM cases"
            )
        ).one()
    assert tuple(row) == ("harm", "self", "unasked", "unasked", None, "fr")
    migrate.downgrade(engine, "0001")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT language FROM cases")).scalar_one() == "fr"
