"""Many reporters at once: every filing ends with a receipt and every receipt opens its case.

The load of ``bench/load.py`` (the bench prints the figures), here with fewer reporters so that
it fits in CI: each files the whole multi-step form over HTTP with a 1 MB attachment, all at
the same moment, against gunicorn with 4 workers at production settings (production Argon2id),
on SQLite and on a throwaway PostgreSQL cluster. Nothing about time is asserted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.load import run
from tests.support.database import on_postgres

pytestmark = [
    pytest.mark.slow,
    # It runs both databases itself: once per suite run is enough, not again in the
    # PostgreSQL pass.
    pytest.mark.skipif(on_postgres(), reason="covers SQLite and PostgreSQL in the SQLite pass"),
]

REPORTERS = 50


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_concurrent_filings_all_get_receipts_that_open_their_cases(
    tmp_path: Path, database: str
) -> None:
    result = run(database, REPORTERS, tmp_path)

    assert result.errors == []
    assert result.filed == REPORTERS
    assert result.lost == []
    # One case, one receipt lock and one notice to the intake caseworker per receipt: nothing
    # half-stored, nothing stored twice.
    assert len(set(result.receipts)) == REPORTERS
    assert result.cases_stored == result.receipt_locks == REPORTERS
    assert result.mails == REPORTERS
