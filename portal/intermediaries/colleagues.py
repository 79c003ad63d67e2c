"""Colleagues who join an organisation later get its cases: the next colleague who opens the
case list seals the keys to them (nothing is decrypted but the case keys)."""

from __future__ import annotations

from sqlalchemy import select, true
from sqlalchemy.orm import Session, aliased

from ..access import visible_cases
from ..casework import keychain
from ..keyring import Keyring
from ..models import (
    Account,
    AuditEvent,
    Case,
    Compartment,
    CompartmentKind,
    Grant,
    Role,
)
from ..staff import SignedIn
from ..vault import grant_to_account
from .acting import ORGANISATION_KINDS, _members


def _cases_missing_colleagues(db: Session, account: Account) -> list[Case]:
    """The organisation's cases (that ``account`` holds) on whose current case or identity
    compartment some active colleague holds no grant: one query, so the list page stays cheap."""
    colleague = aliased(Account)
    lacking = (
        select(Compartment.id)
        .join(colleague, true())
        .where(
            Compartment.case_id == Case.id,
            Compartment.kind.in_([kind.value for kind in ORGANISATION_KINDS]),
            Compartment.retired_at.is_(None),
            colleague.organisation_id == account.organisation_id,
            colleague.role == Role.INTERMEDIARY.value,
            colleague.is_active.is_(True),
            colleague.id != account.id,
            ~select(Grant.id)
            .where(Grant.compartment_id == Compartment.id, Grant.account_id == colleague.id)
            .exists(),
        )
        .exists()
    )
    query = visible_cases(account).where(Case.organisation_id == account.organisation_id, lacking)
    return list(db.scalars(query))


def share_with_colleagues(db: Session, keyring: Keyring, who: SignedIn) -> int:
    """Give colleagues who joined later the organisation's cases this account holds (the
    keys are sealed to their public keys; nothing is decrypted but the case keys). Returns
    how many grants were made."""
    cases = _cases_missing_colleagues(db, who.account)
    if not cases:
        return 0
    colleagues = [
        member
        for member in _members(db, who.account)
        if member.is_active and member.id != who.account.id
    ]
    made = 0
    for case in cases:
        keys = keychain(db, keyring, who, case, CompartmentKind.CASE) | keychain(
            db, keyring, who, case, CompartmentKind.IDENTITY
        )
        held = {
            (compartment_id, account_id)
            for compartment_id, account_id in db.execute(
                select(Grant.compartment_id, Grant.account_id).where(
                    Grant.compartment_id.in_(list(keys))
                )
            )
        }
        compartments = db.scalars(select(Compartment).where(Compartment.id.in_(list(keys))))
        for compartment in compartments:  # every generation this account holds
            for colleague in colleagues:
                if (compartment.id, colleague.id) not in held:
                    grant_to_account(db, keyring, compartment, keys[compartment.id], colleague)
                    made += 1
        db.add(
            AuditEvent(
                action="case.shared_with_colleagues",
                actor_account_id=who.account.id,
                case_id=case.id,
            )
        )
    db.commit()
    return made
