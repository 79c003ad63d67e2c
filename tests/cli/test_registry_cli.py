"""``setup`` loads the starter catalogue once; ``account create --role company --company``."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from portal.models import Account, Company, Procedure
from tests.cli.test_cli import create, database, fresh_app, run  # noqa: F401 - fixture


def test_setup_loads_the_starter_catalogue_once_and_marks_it_unverified(
    fresh_app: Flask,  # noqa: F811
    tmp_path: Path,
) -> None:
    first = run(fresh_app, "setup", "--recovery-file", str(tmp_path / "r1"))
    with database(fresh_app) as db:
        loaded = [(p.key, p.kind, p.last_verified) for p in db.scalars(select(Procedure))]
        db.execute(Procedure.__table__.delete().where(Procedure.key == "cao"))
        db.commit()
    keys = {key for key, _kind, _verified in loaded}
    again = run(fresh_app, "setup")

    assert first.exit_code == 0, first.output
    assert f"Loaded {len(loaded)} alternative procedures" in first.output
    assert len(loaded) >= 30
    assert {"cao", "eib-cm"} <= keys
    assert {kind for _key, kind, _verified in loaded} >= {"ncp", "nhri", "dfi", "un_procedure"}
    assert all(verified is None for _key, _kind, verified in loaded)
    # A registry the operator has started editing is never refilled or overwritten.
    assert "Loaded" not in again.output
    with database(fresh_app) as db:
        assert db.scalar(select(func.count()).select_from(Procedure)) == len(loaded) - 1


def test_a_company_account_belongs_to_its_company_added_if_missing(
    fresh_app: Flask,  # noqa: F811
    tmp_path: Path,
) -> None:
    run(fresh_app, "setup", "--recovery-file", str(tmp_path / "r"))

    first = create(
        fresh_app, "officer@shield.example", "--role", "company", "--company", "Shield Ltd"
    )
    second = create(
        fresh_app, "second@shield.example", "--role", "company", "--company", "  shield   ltd "
    )

    assert first.exit_code == 0, first.output
    assert "of Shield Ltd" in first.output
    assert second.exit_code == 0, second.output
    with database(fresh_app) as db:
        (company,) = db.scalars(select(Company)).all()
        officers = db.scalars(select(Account).order_by(Account.email)).all()
    assert (company.name, company.membership) == ("Shield Ltd", "member")
    assert [(a.role, a.company_id, a.in_intake_team) for a in officers] == [
        ("company", company.id, False),
        ("company", company.id, False),
    ]


def test_company_goes_with_the_company_role_only(fresh_app: Flask) -> None:  # noqa: F811
    without = create(fresh_app, "officer@shield.example", "--role", "company")
    misplaced = create(fresh_app, "cw@example.org", "--company", "Shield Ltd")

    for result in (without, misplaced):
        assert result.exit_code != 0
        assert "--company NAME is needed with --role company" in result.output
    with database(fresh_app) as db:
        assert db.scalar(select(func.count()).select_from(Account)) == 0
        assert db.scalar(select(func.count()).select_from(Company)) == 0
