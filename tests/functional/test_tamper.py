"""P4 and P10: a database writer who moves ciphertexts or swaps keys gets errors, never content,
and cannot make the portal encrypt to a key of their choosing."""

from __future__ import annotations

import uuid

import pytest
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey, SealedBox
from sqlalchemy import select, update

import crypto
from portal import vault
from portal.models import (
    Account,
    AuthorRole,
    Case,
    Compartment,
    CompartmentKind,
    Grant,
    Installation,
    Record,
    RecordKind,
)
from tests.conftest import csrf_token
from tests.functional.helpers import (
    account_by_email,
    case_ids,
    case_url,
    compartment_of,
    count,
    record_of,
    staff_client,
)
from tests.support.filing import file_complaint

CASEWORKER = "cw@example.org"
FIRST = "Canary-ALPHA the night guard beat Joseph"
SECOND = "Canary-BRAVO the dogs were set on the village"


def refused_loudly(portal, client, path: str, must_not_show: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Opening ``path`` raises IntegrityError; served for real, it is a 500 without content."""
    with pytest.raises(crypto.IntegrityError):
        client.get(path)
    portal.app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = client.get(path)
    finally:
        portal.app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    assert "no-store" in response.headers["Cache-Control"]
    body = response.get_data(as_text=True)
    for text in must_not_show:
        assert text not in body


def swap_ciphertexts(portal, first: Record, second: Record) -> None:  # type: ignore[no-untyped-def]
    with portal.db as db:
        db.execute(update(Record).where(Record.id == first.id).values(ciphertext=second.ciphertext))
        db.execute(update(Record).where(Record.id == second.id).values(ciphertext=first.ciphertext))
        db.commit()


def send_again(client):  # type: ignore[no-untyped-def]
    """Press "Send" once more on the draft whose sending just failed."""
    token = csrf_token(client, "/report/check")
    return client.post("/report/send", data={"csrf_token": token})


def attacker_public_key() -> bytes:
    return crypto.public_bytes(PrivateKey.generate())


def flip_last_byte(value: bytes) -> bytes:
    return value[:-1] + bytes([value[-1] ^ 0x01])


@pytest.fixture
def two_cases(portal, client):  # type: ignore[no-untyped-def]
    """Two cases granted to CASEWORKER, in filing order."""
    portal.account(CASEWORKER)
    file_complaint(client, text=FIRST)
    first = set(case_ids(portal))
    file_complaint(client, text=SECOND, files=[("note.txt", b"Canary-CHARLIE file body")])
    (second,) = set(case_ids(portal)) - first
    (first_id,) = first
    return first_id, second


# P4: ciphertexts bound to their place


def test_answers_swapped_between_two_cases_do_not_open(portal, two_cases):
    first, second = two_cases
    staff = staff_client(portal, CASEWORKER)
    assert FIRST in staff.get(case_url(first)).get_data(as_text=True)
    swap_ciphertexts(
        portal,
        record_of(portal, first, RecordKind.ANSWERS),
        record_of(portal, second, RecordKind.ANSWERS),
    )
    refused_loudly(portal, staff, case_url(first), [SECOND, FIRST])
    refused_loudly(portal, staff, case_url(second), [FIRST, SECOND])


def test_answers_swapped_with_the_file_key_of_the_same_case_do_not_open(portal, two_cases):
    _, second = two_cases
    staff = staff_client(portal, CASEWORKER)
    assert SECOND in staff.get(case_url(second)).get_data(as_text=True)
    swap_ciphertexts(
        portal,
        record_of(portal, second, RecordKind.ANSWERS),
        record_of(portal, second, RecordKind.FILE_KEY),
    )
    refused_loudly(portal, staff, case_url(second), [SECOND, "note.txt"])


def test_answers_copied_onto_another_record_id_do_not_open(portal, two_cases):
    """Same case, compartment and kind: only the record id differs, and it is bound."""
    first, _ = two_cases
    original = record_of(portal, first, RecordKind.ANSWERS)
    copy = Record(
        id=uuid.uuid4(),
        case_id=original.case_id,
        compartment_id=original.compartment_id,
        kind=original.kind,
        author_role=original.author_role,
        ciphertext=original.ciphertext,
    )
    with portal.db as db:
        db.add(copy)
        db.commit()
    case_key = recovery_case_key(portal, first)
    assert FIRST in vault.open_record(case_key, original).decode("utf-8")
    with pytest.raises(crypto.IntegrityError):
        vault.open_record(case_key, copy)


def recovery_case_key(portal, case_id: uuid.UUID) -> PrivateKey:  # type: ignore[no-untyped-def]
    compartment = compartment_of(portal, case_id, CompartmentKind.CASE)
    with portal.db as db:
        grant = db.scalar(
            select(Grant).where(Grant.compartment_id == compartment.id, Grant.holder == "recovery")
        )
    return crypto.open_grant(
        grant.wrap,
        portal.recovery_key,
        compartment.id,
        compartment.public_key,
        crypto.WrapPurpose.RECOVERY,
    )


# P10: clear values that encryption depends on are authenticated


def assert_nothing_sealed_to(portal, attacker: PrivateKey) -> None:  # type: ignore[no-untyped-def]
    with portal.db as db:
        wraps = list(db.scalars(select(Grant.wrap)))
    for wrap in wraps:
        with pytest.raises(NaclCryptoError):
            SealedBox(attacker).decrypt(wrap[1:])


def test_tampered_intake_account_key_makes_the_next_submission_fail(portal, client):
    portal.account(CASEWORKER)
    file_complaint(client, text=FIRST)
    cases, grants = count(portal, Case), count(portal, Grant)
    attacker = PrivateKey.generate()
    with portal.db as db:
        db.execute(
            update(Account)
            .where(Account.email == CASEWORKER)
            .values(public_key=crypto.public_bytes(attacker))
        )
        db.commit()

    with pytest.raises(crypto.IntegrityError):
        file_complaint(client, text=SECOND)
    portal.app.config["PROPAGATE_EXCEPTIONS"] = False
    served = send_again(client)
    assert served.status_code == 500
    assert 'id="receipt"' not in served.get_data(as_text=True)

    assert count(portal, Case) == cases
    assert count(portal, Grant) == grants
    assert_nothing_sealed_to(portal, attacker)


def test_tampered_recovery_public_key_makes_the_next_submission_fail(portal, client):
    portal.account(CASEWORKER)
    cases = count(portal, Case)
    attacker = PrivateKey.generate()
    with portal.db as db:
        db.execute(update(Installation).values(recovery_public_key=crypto.public_bytes(attacker)))
        db.commit()

    with pytest.raises(crypto.IntegrityError):
        file_complaint(client, text=FIRST)
    assert count(portal, Case) == cases
    assert count(portal, Compartment) == 0
    assert_nothing_sealed_to(portal, attacker)


def test_sealing_to_a_tampered_compartment_key_is_refused(portal, two_cases):
    first, second = two_cases
    tampered = compartment_of(portal, first, CompartmentKind.CASE)
    with portal.db as db:
        db.execute(
            update(Compartment)
            .where(Compartment.id == tampered.id)
            .values(public_key=attacker_public_key())
        )
        db.commit()
    with portal.app.app_context(), portal.db as db:
        untouched = db.get(Compartment, compartment_of(portal, second, CompartmentKind.CASE).id)
        vault.seal(db, portal.keyring, untouched, RecordKind.MESSAGE, b"ok", AuthorRole.STAFF)
        target = db.get(Compartment, tampered.id)
        with pytest.raises(crypto.IntegrityError):
            vault.seal(db, portal.keyring, target, RecordKind.MESSAGE, b"leak", AuthorRole.STAFF)


def test_caseworker_cannot_open_a_case_whose_compartment_key_was_replaced(portal, two_cases):
    first, _ = two_cases
    staff = staff_client(portal, CASEWORKER)
    compartment = compartment_of(portal, first, CompartmentKind.CASE)
    with portal.db as db:
        db.execute(
            update(Compartment)
            .where(Compartment.id == compartment.id)
            .values(public_key=attacker_public_key())
        )
        db.commit()
    refused_loudly(portal, staff, case_url(first), [FIRST])


@pytest.mark.parametrize("how", ["flipped wrap", "flipped mac", "forged wrap"])
def test_caseworker_cannot_open_a_case_through_a_tampered_grant(portal, two_cases, how):
    first, _ = two_cases
    staff = staff_client(portal, CASEWORKER)
    assert FIRST in staff.get(case_url(first)).get_data(as_text=True)
    caseworker = account_by_email(portal, CASEWORKER)
    compartment = compartment_of(portal, first, CompartmentKind.CASE)
    with portal.db as db:
        grant = db.scalar(
            select(Grant).where(
                Grant.compartment_id == compartment.id, Grant.account_id == caseworker.id
            )
        )
        if how == "flipped wrap":
            grant.wrap = flip_last_byte(grant.wrap)
        elif how == "flipped mac":
            grant.mac = flip_last_byte(grant.mac)
        else:  # a well-formed grant of another key pair, sealed to the caseworker
            grant.wrap = crypto.seal_grant(
                PrivateKey.generate(), compartment.id, caseworker.public_key
            )
        db.commit()
    refused_loudly(portal, staff, case_url(first), [FIRST])
