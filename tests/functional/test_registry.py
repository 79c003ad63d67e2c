"""The registries' CSV: exported, edited, imported back; all or nothing; no formula injection."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from portal import registry
from portal.models import Company, Procedure
from tests.conftest import Portal

HEADER = ",".join(registry.PROCEDURE_COLUMNS)


def test_the_starter_catalogue_is_valid_and_every_entry_is_unverified(portal: Portal) -> None:
    with portal.app.app_context(), portal.db as db:
        added = registry.load_starter_catalogue(db)
        db.commit()
        rows = db.scalars(select(Procedure)).all()
    assert added == len(rows) >= 30
    assert all(row.last_verified is None and row.active for row in rows)
    assert all(row.contact.startswith("https://") for row in rows)
    good_offices = [row for row in rows if row.kind == "good_offices"]
    assert good_offices and good_offices[0].covers("CD") and good_offices[0].covers(None)


def test_an_export_imports_back_unchanged(portal: Portal) -> None:
    with portal.app.app_context(), portal.db as db:
        registry.load_starter_catalogue(db)
        db.commit()
        before = registry.export_procedures(db)
        result = registry.import_procedures(db, before)
        db.commit()
        after = registry.export_procedures(db)
    assert result.added == 0 and result.updated > 30
    assert after == before


def test_an_import_adds_and_updates_by_key(portal: Portal) -> None:
    text = (
        HEADER
        + "\r\nncp-zz,ncp,Test NCP,zz fr,fr EN,confidential,no,,,https://ncp.example,,2026-10-01,yes"
        + "\r\ncao,dfi,CAO renamed,*,en,confidential,yes,,,https://cao.example,,,"
    )
    with portal.app.app_context(), portal.db as db:
        registry.load_starter_catalogue(db)
        result = registry.import_procedures(db, text)
        db.commit()
        added = db.scalar(select(Procedure).where(Procedure.key == "ncp-zz"))
        cao = db.scalar(select(Procedure).where(Procedure.key == "cao"))
    assert (result.added, result.updated) == (1, 1)
    assert added is not None and cao is not None
    assert (added.countries, added.languages, added.identity_required) == ("ZZ FR", "fr en", False)
    assert added.last_verified is not None and added.last_verified.isoformat() == "2026-10-01"
    assert cao.name == "CAO renamed"


def test_an_import_with_problems_changes_nothing_and_names_each_line(portal: Portal) -> None:
    text = (
        HEADER
        + "\r\ngood-one,ncp,Fine,FR,fr,no,yes,,,https://x.example,,,"
        + "\r\nBad Key!,court,,FRA,french,perhaps,maybe,,,,,31/12/2026,"
        + "\r\ngood-one,ncp,Twice,FR,fr,no,yes,,,https://x.example,,,"
    )
    with portal.app.app_context(), portal.db as db:
        with pytest.raises(registry.ImportRefused) as refused:
            registry.import_procedures(db, text)
        db.rollback()
        assert db.scalars(select(Procedure)).all() == []
    lines = {problem.line for problem in refused.value.problems}
    texts = " ".join(problem.text for problem in refused.value.problems)
    assert lines == {3, 4}
    for expected in ("key", "kind", "name", "FRA", "french", "accepts_anonymous", "YYYY-MM-DD"):
        assert expected in texts, expected
    assert "Line 2 has the same key" in texts


def test_missing_columns_are_named(portal: Portal) -> None:
    with (
        portal.app.app_context(),
        portal.db as db,
        pytest.raises(registry.ImportRefused) as refused,
    ):
        registry.import_companies(db, "name,countries\r\nShield,KE\r\n")
    assert "membership" in refused.value.problems[0].text
    assert refused.value.problems[0].line == 1


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://evil")', "+1+1", "-2", "@SUM(A1)"])
def test_cells_a_spreadsheet_would_run_are_exported_inert_and_read_back_as_typed(
    portal: Portal, payload: str
) -> None:
    with portal.app.app_context(), portal.db as db:
        db.add(Company(name="Shield", grievance_contact=payload, countries="KE"))
        db.commit()
        exported = registry.export_companies(db)
        (row,) = list(csv.DictReader(io.StringIO(exported)))
        assert row["grievance_contact"] == "'" + payload
        registry.import_companies(db, exported)
        db.commit()
        company = db.scalar(select(Company).where(Company.name == "Shield"))
    assert company is not None and company.grievance_contact == payload


def test_companies_import_with_membership_and_response_time(portal: Portal) -> None:
    text = (
        "name,membership,countries,grievance_contact,response_days\r\n"
        "Shield Ltd,member,KE UG,grievance@shield.example,30\r\n"
        "Old Guard,former,,,\r\n"
    )
    with portal.app.app_context(), portal.db as db:
        result = registry.import_companies(db, text)
        db.commit()
        companies = {c.name: c for c in db.scalars(select(Company))}
    assert (result.added, result.updated) == (2, 0)
    assert companies["Shield Ltd"].response_days == 30
    assert companies["Shield Ltd"].country_codes == ["KE", "UG"]
    assert companies["Old Guard"].membership == "former"
    assert not companies["Old Guard"].is_member
