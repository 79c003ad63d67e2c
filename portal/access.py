"""Who may see which case: the one place that decides. An account sees a case only through a
grant it holds on the case's compartment; everything else is 404 to it."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from .models import Account, Case, Compartment, CompartmentKind, Grant


def _holds_case_grant(account: Account) -> object:
    return exists().where(
        Compartment.case_id == Case.id,
        Compartment.kind == CompartmentKind.CASE.value,
        Compartment.retired_at.is_(None),
        Grant.compartment_id == Compartment.id,
        Grant.account_id == account.id,
    )


def visible_cases(account: Account) -> Select[tuple[Case]]:
    """Cases the account holds a grant for, newest first."""
    return (
        select(Case)
        .where(_holds_case_grant(account))  # type: ignore[arg-type]
        .order_by(Case.received_on.desc(), Case.reference)
    )


def case_for(db: Session, account: Account, case_id: uuid.UUID) -> Case | None:
    """The case, if the account may see it."""
    return db.scalar(
        select(Case).where(Case.id == case_id, _holds_case_grant(account))  # type: ignore[arg-type]
    )


def active_compartment(db: Session, case_id: uuid.UUID, kind: CompartmentKind) -> Compartment:
    """The current compartment of a kind (older ones are retired on rotation)."""
    compartment = db.scalar(
        select(Compartment).where(
            Compartment.case_id == case_id,
            Compartment.kind == kind.value,
            Compartment.retired_at.is_(None),
        )
    )
    if compartment is None:
        raise LookupError(f"case {case_id} has no {kind} compartment")
    return compartment
