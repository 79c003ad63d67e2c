"""Retention and erasure (P8): what is due is erased for good, nothing else is touched."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal import retention
from portal.models import (
    AuditEvent,
    Case,
    Compartment,
    Grant,
    ReceiptLock,
    Record,
    Role,
    StoredFile,
    today,
)
from tests.conftest import Portal, csrf_token
from tests.functional.helpers import case_url, staff_client
from tests.support.database import on_postgres
from tests.support.filing import file_complaint

SUPERVISOR = "supervisor@example.org"


def _file(portal: Portal, text: str, attachment: bytes | None = None) -> tuple[str, Case]:
    client = portal.app.test_client()
    with portal.db as db:
        before = set(db.scalars(select(Case.id)))
    files = [("evidence.jpg", attachment)] if attachment else []
    receipt = file_complaint(client, text=text, files=files)  # type: ignore[arg-type]
    with portal.db as db:
        (case,) = [c for c in db.scalars(select(Case)) if c.id not in before]
    return receipt, case


def _close(portal: Portal, case: Case, outcome: str, days_ago: int) -> None:
    with portal.db as db:
        db.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(
                stage="closed", outcome=outcome, stage_changed_on=today() - timedelta(days=days_ago)
            )
        )
        db.commit()


def _secrets_of(portal: Portal, case: Case) -> list[bytes]:
    """Every wrap of the case's keys, and its record ciphertexts."""
    with portal.db as db:
        compartments = list(
            db.scalars(select(Compartment.id).where(Compartment.case_id == case.id))
        )
        wraps = list(db.scalars(select(Grant.wrap).where(Grant.compartment_id.in_(compartments))))
        locks = list(db.scalars(select(ReceiptLock.wrap).where(ReceiptLock.case_id == case.id)))
        records = list(db.scalars(select(Record.ciphertext).where(Record.case_id == case.id)))
    assert wraps and locks and records
    return [bytes(w) for w in (*wraps, *locks, *records)]


def _raw_database(portal: Portal) -> bytes:
    path = Path(portal.settings.sqlite_path)  # type: ignore[arg-type]
    raw = b""
    for suffix in ("", "-wal"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            raw += candidate.read_bytes()
    return raw


def test_purge_erases_what_is_due_and_leaves_no_key_material_behind(portal: Portal) -> None:
    portal.account("worker@example.org")
    _, old_withdrawn = _file(portal, "Withdrawn long ago", b"\xff\xd8 old evidence bytes")
    _, recent_withdrawn = _file(portal, "Withdrawn yesterday")
    _, spam = _file(portal, "Spam never acknowledged")
    _, kept_closed = _file(portal, "Remedied last year")
    _, open_case = _file(portal, "Still open")
    _close(portal, old_withdrawn, "withdrawn", 91)
    _close(portal, recent_withdrawn, "withdrawn", 1)
    _close(portal, spam, "not_eligible", 31)
    _close(portal, kept_closed, "remedied", 365)
    secrets = _secrets_of(portal, old_withdrawn)
    with portal.db as db:
        stored = list(
            db.scalars(select(StoredFile.id).where(StoredFile.case_id == old_withdrawn.id))
        )
    assert stored and portal.data_dir.file_path(stored[0].hex).exists()

    dry = portal.app.test_cli_runner().invoke(args=["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"Would erase case {old_withdrawn.reference} (withdrawn)" in dry.output
    assert f"Would erase case {spam.reference} (spam)" in dry.output
    assert "Would erase 2 case(s)." in dry.output
    with portal.db as db:
        assert len(db.scalars(select(Case)).all()) == 5

    run = portal.app.test_cli_runner().invoke(args=["purge"])

    assert run.exit_code == 0, run.output
    assert "Erased 2 case(s)." in run.output
    with portal.db as db:
        left = set(db.scalars(select(Case.id)))
        events = db.execute(
            select(AuditEvent.case_id, AuditEvent.detail).where(AuditEvent.action == "case.purged")
        ).all()
        assert db.scalar(select(Record.id).where(Record.case_id == old_withdrawn.id)) is None
        assert db.scalar(select(ReceiptLock.case_id).where(ReceiptLock.case_id == spam.id)) is None
    assert left == {recent_withdrawn.id, kept_closed.id, open_case.id}
    assert set(events) == {(old_withdrawn.id, "withdrawn"), (spam.id, "spam")}
    assert not portal.data_dir.file_path(stored[0].hex).exists()
    if not on_postgres():
        # P8: secure_delete overwrote the freed pages; not one wrap or ciphertext is left.
        raw = _raw_database(portal)
        assert raw
        for secret in secrets:
            assert secret not in raw


def test_orphan_ciphertext_is_removed_once_old_and_stored_files_never(portal: Portal) -> None:
    _file(portal, "With a file", b"\xff\xd8 kept bytes")
    with portal.db as db:
        (kept,) = db.scalars(select(StoredFile.id)).all()
    orphan = portal.data_dir.file_path("ab" + "0" * 30)
    orphan.parent.mkdir(mode=0o700, exist_ok=True)
    orphan.write_bytes(b"ciphertext a killed worker left behind")

    with portal.db as db:
        young = retention.remove_orphan_files(db, portal.data_dir)
        old = retention.remove_orphan_files(db, portal.data_dir, now=time.time() + 7200)

    assert (young, old) == (0, 1)
    assert not orphan.exists()
    assert portal.data_dir.file_path(kept.hex).exists()


def _withdraw(portal: Portal, receipt: str, erase: bool) -> FlaskClient:
    client = portal.app.test_client()
    token = csrf_token(client, "/follow-up")
    client.post("/follow-up", data={"csrf_token": token, "receipt": receipt})
    form = {"csrf_token": csrf_token(client, "/follow-up/withdraw")}
    if erase:
        form["erase"] = "1"
    response = client.post("/follow-up/withdraw", data=form)
    assert response.status_code == 302
    return client


def test_a_reporter_asks_for_erasure_and_a_supervisor_confirms_it(portal: Portal) -> None:
    portal.account(SUPERVISOR, Role.SUPERVISOR)
    portal.account("worker@example.org")
    receipt, case = _file(portal, "Please erase all of this", b"\xff\xd8 erase me")
    secrets = _secrets_of(portal, case)
    _withdraw(portal, receipt, erase=True)
    with portal.db as db:
        assert db.get(Case, case.id).erasure_requested_on == today()  # type: ignore[union-attr]

    worker = staff_client(portal, "worker@example.org")
    assert 'id="erasure"' not in worker.get(case_url(case.id)).get_data(as_text=True)
    token = csrf_token(worker, case_url(case.id))
    assert (
        worker.post(
            f"{case_url(case.id)}/erase", data={"csrf_token": token, "confirm": "1"}
        ).status_code
        == 404
    )
    supervisor = staff_client(portal, SUPERVISOR)
    page = supervisor.get(case_url(case.id)).get_data(as_text=True)
    assert "The reporter asked for erasure" in page
    token = csrf_token(supervisor, case_url(case.id))
    unconfirmed = supervisor.post(f"{case_url(case.id)}/erase", data={"csrf_token": token})
    assert unconfirmed.status_code == 400

    erased = supervisor.post(
        f"{case_url(case.id)}/erase", data={"csrf_token": token, "confirm": "1"}
    )

    assert erased.status_code == 302
    assert "The case was erased." in supervisor.get(erased.headers["Location"]).get_data(
        as_text=True
    )
    with portal.db as db:
        assert db.get(Case, case.id) is None
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == "case.purged"))
        assert event is not None and event.detail == "erasure_requested"
    assert supervisor.get(case_url(case.id)).status_code == 404
    if not on_postgres():
        raw = _raw_database(portal)
        for secret in secrets:
            assert secret not in raw
    # The receipt opens nothing any more.
    client = portal.app.test_client()
    token = csrf_token(client, "/follow-up")
    again = client.post("/follow-up", data={"csrf_token": token, "receipt": receipt})
    assert again.status_code == 400  # the second check from this address: under every limit
    assert "We found no complaint with this receipt number." in again.get_data(as_text=True)
    assert "Location" not in again.headers


def test_a_plain_withdrawal_does_not_ask_for_erasure(portal: Portal) -> None:
    receipt, case = _file(portal, "Withdraw only")
    _withdraw(portal, receipt, erase=False)
    with portal.db as db:
        assert db.get(Case, case.id).erasure_requested_on is None  # type: ignore[union-attr]
