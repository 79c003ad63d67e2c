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


def _uuid(connection, value: uuid.UUID) -> object:  # type: ignore[no-untyped-def]
    return value.hex if connection.dialect.name == "sqlite" else value


def _seed_at_0004(engine) -> tuple[uuid.UUID, uuid.UUID]:  # type: ignore[no-untyped-def]  # noqa: F811
    """Two accounts, three cases: one case granted to both, one compartment retired, one
    identity compartment (not counted), one grant to the recovery key (not counted)."""
    migrate.upgrade(engine, "0004")
    alice, bob = uuid.uuid4(), uuid.uuid4()
    cases = [uuid.uuid4() for _ in range(3)]
    with engine.begin() as connection:
        for account_id, email in ((alice, "a@example.org"), (bob, "b@example.org")):
            connection.execute(
                text(
                    "INSERT INTO accounts (id, email, display_name, role, is_active,"
                    " in_intake_team, public_key, public_key_mac, wrapped_private_key,"
                    " created_at, password_changed_at, failed_signins, notify_digest)"
                    " VALUES (:id, :email, 'A', 'caseworker', :yes, :yes, :key, :key, :key,"
                    " :now, :now, 0, :no)"
                ),
                {
                    "id": _uuid(connection, account_id),
                    "email": email,
                    "yes": True,
                    "no": False,
                    "key": b"k" * 32,
                    "now": date(2026, 1, 5),
                },
            )
        for number, (case_id, stage) in enumerate(
            zip(cases, ("received", "closed", "closed"), strict=True)
        ):
            connection.execute(
                text(
                    "INSERT INTO cases (id, reference, received_on, stage, stage_changed_on,"
                    " language, channel, urgent, kind, filer, identity_to_company,"
                    " identity_to_bodies) VALUES (:id, :ref, :day, :stage, :day, 'fr',"
                    " 'anonymous', :no, 'harm', 'self', 'unasked', 'unasked')"
                ),
                {
                    "id": _uuid(connection, case_id),
                    "ref": f"REF-{number}",
                    "day": date(2026, 1, 5),
                    "stage": stage,
                    "no": False,
                },
            )

        def compartment(case_id: uuid.UUID, kind: str, retired: bool) -> uuid.UUID:
            compartment_id = uuid.uuid4()
            connection.execute(
                text(
                    "INSERT INTO compartments (id, case_id, kind, public_key, public_key_mac,"
                    " created_at, retired_at) VALUES (:id, :case, :kind, :key, :key, :now,"
                    " :retired)"
                ),
                {
                    "id": _uuid(connection, compartment_id),
                    "case": _uuid(connection, case_id),
                    "kind": kind,
                    "key": b"k" * 32,
                    "now": date(2026, 1, 5),
                    "retired": date(2026, 1, 6) if retired else None,
                },
            )
            return compartment_id

        def grant(compartment_id: uuid.UUID, account_id: uuid.UUID | None) -> None:
            connection.execute(
                text(
                    "INSERT INTO grants (id, compartment_id, holder, account_id, wrap, mac,"
                    " created_at) VALUES (:id, :compartment, :holder, :account, :key, :key, :now)"
                ),
                {
                    "id": _uuid(connection, uuid.uuid4()),
                    "compartment": _uuid(connection, compartment_id),
                    "holder": "account" if account_id else "recovery",
                    "account": _uuid(connection, account_id) if account_id else None,
                    "key": b"k" * 32,
                    "now": date(2026, 1, 5),
                },
            )

        first = compartment(cases[0], "case", retired=False)
        grant(first, alice)
        grant(first, bob)
        grant(first, None)
        grant(compartment(cases[0], "identity", retired=False), alice)
        grant(compartment(cases[1], "case", retired=True), alice)  # retired: not counted
        current = compartment(cases[1], "case", retired=False)
        grant(current, alice)
        grant(compartment(cases[2], "case", retired=False), alice)

    return alice, bob


def test_0005_counts_the_cases_each_account_already_holds(engine):  # noqa: F811
    alice, bob = _seed_at_0004(engine)

    migrate.upgrade(engine, "0005")

    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT account_id, stage, cases FROM stage_tallies ORDER BY stage, cases")
        ).all()
    found = {(uuid.UUID(str(account)), stage, number) for account, stage, number in rows}
    assert found == {(alice, "received", 1), (bob, "received", 1), (alice, "closed", 2)}
    migrate.downgrade(engine, "0004")


def test_upgrading_to_head_keeps_every_row_of_the_tables_below_cases(engine):  # noqa: F811
    """SQLite alters a table by copying it and dropping the old one; with foreign keys on, a
    dropped ``cases`` would take every compartment, grant and record with it (ON DELETE
    CASCADE). Every row below ``cases`` survives every migration to head, and back."""
    _seed_at_0004(engine)

    def counts() -> dict[str, int]:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("cases", "compartments", "grants", "accounts")
            }

    before = counts()
    migrate.upgrade(engine, "head")
    after = counts()
    migrate.downgrade(engine, "0004")
    again = counts()

    assert before == after == again, (before, after, again)
    assert before["grants"] == 7
