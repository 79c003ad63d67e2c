"""Every readable column of a case's tables is listed in the clear-metadata registry."""

from __future__ import annotations

from portal.clear_metadata import (
    CASE_TABLES,
    CLEAR_REPORTER_ANSWERS,
    ENCRYPTED_COLUMNS,
    SYSTEM_COLUMNS,
)
from portal.models import Base


def _columns() -> set[str]:
    return {
        f"{table}.{column.name}"
        for table in CASE_TABLES
        for column in Base.metadata.tables[table].columns
    }


def test_every_column_of_a_case_is_registered_as_clear_system_or_encrypted():
    registered = set(CLEAR_REPORTER_ANSWERS) | set(SYSTEM_COLUMNS) | ENCRYPTED_COLUMNS
    unregistered = _columns() - registered
    assert not unregistered, f"register these in portal/clear_metadata.py: {sorted(unregistered)}"


def test_the_registry_names_no_column_that_does_not_exist():
    registered = set(CLEAR_REPORTER_ANSWERS) | set(SYSTEM_COLUMNS) | ENCRYPTED_COLUMNS
    assert registered <= _columns()


def test_the_registry_lists_each_column_once():
    lists = [set(CLEAR_REPORTER_ANSWERS), set(SYSTEM_COLUMNS), set(ENCRYPTED_COLUMNS)]
    assert sum(len(names) for names in lists) == len(set().union(*lists))
