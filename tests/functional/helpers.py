"""Small helpers shared by the functional tests: database look-ups and signed-in clients."""

from __future__ import annotations

import uuid
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.models import (
    Account,
    Case,
    Compartment,
    CompartmentKind,
    Record,
    RecordKind,
    StoredFile,
)
from tests.conftest import Portal, sign_in


def staff_client(portal: Portal, email: str) -> FlaskClient:
    """A fresh browser, signed in as ``email``."""
    client = portal.app.test_client()
    sign_in(client, email)
    return client


def count(portal: Portal, model: type) -> int:
    with portal.db as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def case_ids(portal: Portal) -> list[uuid.UUID]:
    with portal.db as db:
        return list(db.scalars(select(Case.id)))


def only_case_id(portal: Portal) -> uuid.UUID:
    ids = case_ids(portal)
    assert len(ids) == 1, ids
    return ids[0]


def files_of(portal: Portal, case_id: uuid.UUID) -> list[StoredFile]:
    with portal.db as db:
        return list(db.scalars(select(StoredFile).where(StoredFile.case_id == case_id)))


def record_of(portal: Portal, case_id: uuid.UUID, kind: RecordKind) -> Record:
    with portal.db as db:
        record = db.scalar(select(Record).where(Record.case_id == case_id, Record.kind == kind))
    assert record is not None, (case_id, kind)
    return record


def compartment_of(portal: Portal, case_id: uuid.UUID, kind: CompartmentKind) -> Compartment:
    with portal.db as db:
        compartment = db.scalar(
            select(Compartment).where(Compartment.case_id == case_id, Compartment.kind == kind)
        )
    assert compartment is not None, (case_id, kind)
    return compartment


def account_by_email(portal: Portal, email: str) -> Account:
    with portal.db as db:
        account = db.scalar(select(Account).where(Account.email == email))
    assert account is not None, email
    return account


def case_url(case_id: uuid.UUID) -> str:
    return f"/caseworker/cases/{case_id}"


def file_url(case_id: uuid.UUID, file_id: uuid.UUID) -> str:
    return f"/caseworker/cases/{case_id}/files/{file_id}"


def files_under(directory: Path) -> list[Path]:
    """Every regular file below ``directory``, sorted."""
    return sorted(path for path in directory.rglob("*") if path.is_file())
