"""The company's grievance officers: the referrals made to their company, and nothing else.

A company account holds no key of any case: only the keys of the packages referred to its
company (P9). It reads a package, acknowledges it and answers; every page it opens is audited.
Any other referral, and every caseworker page, is 404 to it.
"""

from __future__ import annotations

import uuid

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from portal import drafts, referrals, remedies
from portal.db import db_session
from portal.models import AuditEvent, CommitmentStatus, Company, Referral, Role
from portal.public.evidence import limit_problem, received_uploads

from . import blueprint
from .common import ext as _ext
from .common import signed_in as _who
from .forms import ActionForm, SignOutForm
from .referral_views import STATUS_LABELS, shared_file_response
from .remedy_views import CATEGORY_LABELS, COMMITMENT_LABELS
from .session import current_staff, staff_required

COMPANY_ROLES = (Role.COMPANY.value,)


class AnswerForm(FlaskForm):
    findings = TextAreaField(
        _l("What you found"),
        description=_l("What your inquiry established about what happened."),
        validators=[Optional(), Length(max=50_000)],
    )
    proposed_remedy = TextAreaField(
        _l("What you propose to put it right"),
        description=_l(
            "For example compensation, an apology, medical care, or changes that stop it "
            "happening again."
        ),
        validators=[Optional(), Length(max=50_000)],
    )


def _referral(referral_id: uuid.UUID) -> Referral:
    referral = referrals.company_referral(db_session(), _who().account, referral_id)
    if referral is None:
        abort(404)
    return referral


def _audit(action: str, referral: Referral | None = None) -> None:
    db_session().add(
        AuditEvent(
            action=action,
            actor_account_id=_who().account.id,
            case_id=referral.case_id if referral else None,
            detail=str(referral.id) if referral else None,
        )
    )


@blueprint.get("/company/")
@staff_required(*COMPANY_ROLES)
def company_referrals() -> str:
    who = _who()
    db = db_session()
    found = referrals.company_referrals(db, who.account)
    company = db.get(Company, who.account.company_id)
    _audit("company.referrals_listed")
    db.commit()
    return render_template(
        "caseworker/company_referrals.html",
        who=current_staff(),
        sign_out=SignOutForm(),
        company=company,
        referrals=found,
        status_labels=STATUS_LABELS,
        is_overdue=referrals.is_overdue,
    )


def _page(
    referral: Referral,
    form: AnswerForm | None = None,
    status: int = 200,
    problem: str | None = None,
) -> tuple[str, int]:
    who = _who()
    db = db_session()
    keyring = _ext("keyring")
    package = referrals.read_package(db, keyring, who.account, who.private_key, referral)
    if package is None:
        abort(404)
    answers = referrals.company_answers(db, keyring, who.account, who.private_key, referral)
    owed = remedies.for_company(db, keyring, who.account, who.private_key, referral)
    sent_files = referrals.company_files(db, keyring, who.account, who.private_key, referral)
    _audit("company.referral_opened", referral)
    db.commit()
    return render_template(
        "caseworker/company_referral.html",
        who=current_staff(),
        sign_out=SignOutForm(),
        action=ActionForm(),
        referral=referral,
        package=package,
        answers=answers,
        form=form or AnswerForm(),
        remedies=owed,
        sent_files=sent_files,
        max_mb=_ext("settings").max_upload_bytes // (1024 * 1024),
        categories=CATEGORY_LABELS,
        commitment_labels=COMMITMENT_LABELS,
        company_statuses=remedies.COMPANY_STATUSES,
        problem=problem,
        status_labels=STATUS_LABELS,
        is_overdue=referrals.is_overdue,
    ), status


@blueprint.get("/company/referrals/<uuid:referral_id>")
@staff_required(*COMPANY_ROLES)
def company_referral(referral_id: uuid.UUID) -> tuple[str, int]:
    return _page(_referral(referral_id))


@blueprint.post("/company/referrals/<uuid:referral_id>/acknowledge")
@staff_required(*COMPANY_ROLES)
def company_acknowledge(referral_id: uuid.UUID) -> Response:
    referral = _referral(referral_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if referral.status == "sent":
        referrals.acknowledge(db_session(), _ext("keyring"), _who(), referral)
        db_session().commit()
    return redirect(url_for("caseworker.company_referral", referral_id=referral.id))


@blueprint.post("/company/referrals/<uuid:referral_id>/answer")
@staff_required(*COMPANY_ROLES)
def company_answer(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    referral = _referral(referral_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _page(referral, form, 400)
    findings = (form.findings.data or "").strip()
    remedy = (form.proposed_remedy.data or "").strip()
    if not findings and not remedy:
        form.findings.errors = [str(_l("Write what you found or what you propose."))]
        return _page(referral, form, 400)
    try:
        referrals.answer(db_session(), _ext("keyring"), _who(), referral, findings, remedy)
    except referrals.ReferralError:
        db_session().rollback()
        abort(409)
    db_session().commit()
    return redirect(url_for("caseworker.company_referral", referral_id=referral.id, answered=1))


@blueprint.get("/company/referrals/<uuid:referral_id>/files/<uuid:file_id>")
@staff_required(*COMPANY_ROLES)
def company_file(referral_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    who = _who()
    return shared_file_response(_referral(referral_id), who.account, who.private_key, file_id)


@blueprint.post("/company/referrals/<uuid:referral_id>/commitments/<uuid:commitment_id>")
@staff_required(*COMPANY_ROLES)
def company_progress(
    referral_id: uuid.UUID, commitment_id: uuid.UUID
) -> Response | tuple[str, int]:
    """The company reports a commitment in progress or implemented; staff verify it."""
    referral = _referral(referral_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        status = CommitmentStatus(request.form.get("status", ""))
    except ValueError:
        return _page(referral, status=400, problem=str(_l("Choose where it stands.")))
    note = request.form.get("note", "").strip()[:20_000]
    db = db_session()
    try:
        remedies.company_progress(
            db, _ext("keyring"), _who(), referral, commitment_id, status, note
        )
    except remedies.RemedyError as error:
        db.rollback()
        if error.code == "no_commitment":
            abort(404)
        return _page(
            referral, status=400, problem=str(_l("This commitment cannot be reported on now."))
        )
    db.commit()
    return redirect(
        url_for("caseworker.company_referral", referral_id=referral.id, reported=1)
        + f"#commitment-{commitment_id}"
    )


@blueprint.post("/company/referrals/<uuid:referral_id>/evidence")
@staff_required(*COMPANY_ROLES)
def company_evidence(referral_id: uuid.UUID) -> Response | tuple[str, int]:
    """An officer sends files (already encrypted as they arrived) into the package."""
    referral = _referral(referral_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    staged = received_uploads()
    if not staged:
        return _page(referral, status=400, problem=str(_l("Choose a file first.")))
    problem = limit_problem(_ext("settings"), staged)
    if problem:
        return _page(referral, status=400, problem=problem)
    files = [drafts.stage(stream, name) for stream, name in staged]
    db = db_session()
    moved = referrals.add_company_files(
        db, _ext("keyring"), _ext("data_dir"), _who(), referral, files
    )
    try:
        db.commit()
    except Exception:
        for path in moved:
            path.unlink(missing_ok=True)
        raise
    return redirect(url_for("caseworker.company_referral", referral_id=referral.id, added=1))
