"""Where a case can go and why; starting a referral; what became of it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import visible_cases
from ..models import (
    Account,
    Anonymity,
    AuditEvent,
    Case,
    Channel,
    Company,
    Procedure,
    Recipient,
    Referral,
    ReferralOutcome,
    ReferralStatus,
    Scope,
)
from ..staff import SignedIn
from .consent import ask_consent, scope_for
from .core import ReferralError


@dataclass(frozen=True)
class Reason:
    code: str  # e.g. "covers_country", "no_anonymous"; worded by the view
    fits: bool
    value: str = ""  # a country or language code the reason is about


@dataclass(frozen=True)
class Suggestion:
    name: str
    company_id: uuid.UUID | None
    procedure: Procedure | None
    reasons: list[Reason]

    @property
    def fits(self) -> bool:
        return all(reason.fits for reason in self.reasons)


def _procedure_reasons(case: Case, procedure: Procedure) -> list[Reason]:
    reasons = []
    if "*" in procedure.country_codes:
        reasons.append(Reason("covers_everywhere", True))
    elif case.country and case.country in procedure.country_codes:
        reasons.append(Reason("covers_country", True, case.country))
    else:
        reasons.append(Reason("not_country", False, case.country or ""))
    if case.language in procedure.language_codes:
        reasons.append(Reason("takes_language", True, case.language))
    else:
        reasons.append(Reason("not_language", False, case.language))
    if case.channel == Channel.ANONYMOUS.value and procedure.accepts_anonymous == Anonymity.NO:
        reasons.append(Reason("no_anonymous", False))
    if procedure.identity_required and case.share_with_bodies != Scope.IDENTITY.value:
        reasons.append(Reason("needs_identity", False))
    if procedure.last_verified is None:
        reasons.append(Reason("unverified", True))
    return reasons


def suggestions(db: Session, case: Case) -> list[Suggestion]:
    """The company's mechanism, then every active procedure, those that fit first."""
    found = []
    company = db.get(Company, case.company_id) if case.company_id else None
    if company is not None:
        reasons = [Reason("member" if company.is_member else "not_member", company.is_member)]
        if not company.grievance_contact:
            reasons.append(Reason("no_contact", True))
        found.append(Suggestion(company.name, company.id, None, reasons))
    procedures = db.scalars(
        select(Procedure).where(Procedure.active.is_(True)).order_by(Procedure.name)
    )
    ranked = [
        Suggestion(procedure.name, None, procedure, _procedure_reasons(case, procedure))
        for procedure in procedures
    ]
    ranked.sort(key=lambda item: (not item.fits, sum(not r.fits for r in item.reasons)))
    return found + ranked


def start_referral(
    db: Session,
    who: SignedIn,
    case: Case,
    *,
    company_id: uuid.UUID | None = None,
    procedure_id: uuid.UUID | None = None,
) -> Referral:
    """A new referral, ready to compose if consent allows, waiting (and asking) if unknown."""
    if (company_id is None) == (procedure_id is None):
        raise ReferralError("no_target")
    if company_id is not None:
        company = db.get(Company, company_id)
        if company is None or not company.is_member or company.id != case.company_id:
            raise ReferralError("not_member")
        recipient = Recipient.COMPANY
    else:
        procedure = db.get(Procedure, procedure_id)
        if procedure is None or not procedure.active:
            raise ReferralError("no_target")
        recipient = Recipient.BODIES
    scope = scope_for(case, recipient)
    if scope is Scope.NOTHING:
        raise ReferralError("refused_by_reporter")
    referral = Referral(
        id=uuid.uuid4(),
        case_id=case.id,
        company_id=company_id,
        procedure_id=procedure_id,
        created_by_id=who.account.id,
        status=(
            ReferralStatus.WAITING_CONSENT.value
            if scope is Scope.UNASKED
            else ReferralStatus.READY.value
        ),
    )
    db.add(referral)
    if scope is Scope.UNASKED:
        ask_consent(db, who, case, recipient)
    db.add(
        AuditEvent(
            action="referral.started",
            actor_account_id=who.account.id,
            case_id=case.id,
            detail=str(referral.id),
        )
    )
    return referral


def record_sent(
    db: Session,
    who: SignedIn,
    referral: Referral,
    sent_on: date,
    reference: str,
    due_on: date | None,
) -> None:
    """The caseworker sent another body's package through its channel."""
    if referral.status != ReferralStatus.PREPARED.value:
        raise ReferralError("not_prepared")
    referral.status = ReferralStatus.SENT.value
    referral.sent_on = sent_on
    referral.their_reference = reference.strip()[:100]
    referral.response_due_on = due_on
    db.add(
        AuditEvent(
            action="referral.sent",
            actor_account_id=who.account.id,
            case_id=referral.case_id,
            detail=str(referral.id),
        )
    )


def record_response(
    db: Session,
    who: SignedIn,
    referral: Referral,
    outcome: ReferralOutcome,
    on: date,
    reference: str = "",
) -> None:
    """The receiving body answered (or never did): the referral is closed with its outcome."""
    if referral.status not in (
        ReferralStatus.SENT.value,
        ReferralStatus.ACKNOWLEDGED.value,
        ReferralStatus.ANSWERED.value,
    ):
        raise ReferralError("not_sent")
    referral.outcome = outcome.value
    referral.answered_on = referral.answered_on or on
    referral.closed_on = on
    referral.status = ReferralStatus.CLOSED.value
    if reference.strip():
        referral.their_reference = reference.strip()[:100]
    db.add(
        AuditEvent(
            action="referral.closed",
            actor_account_id=who.account.id,
            case_id=referral.case_id,
            detail=f"{referral.id}:{outcome.value}",
        )
    )


def case_referrals(db: Session, case_id: uuid.UUID) -> list[Referral]:
    return list(
        db.scalars(
            select(Referral).where(Referral.case_id == case_id).order_by(Referral.created_on)
        )
    )


def is_overdue(referral: Referral, on: date) -> bool:
    return (
        referral.response_due_on is not None
        and referral.response_due_on < on
        and referral.status in (ReferralStatus.SENT.value, ReferralStatus.ACKNOWLEDGED.value)
    )


def overdue_for(
    db: Session, account: Account, on: date, limit: int = 20
) -> list[tuple[Referral, str]]:
    """Referrals of the account's visible cases whose answer is late, oldest due first, with
    the case reference (read along the due-date index; stops at ``limit``)."""
    query = (
        visible_cases(account)
        .with_only_columns(Referral, Case.reference)
        .join(Referral, Referral.case_id == Case.id)
        .where(
            Referral.response_due_on < on,
            Referral.status.in_((ReferralStatus.SENT.value, ReferralStatus.ACKNOWLEDGED.value)),
        )
        .order_by(None)
        .order_by(Referral.response_due_on, Referral.id)
        .limit(limit)
    )
    return [(referral, reference) for referral, reference in db.execute(query)]
