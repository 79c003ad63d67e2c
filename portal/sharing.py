"""Who holds a case: assignment, grants, revocation with key rotation, identity requests.

A grant is a compartment's private key sealed to an account. Granting needs the keys (the
supervisor opens them with their own grants); revoking deletes the account's wraps and rotates
the case and staff compartments: new key pairs, granted to everyone who still holds the case,
to the recovery key and (for the case compartment) to the reporter's receipt key pair, so that
whatever is written after the revocation is sealed to keys the revoked account never had (P3).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto

from .access import active_compartment, case_for
from .keyring import Keyring
from .models import (
    STAFF_ROLES,
    Account,
    AuditEvent,
    Case,
    Compartment,
    CompartmentKind,
    Grant,
    GrantHolder,
    IdentityRequest,
    ReceiptLock,
    ReceiptSuccessor,
    utcnow,
)
from .staff import SignedIn
from .vault import grant_to_account, installation, new_compartment, unlock_compartments

STAFF_KINDS = (CompartmentKind.CASE, CompartmentKind.STAFF)
WORKING_ROLES = STAFF_ROLES


class SharingError(ValueError):
    """The acting account cannot do this (no key to share, not a staff account, ...)."""


@dataclass(frozen=True)
class Holder:
    account: Account
    kinds: frozenset[str]


def holders(db: Session, case_id: uuid.UUID) -> list[Holder]:
    """Accounts holding a grant on a current compartment of the case, with which kinds."""
    rows = db.execute(
        select(Account, Compartment.kind)
        .join(Grant, Grant.account_id == Account.id)
        .join(Compartment, Compartment.id == Grant.compartment_id)
        .where(Compartment.case_id == case_id, Compartment.retired_at.is_(None))
    ).all()
    kinds: dict[uuid.UUID, set[str]] = {}
    accounts: dict[uuid.UUID, Account] = {}
    for account, kind in rows:
        accounts[account.id] = account
        kinds.setdefault(account.id, set()).add(kind)
    return sorted(
        (Holder(accounts[i], frozenset(k)) for i, k in kinds.items()),
        key=lambda h: h.account.display_name,
    )


def _compartments(db: Session, case_id: uuid.UUID, kind: CompartmentKind) -> list[Compartment]:
    return list(
        db.scalars(
            select(Compartment).where(
                Compartment.case_id == case_id, Compartment.kind == kind.value
            )
        )
    )


def grant(
    db: Session,
    keyring: Keyring,
    who: SignedIn,
    case_id: uuid.UUID,
    account: Account,
    kinds: tuple[CompartmentKind, ...] = STAFF_KINDS,
) -> None:
    """Give ``account`` every key of these kinds that ``who`` holds (every generation)."""
    if account.role not in WORKING_ROLES or not account.is_active:
        raise SharingError("only active staff accounts can hold a case")
    for kind in kinds:
        compartments = _compartments(db, case_id, kind)
        keys = unlock_compartments(db, keyring, compartments, who.account, who.private_key)
        if not keys:
            raise SharingError(f"you hold no {kind.value} key of this case")
        for compartment in compartments:
            if compartment.id in keys and not _has_grant(db, compartment, account):
                grant_to_account(db, keyring, compartment, keys[compartment.id], account)
    db.add(
        AuditEvent(
            action="case.access_granted",
            actor_account_id=who.account.id,
            case_id=case_id,
            detail=f"{account.id}:{','.join(k.value for k in kinds)}",
        )
    )


def _has_grant(db: Session, compartment: Compartment, account: Account) -> bool:
    return (
        db.scalar(
            select(Grant.id).where(
                Grant.compartment_id == compartment.id, Grant.account_id == account.id
            )
        )
        is not None
    )


def assign(
    db: Session, keyring: Keyring, who: SignedIn, case_id: uuid.UUID, account: Account
) -> None:
    """Put ``account`` in charge of the case, granting it the case if it does not hold it."""
    case = db.get(Case, case_id)
    assert case is not None
    if case_for(db, account, case_id) is None:
        grant(db, keyring, who, case_id, account)
    case.assigned_to_id = account.id
    db.add(
        AuditEvent(
            action="case.assigned",
            actor_account_id=who.account.id,
            case_id=case_id,
            detail=str(account.id),
        )
    )


def revoke(
    db: Session, keyring: Keyring, who: SignedIn, case_id: uuid.UUID, account: Account
) -> None:
    """Take every key of the case from ``account`` and rotate what it could read."""
    if account.id == who.account.id:
        raise SharingError("you cannot revoke your own access")
    held = db.execute(
        select(Grant, Compartment.kind)
        .join(Compartment, Grant.compartment_id == Compartment.id)
        .where(Compartment.case_id == case_id, Grant.account_id == account.id)
    ).all()
    account_kinds = {kind for _grant, kind in held}
    for grant, _kind in held:  # one by one, so that the case counts per stage follow
        db.delete(grant)
    db.flush()
    for kind in CompartmentKind:
        if kind.value in account_kinds and kind is not CompartmentKind.REFERRAL:
            rotate(db, keyring, case_id, kind)
    case = db.get(Case, case_id)
    if case is not None and case.assigned_to_id == account.id:
        case.assigned_to_id = None
    db.add(
        AuditEvent(
            action="case.access_revoked",
            actor_account_id=who.account.id,
            case_id=case_id,
            detail=str(account.id),
        )
    )


def rotate(db: Session, keyring: Keyring, case_id: uuid.UUID, kind: CompartmentKind) -> Compartment:
    """Retire the current compartment of ``kind`` and make a new one for its remaining holders."""
    current = active_compartment(db, case_id, kind)
    keep = list(
        db.scalars(
            select(Account)
            .join(Grant, Grant.account_id == Account.id)
            .where(Grant.compartment_id == current.id, Grant.holder == GrantHolder.ACCOUNT.value)
        )
    )
    setup = installation(db, keyring)
    current.retired_at = utcnow()
    db.flush()
    compartment, private_key = new_compartment(
        db, keyring, case_id, kind, keep, setup.recovery_public_key
    )
    if kind is CompartmentKind.CASE:
        for lock in db.scalars(select(ReceiptLock).where(ReceiptLock.case_id == case_id)):
            if lock.public_key is not None:
                db.add(
                    ReceiptSuccessor(
                        case_id=case_id,
                        compartment_id=compartment.id,
                        lookup_token=lock.lookup_token,
                        wrap=crypto.seal_grant(
                            private_key,
                            compartment.id,
                            lock.public_key,
                            crypto.WrapPurpose.RECEIPT,
                        ),
                    )
                )
    return compartment


def request_identity(db: Session, who: SignedIn, case_id: uuid.UUID) -> None:
    """Ask to see the reporter's identity (once; a supervisor decides)."""
    pending = db.scalar(
        select(IdentityRequest.id).where(
            IdentityRequest.case_id == case_id,
            IdentityRequest.account_id == who.account.id,
            IdentityRequest.decision.is_(None),
        )
    )
    if pending is None:
        db.add(IdentityRequest(case_id=case_id, account_id=who.account.id))
        db.add(
            AuditEvent(
                action="identity.requested", actor_account_id=who.account.id, case_id=case_id
            )
        )


def pending_identity_requests(
    db: Session, case_id: uuid.UUID
) -> list[tuple[IdentityRequest, Account]]:
    rows = db.execute(
        select(IdentityRequest, Account)
        .join(Account, Account.id == IdentityRequest.account_id)
        .where(IdentityRequest.case_id == case_id, IdentityRequest.decision.is_(None))
        .order_by(IdentityRequest.requested_at)
    ).all()
    return [(request, account) for request, account in rows]


def decide_identity(
    db: Session, keyring: Keyring, who: SignedIn, request_id: uuid.UUID, allow: bool
) -> IdentityRequest:
    """Grant or refuse an identity request; granting shares the identity keys ``who`` holds."""
    request = db.get(IdentityRequest, request_id)
    if request is None or request.decision is not None:
        raise SharingError("no such pending request")
    if allow:
        requester = db.get(Account, request.account_id)
        assert requester is not None
        grant(db, keyring, who, request.case_id, requester, (CompartmentKind.IDENTITY,))
    request.decision = "granted" if allow else "refused"
    request.decided_by_id, request.decided_at = who.account.id, utcnow()
    db.add(
        AuditEvent(
            action=f"identity.{request.decision}",
            actor_account_id=who.account.id,
            case_id=request.case_id,
            detail=str(request.account_id),
        )
    )
    return request
