"""Compartments, grants and records: how the portal uses ``crypto`` against its tables.

Every seal and every open of case content goes through here. Clear values that encryption
depends on are verified by the keyring before use.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from nacl.public import PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import crypto
from crypto import RecordContext, WrapPurpose

from .keyring import Keyring
from .models import (
    Account,
    AuthorRole,
    Compartment,
    CompartmentKind,
    Grant,
    GrantHolder,
    Installation,
    Record,
    RecordKind,
)

# Compartment id -> its private key: what an account (or a reporter) can open of a case,
# across key rotations.
Keychain = dict[uuid.UUID, PrivateKey]


class NotSetUp(RuntimeError):  # noqa: N818 - reads as a state, not an error kind
    """The installation row is missing: run ``flask --app wsgi setup`` first."""


def installation(db: Session, keyring: Keyring) -> Installation:
    """The verified installation row."""
    row = db.get(Installation, 1)
    if row is None:
        raise NotSetUp("the portal has not been set up")
    keyring.verify_installation(row)
    return row


def record_context(record: Record) -> RecordContext:
    """Where a record's ciphertext belongs: table, column qualified by kind, case, record."""
    return RecordContext("records", f"ciphertext:{record.kind}", record.case_id, record.id)


def grant_to_account(
    db: Session,
    keyring: Keyring,
    compartment: Compartment,
    private_key: PrivateKey,
    account: Account,
) -> Grant:
    """Seal a compartment's key to an account whose public key checks out."""
    keyring.verify_account(account)
    grant = Grant(
        id=uuid.uuid4(),
        compartment_id=compartment.id,
        holder=GrantHolder.ACCOUNT.value,
        account_id=account.id,
        wrap=crypto.seal_grant(private_key, compartment.id, account.public_key),
    )
    keyring.sign_grant(grant)
    db.add(grant)
    return grant


def new_compartment(
    db: Session,
    keyring: Keyring,
    case_id: uuid.UUID,
    kind: CompartmentKind,
    holders: Iterable[Account],
    recovery_public_key: bytes,
) -> tuple[Compartment, PrivateKey]:
    """Create a compartment, grant it to ``holders`` and seal it to the recovery key."""
    private_key = crypto.generate_keypair()
    compartment = Compartment(
        id=uuid.uuid4(),
        case_id=case_id,
        kind=kind.value,
        public_key=crypto.public_bytes(private_key),
    )
    keyring.sign_compartment(compartment)
    db.add(compartment)
    for account in holders:
        grant_to_account(db, keyring, compartment, private_key, account)
    recovery = Grant(
        id=uuid.uuid4(),
        compartment_id=compartment.id,
        holder=GrantHolder.RECOVERY.value,
        account_id=None,
        wrap=crypto.seal_grant(
            private_key, compartment.id, recovery_public_key, WrapPurpose.RECOVERY
        ),
    )
    keyring.sign_grant(recovery)
    db.add(recovery)
    return compartment, private_key


def seal(
    db: Session,
    keyring: Keyring,
    compartment: Compartment,
    kind: RecordKind,
    content: bytes,
    author_role: AuthorRole,
    *,
    author_account_id: uuid.UUID | None = None,
    record_id: uuid.UUID | None = None,
    private_key: PrivateKey | None = None,
) -> Record:
    """Encrypt ``content`` into a new record of the compartment.

    With the private key at hand, encrypt to the public key derived from it; otherwise to the
    stored public key, only after its MAC checks out (P10).
    """
    if private_key is not None:
        public_key = crypto.public_bytes(private_key)
        if public_key != compartment.public_key:
            raise crypto.IntegrityError("compartment public key does not match its private key")
    else:
        keyring.verify_compartment(compartment)
        public_key = compartment.public_key
    sequence = (
        db.scalar(select(func.max(Record.sequence)).where(Record.case_id == compartment.case_id))
        or 0
    ) + 1
    record = Record(
        id=record_id or uuid.uuid4(),
        sequence=sequence,
        case_id=compartment.case_id,
        compartment_id=compartment.id,
        kind=kind.value,
        author_role=author_role.value,
        author_account_id=author_account_id,
    )
    record.ciphertext = crypto.seal_record(public_key, record_context(record), content)
    db.add(record)
    return record


def open_record(private_key: PrivateKey, record: Record) -> bytes:
    """Decrypt a record with its compartment's private key."""
    return crypto.open_record(private_key, record_context(record), record.ciphertext)


def unlock_compartment(
    db: Session,
    keyring: Keyring,
    compartment: Compartment,
    account: Account,
    account_key: PrivateKey,
) -> PrivateKey | None:
    """The compartment's private key through the account's grant, or None without a grant."""
    grant = db.scalar(
        select(Grant).where(
            Grant.compartment_id == compartment.id,
            Grant.account_id == account.id,
            Grant.holder == GrantHolder.ACCOUNT.value,
        )
    )
    if grant is None:
        return None
    keyring.verify_grant(grant)
    keyring.verify_compartment(compartment)
    return crypto.open_grant(grant.wrap, account_key, compartment.id, compartment.public_key)


def unlock_compartments(
    db: Session,
    keyring: Keyring,
    compartments: Iterable[Compartment],
    account: Account,
    account_key: PrivateKey,
) -> Keychain:
    """The keys of every compartment the account holds a grant for (others are left out)."""
    keychain: Keychain = {}
    for compartment in compartments:
        key = unlock_compartment(db, keyring, compartment, account, account_key)
        if key is not None:
            keychain[compartment.id] = key
    return keychain
