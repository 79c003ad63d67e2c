"""A case's remedies and commitments, its compliance route, and reprisal reports (staff side).

Every route starts from :func:`portal.access.case_for`: 404 for a case the account holds no
grant for.
"""

from __future__ import annotations

import uuid
from datetime import date

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal import remedies
from portal.access import case_for
from portal.casework import keychain
from portal.db import db_session
from portal.models import (
    AuditEvent,
    Case,
    Commitment,
    CommitmentStatus,
    CompartmentKind,
    ComplaintKind,
    ComplianceEvent,
    ComplianceStage,
    Referral,
    ReferralStatus,
    Remedy,
    RemedyCategory,
    Reprisal,
)

from . import blueprint
from .common import ext as _ext
from .common import signed_in as _who
from .forms import ActionForm, SignOutForm
from .roles import CASE_ROLES
from .session import current_staff, staff_required

MAX_TEXT = 20_000
CATEGORY_LABELS = {
    RemedyCategory.RESTITUTION: _l("Restitution"),
    RemedyCategory.COMPENSATION: _l("Compensation"),
    RemedyCategory.REHABILITATION: _l("Rehabilitation (medical, psychological, legal, social)"),
    RemedyCategory.SATISFACTION: _l("Satisfaction (apology, cessation, sanctions)"),
    RemedyCategory.NON_REPETITION: _l("Guarantees of non-repetition (policy, training, vetting)"),
}
COMMITMENT_LABELS = {
    CommitmentStatus.PROPOSED: _l("Proposed"),
    CommitmentStatus.AGREED: _l("Agreed"),
    CommitmentStatus.IN_PROGRESS: _l("In progress"),
    CommitmentStatus.IMPLEMENTED: _l("Implemented"),
    CommitmentStatus.VERIFIED: _l("Verified"),
    CommitmentStatus.NOT_IMPLEMENTED: _l("Not implemented"),
}
ANSWER_LABELS = {"yes": _l("Yes"), "partly": _l("Partly"), "no": _l("No")}
COMPLIANCE_LABELS = {
    ComplianceStage.DIALOGUE: _l("Dialogue with the company"),
    ComplianceStage.CORRECTIVE_ACTION: _l("Corrective action requested"),
    ComplianceStage.RESOLVED: _l("Resolved"),
    ComplianceStage.ESCALATED: _l("Escalated to the board"),
}
PROBLEMS = {
    "category": _l("Choose the category."),
    "description": _l("Describe the remedy."),
    "what": _l("Say what is committed."),
    "date": _l("Write the date as YYYY-MM-DD."),
    "too_long": _l("A text is too long."),
    "due": _l("Corrective action needs a deadline."),
    "stage": _l("Choose the step."),
    "no_referral": _l("That referral is not part of this case."),
}


def _case(case_id: uuid.UUID) -> Case:
    case = case_for(db_session(), _who().account, case_id)
    if case is None:
        abort(404)
    return case


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        raise remedies.RemedyError("date") from None


def _text(name: str, required: str | None = None) -> str:
    value = request.form.get(name, "").strip()
    if len(value) > MAX_TEXT:
        raise remedies.RemedyError("too_long")
    if required and not value:
        raise remedies.RemedyError(required)
    return value


def _page(case: Case, problem: str | None = None, status: int = 200) -> tuple[str, int]:
    db = db_session()
    who = _who()
    keyring = _ext("keyring")
    views = remedies.for_staff(db, keyring, who, case)
    words = remedies.feedback_words(
        db, keychain(db, keyring, who, case, CompartmentKind.CASE), case.id
    )
    company_referrals = list(
        db.scalars(
            select(Referral).where(
                Referral.case_id == case.id,
                Referral.company_id.is_not(None),
                Referral.compartment_id.is_not(None),
                Referral.status != ReferralStatus.CANCELLED.value,
            )
        )
    )
    compliance = list(
        db.scalars(
            select(ComplianceEvent)
            .where(ComplianceEvent.case_id == case.id)
            .order_by(ComplianceEvent.occurred_on, ComplianceEvent.id)
        )
    )
    reprisals = db.scalar(select(func.count()).where(Reprisal.case_id == case.id)) or 0
    from .referral_views import target_name

    db.add(
        AuditEvent(action="case.remedies_opened", actor_account_id=who.account.id, case_id=case.id)
    )
    db.commit()
    return render_template(
        "caseworker/remedies.html",
        who=current_staff(),
        sign_out=SignOutForm(),
        action=ActionForm(),
        case=case,
        remedies=views,
        words=words,
        company_referrals=company_referrals,
        target_name=target_name,
        categories=CATEGORY_LABELS,
        statuses=COMMITMENT_LABELS,
        answers=ANSWER_LABELS,
        compliance=compliance,
        compliance_labels=COMPLIANCE_LABELS,
        compliance_route=case.kind == ComplaintKind.EVIDENCE.value or bool(compliance),
        reprisals=reprisals,
        form_values=request.form,
        problem=problem,
    ), status


@blueprint.get("/caseworker/cases/<uuid:case_id>/remedies")
@staff_required(*CASE_ROLES)
def case_remedies(case_id: uuid.UUID) -> tuple[str, int]:
    return _page(_case(case_id))


def _done(case: Case, anchor: str) -> Response:
    return redirect(url_for("caseworker.case_remedies", case_id=case.id) + f"#{anchor}")


@blueprint.post("/caseworker/cases/<uuid:case_id>/remedies")
@staff_required(*CASE_ROLES)
def remedy_add(case_id: uuid.UUID) -> Response | tuple[str, int]:
    case = _case(case_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = db_session()
    try:
        try:
            category = RemedyCategory(request.form.get("category", ""))
        except ValueError:
            raise remedies.RemedyError("category") from None
        referral_id = request.form.get("referral", "")
        try:
            chosen = uuid.UUID(referral_id) if referral_id else None
        except ValueError:
            raise remedies.RemedyError("no_referral") from None
        description = _text("description", "description")
        what = _text("what", "what")
        status = (
            CommitmentStatus.AGREED
            if request.form.get("agreed") == "1"
            else CommitmentStatus.PROPOSED
        )
        remedy = remedies.add_remedy(
            db,
            _ext("keyring"),
            _who(),
            case.id,
            category,
            description,
            _text("beneficiaries"),
            _text("responsible"),
            chosen,
        )
        remedies.add_commitment(
            db,
            _ext("keyring"),
            _who(),
            remedy,
            what,
            _date(request.form.get("due_on", "")),
            _text("verification"),
            _text("verifier"),
            status,
        )
    except remedies.RemedyError as error:
        db.rollback()
        return _page(case, str(PROBLEMS.get(error.code, error.code)), 400)
    db.commit()
    return _done(case, "remedies")


@blueprint.post("/caseworker/cases/<uuid:case_id>/remedies/<uuid:remedy_id>/commitments")
@staff_required(*CASE_ROLES)
def commitment_add(case_id: uuid.UUID, remedy_id: uuid.UUID) -> Response | tuple[str, int]:
    case = _case(case_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = db_session()
    remedy = db.get(Remedy, remedy_id)
    if remedy is None or remedy.case_id != case.id:
        abort(404)
    try:
        remedies.add_commitment(
            db,
            _ext("keyring"),
            _who(),
            remedy,
            _text("what", "what"),
            _date(request.form.get("due_on", "")),
            _text("verification"),
            _text("verifier"),
        )
    except remedies.RemedyError as error:
        db.rollback()
        return _page(case, str(PROBLEMS.get(error.code, error.code)), 400)
    db.commit()
    return _done(case, f"remedy-{remedy.id}")


@blueprint.post("/caseworker/cases/<uuid:case_id>/commitments/<uuid:commitment_id>/status")
@staff_required(*CASE_ROLES)
def commitment_status(case_id: uuid.UUID, commitment_id: uuid.UUID) -> Response:
    case = _case(case_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = db_session()
    commitment = db.get(Commitment, commitment_id)
    if commitment is None or commitment.case_id != case.id:
        abort(404)
    try:
        status = CommitmentStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    remedies.set_status(db, _who(), commitment, status)
    db.commit()
    return _done(case, f"commitment-{commitment.id}")


@blueprint.post("/caseworker/cases/<uuid:case_id>/compliance")
@staff_required(*CASE_ROLES)
def compliance_move(case_id: uuid.UUID) -> Response | tuple[str, int]:
    case = _case(case_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = db_session()
    try:
        try:
            stage = ComplianceStage(request.form.get("stage", ""))
        except ValueError:
            raise remedies.RemedyError("stage") from None
        due_on = _date(request.form.get("due_on", ""))
        if stage is ComplianceStage.CORRECTIVE_ACTION and due_on is None:
            raise remedies.RemedyError("due")
    except remedies.RemedyError as error:
        return _page(case, str(PROBLEMS.get(error.code, error.code)), 400)
    db.add(
        ComplianceEvent(
            case_id=case.id, stage=stage.value, due_on=due_on, actor_account_id=_who().account.id
        )
    )
    db.add(
        AuditEvent(
            action="compliance.moved",
            actor_account_id=_who().account.id,
            case_id=case.id,
            detail=stage.value,
        )
    )
    db.commit()
    return _done(case, "compliance")


@blueprint.post("/caseworker/cases/<uuid:case_id>/reprisals")
@staff_required(*CASE_ROLES)
def reprisal_add(case_id: uuid.UUID) -> Response:
    case = _case(case_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = db_session()
    db.add(Reprisal(case_id=case.id, recorded_by_id=_who().account.id))
    db.add(
        AuditEvent(action="reprisal.recorded", actor_account_id=_who().account.id, case_id=case.id)
    )
    db.commit()
    return _done(case, "reprisals")
