"""What rests on the server: sessions hold no usable key (P7), a copy of storage reveals no
content (P2), the receipt is never stored (P5), and the recovery key and the receipt open what
they should, at the level of the data (P6)."""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
import uuid
from datetime import date, datetime

import pytest
from sqlalchemy import select

import crypto
from portal import create_app, vault
from portal.models import (
    Base,
    CompartmentKind,
    Grant,
    GrantHolder,
    Installation,
    ReceiptLock,
    Record,
    RecordKind,
    StaffSession,
)
from tests.conftest import PASSWORD, csrf_token, sign_in
from tests.functional.helpers import (
    account_by_email,
    case_url,
    compartment_of,
    files_under,
    only_case_id,
    record_of,
)
from tests.support.filing import file_complaint

CASEWORKER = "cw@example.org"


def as_bytes(value: object) -> bytes:
    """A column value as the bytes a thief reading the table would see."""
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, uuid.UUID):
        return value.bytes + value.hex.encode() + str(value).encode()
    if isinstance(value, datetime | date):
        return value.isoformat().encode()
    return str(value).encode("utf-8")


def every_stored_value(portal) -> list[tuple[str, str, bytes]]:  # type: ignore[no-untyped-def]
    """(table, column, value) for every column of every row of every table."""
    values = []
    with portal.db as db:
        for table in Base.metadata.sorted_tables:
            for row in db.execute(select(table)).mappings():
                for column, value in row.items():
                    values.append((table.name, column, as_bytes(value)))
    return values


def encodings(text: str) -> list[bytes]:
    return [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]


def files_containing(directory, needles: list[bytes]) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        str(path)
        for path in files_under(directory)
        if any(needle in path.read_bytes() for needle in needles)
    ]


# P7: sessions


def test_session_row_holds_neither_the_private_key_nor_the_cookie_token(portal):
    portal.account(CASEWORKER)
    staff = portal.app.test_client()
    sign_in(staff, CASEWORKER)
    cookie = staff.get_cookie("staff").value
    token = base64.urlsafe_b64decode(cookie)
    account = account_by_email(portal, CASEWORKER)
    private_key = crypto.unlock_account_key(
        account.id, PASSWORD, account.wrapped_private_key, account.public_key
    )
    with portal.db as db:
        (row,) = db.scalars(select(StaffSession)).all()

    assert len(token) == 32
    assert row.id == crypto.session_lookup_id(token)
    assert row.id != token
    assert cookie != base64.urlsafe_b64encode(row.id).decode("ascii")
    for column in StaffSession.__table__.columns:
        stored = as_bytes(getattr(row, column.key))
        assert bytes(private_key) not in stored, column.key
        assert token not in stored, column.key
    expires = int(row.expires_at.timestamp())
    opened = crypto.unwrap_session_key(
        token, row.wrapped_key, account.id, "staff", expires, account.public_key
    )
    assert bytes(opened) == bytes(private_key)
    with pytest.raises(crypto.IntegrityError):  # the row alone opens nothing
        crypto.unwrap_session_key(
            row.id, row.wrapped_key, account.id, "staff", expires, account.public_key
        )


def test_session_cookie_is_host_only_secure_httponly_and_strict_behind_https(portal):
    portal.account(CASEWORKER)
    app = create_app(dataclasses.replace(portal.settings, behind_https=True))
    try:
        staff = app.test_client()
        token = csrf_token(staff, "/sign-in")
        form = {"csrf_token": token, "email": CASEWORKER, "password": PASSWORD}
        response = staff.post("/sign-in", data=form)
    finally:
        app.extensions["portal_db"].dispose()
    assert response.status_code == 302
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if "staff=" in h]
    name, *attributes = [part.strip() for part in header.split(";")]
    assert name.startswith("__Host-staff=")
    assert {"Secure", "HttpOnly", "Path=/", "SameSite=Strict"} <= set(attributes)
    assert not any(a.lower().startswith("domain=") for a in attributes)


def test_flask_session_cookie_carries_only_the_csrf_token_after_sign_in(portal):
    portal.account(CASEWORKER)
    staff = portal.app.test_client()
    sign_in(staff, CASEWORKER)
    staff.get("/caseworker/cases")
    serializer = portal.app.session_interface.get_signing_serializer(portal.app)
    flask_session = serializer.loads(staff.get_cookie("form").value)
    # "_permanent" is Flask's own flag that gives the form cookie an expiry date.
    assert set(flask_session) <= {"csrf_token", "_permanent"}
    assert "csrf_token" in flask_session


# P2: a copy of storage reveals nothing


def test_a_copy_of_the_data_dir_reveals_no_content_without_a_password(portal, client, tmp_path):
    portal.account(CASEWORKER)
    canary = f"canary-{uuid.uuid4().hex}"
    file_complaint(
        client,
        text=f"What happened {canary}",
        files=[(f"{canary}.jpg", f"photo of {canary}".encode() * 5000)],
    )
    root = portal.data_dir.root
    assert files_containing(root, encodings(canary)) == []  # live files, WAL included

    portal.app.extensions["portal_db"].dispose()  # SQLite checkpoints its WAL
    copy = tmp_path / "stolen"
    shutil.copytree(root, copy)
    url = portal.settings.database_url
    if portal.settings.sqlite_path is not None:
        url = f"sqlite:///{copy / portal.settings.sqlite_path.relative_to(root)}"
        assert url != portal.settings.database_url
    thief = create_app(dataclasses.replace(portal.settings, data_dir=copy, database_url=url))
    try:
        assert files_containing(copy, encodings(canary)) == []
        with thief.extensions["portal_db"].engine.connect() as connection:
            ciphertexts = list(connection.scalars(select(Record.ciphertext)))
        assert len(ciphertexts) == 2  # answers and the file's key
        assert not any(canary.encode() in blob for blob in ciphertexts)
        without_password = thief.test_client().get(case_url(only_case_id(portal)))
        assert without_password.status_code == 302
        # The copy is complete: the staff password is the only thing it lacks.
        with_password = thief.test_client()
        sign_in(with_password, CASEWORKER)
        page = with_password.get(case_url(only_case_id(portal)))
        assert canary in page.get_data(as_text=True)
    finally:
        thief.extensions["portal_db"].dispose()


# P5: the receipt is never stored


def test_the_receipt_is_in_no_column_of_any_table_and_no_file(portal, client):
    portal.account(CASEWORKER)
    receipt = file_complaint(client, files=[("a.txt", b"attachment")])
    digits = receipt.replace(" ", "")
    assert len(digits) == 20
    needles = [*encodings(digits), *encodings(receipt)]
    staff = portal.app.test_client()
    sign_in(staff, CASEWORKER)
    staff.get(case_url(only_case_id(portal)))  # an audited read as well

    values = every_stored_value(portal)
    assert {table for table, _, _ in values} >= {"cases", "receipt_locks", "records", "grants"}
    leaks = [(t, c) for t, c, value in values if any(n in value for n in needles)]
    assert leaks == []
    assert files_containing(portal.data_dir.root, needles) == []


# P6 at the level of the data; and what the receipt opens


def test_recovery_key_opens_every_compartment_and_the_answers(portal, client):
    file_complaint(client, text="Recovered-canary the guards burned the stall")
    case_id = only_case_id(portal)
    for kind in (CompartmentKind.CASE, CompartmentKind.IDENTITY, CompartmentKind.STAFF):
        compartment = compartment_of(portal, case_id, kind)
        with portal.db as db:
            grant = db.scalar(
                select(Grant).where(
                    Grant.compartment_id == compartment.id,
                    Grant.holder == GrantHolder.RECOVERY.value,
                )
            )
        key = crypto.open_grant(
            grant.wrap,
            portal.recovery_key,
            compartment.id,
            compartment.public_key,
            crypto.WrapPurpose.RECOVERY,
        )
        assert crypto.public_bytes(key) == compartment.public_key
        if kind is CompartmentKind.CASE:
            answers = json.loads(
                vault.open_record(key, record_of(portal, case_id, RecordKind.ANSWERS))
            )
            assert answers["what_happened"] == "Recovered-canary the guards burned the stall"


def test_recovery_grant_does_not_open_as_an_account_grant(portal, client):
    file_complaint(client)
    compartment = compartment_of(portal, only_case_id(portal), CompartmentKind.CASE)
    with portal.db as db:
        wrap = db.scalar(
            select(Grant.wrap).where(
                Grant.compartment_id == compartment.id,
                Grant.holder == GrantHolder.RECOVERY.value,
            )
        )
    with pytest.raises(crypto.IntegrityError):
        crypto.open_grant(wrap, portal.recovery_key, compartment.id, compartment.public_key)


def receipt_keys(portal, receipt: str) -> crypto.ReceiptKeys:  # type: ignore[no-untyped-def]
    with portal.db as db:
        setup = db.get(Installation, 1)
    return crypto.derive_receipt_keys(
        receipt, setup.receipt_salt, crypto.Argon2Params.decode(setup.receipt_kdf)
    )


def test_the_receipt_opens_the_case_compartment_and_its_answers(portal, client):
    receipt = file_complaint(client, text="Receipt-canary they took our land")
    case_id = only_case_id(portal)
    keys = receipt_keys(portal, receipt)
    compartment = compartment_of(portal, case_id, CompartmentKind.CASE)
    with portal.db as db:
        lock = db.get(ReceiptLock, keys.lookup_token)
    assert lock is not None and lock.case_id == case_id
    assert lock.compartment_id == compartment.id
    assert lock.public_key == keys.public_key
    key = crypto.open_grant(
        lock.wrap,
        keys.private_key,
        lock.compartment_id,
        compartment.public_key,
        crypto.WrapPurpose.RECEIPT,
    )
    answers = json.loads(vault.open_record(key, record_of(portal, case_id, RecordKind.ANSWERS)))
    assert answers["what_happened"] == "Receipt-canary they took our land"


def test_the_receipt_opens_neither_the_identity_nor_the_staff_compartment(portal, client):
    receipt = file_complaint(client)
    case_id = only_case_id(portal)
    keys = receipt_keys(portal, receipt)
    with portal.db as db:
        lock = db.get(ReceiptLock, keys.lookup_token)
    for kind in (CompartmentKind.IDENTITY, CompartmentKind.STAFF):
        other = compartment_of(portal, case_id, kind)
        with pytest.raises(crypto.IntegrityError):
            crypto.open_grant(
                lock.wrap, keys.private_key, other.id, other.public_key, crypto.WrapPurpose.RECEIPT
            )
