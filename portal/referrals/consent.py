"""What the reporter allows to go, per kind of recipient, and asking them."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (
    AuditEvent,
    Case,
    ConsentRequest,
    Recipient,
    Referral,
    ReferralStatus,
    Scope,
    day_start,
    today,
)
from ..staff import SignedIn
from .core import ReferralError


def scope_for(case: Case, recipient: Recipient) -> Scope:
    value = case.share_with_company if recipient is Recipient.COMPANY else case.share_with_bodies
    return Scope(value)


def open_consent_requests(db: Session, case_id: uuid.UUID) -> list[ConsentRequest]:
    return list(
        db.scalars(
            select(ConsentRequest)
            .where(ConsentRequest.case_id == case_id, ConsentRequest.answered_on.is_(None))
            .order_by(ConsentRequest.recipient)
        )
    )


def ask_consent(db: Session, who: SignedIn, case: Case, recipient: Recipient) -> ConsentRequest:
    """Ask the reporter (on the follow-up page) what may go to this kind of recipient."""
    for request in open_consent_requests(db, case.id):
        if request.recipient == recipient.value:
            return request
    request = ConsentRequest(case_id=case.id, recipient=recipient.value, asked_by_id=who.account.id)
    db.add(request)
    db.add(
        AuditEvent(
            action="consent.asked",
            actor_account_id=who.account.id,
            case_id=case.id,
            detail=recipient.value,
        )
    )
    return request


def answer_consent(db: Session, case: Case, recipient: Recipient, scope: Scope) -> None:
    """The reporter's answer: it becomes the case's consent, and waiting referrals follow it."""
    if scope is Scope.UNASKED:
        raise ReferralError("no_answer")
    if recipient is Recipient.COMPANY:
        case.share_with_company = scope.value
    else:
        case.share_with_bodies = scope.value
    for request in open_consent_requests(db, case.id):
        if request.recipient == recipient.value:
            request.answered_on = today()
    for referral in db.scalars(
        select(Referral).where(
            Referral.case_id == case.id,
            Referral.status == ReferralStatus.WAITING_CONSENT.value,
        )
    ):
        if referral.recipient is recipient:
            waiting = scope is Scope.NOTHING
            referral.status = (
                ReferralStatus.CANCELLED.value if waiting else ReferralStatus.READY.value
            )
    db.add(
        AuditEvent(
            action="consent.answered",
            actor_account_id=None,
            case_id=case.id,
            detail=f"{recipient.value}:{scope.value}",
            occurred_at=day_start(),  # a reporter's action: the day only, like their others
        )
    )


def set_consent_for_reporter(
    db: Session, who: SignedIn, case: Case, recipient: Recipient, scope: Scope
) -> None:
    """A caseworker records what the reporter said by phone or in person (audited as theirs)."""
    answer_consent(db, case, recipient, scope)
    db.add(
        AuditEvent(
            action="consent.recorded",
            actor_account_id=who.account.id,
            case_id=case.id,
            detail=f"{recipient.value}:{scope.value}",
        )
    )
