"""Referring a case: where it may go, consent, composing the package, and what came back.

Every route starts from :func:`portal.access.case_for`: a case the account holds no grant for,
and any referral of it, is 404. Consent is enforced in :mod:`portal.referrals`, not here.
"""

from __future__ import annotations

import uuid
from datetime import date

from flask import Response, abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import referrals
from portal.access import case_for
from portal.db import db_session
from portal.models import (
    Case,
    Company,
    Procedure,
    Recipient,
    Referral,
    ReferralOutcome,
    ReferralStatus,
    Scope,
    today,
)
from portal.public.summary import summarise

from . import blueprint
from .common import content_disposition
from .common import ext as _ext
from .common import signed_in as _who
from .forms import ActionForm, SignOutForm
from .roles import CASE_ROLES
from .session import current_staff, staff_required

MAX_TEXT = 50_000
REASONS = {
    "member": _l("Member company: its grievance mechanism can take the case."),
    "not_member": _l("Not a member company."),
    "no_contact": _l("The registry has no contact for its grievance mechanism yet."),
    "covers_everywhere": _l("Takes complaints from any country."),
    "covers_country": _l("Covers %(value)s."),
    "not_country": _l("Does not cover the country of the case."),
    "takes_language": _l("Takes complaints in the language of the case."),
    "not_language": _l("Does not list the language of the case."),
    "no_anonymous": _l("Does not accept anonymous complaints."),
    "needs_identity": _l(
        "Needs the complainant's identity, which the reporter has not allowed to go to "
        "other bodies."
    ),
    "unverified": _l("Registry entry not verified yet."),
}
PROBLEMS = {
    "not_member": _l("Only a member company named in the case can be referred to."),
    "no_target": _l("Choose where to refer the case."),
    "refused_by_reporter": _l("The reporter does not allow the case to go there."),
    "not_ready": _l("This referral cannot be changed now."),
    "no_consent": _l("The reporter has not allowed this yet."),
    "identity_not_allowed": _l("The reporter has not allowed their identity to go there."),
    "no_identity_access": _l("You do not hold the reporter's identity."),
    "empty": _l("Choose at least one answer or write a cover note."),
    "no_file": _l("One of the chosen files is not part of this case."),
    "file_too_large": _l("%(detail)s is too large to be cleaned and shared."),
    "cannot_clean": _l(
        "%(detail)s cannot be shared: its metadata cannot be removed. Describe it in the "
        "cover note instead."
    ),
    "not_prepared": _l("This package is not waiting to be sent."),
    "not_sent": _l("This referral has not been sent yet."),
    "bad_date": _l("Write the date as YYYY-MM-DD."),
    "too_long": _l("A text is too long."),
}
STATUS_LABELS = {
    ReferralStatus.WAITING_CONSENT: _l("Waiting for the reporter's consent"),
    ReferralStatus.READY: _l("Ready to compose"),
    ReferralStatus.PREPARED: _l("Package ready to send"),
    ReferralStatus.SENT: _l("Sent"),
    ReferralStatus.ACKNOWLEDGED: _l("Acknowledged"),
    ReferralStatus.ANSWERED: _l("Answered"),
    ReferralStatus.CLOSED: _l("Closed"),
    ReferralStatus.CANCELLED: _l("Cancelled"),
}
OUTCOME_LABELS = {
    ReferralOutcome.REMEDY_OFFERED: _l("Remedy offered"),
    ReferralOutcome.NO_REMEDY: _l("No remedy"),
    ReferralOutcome.NOT_ADMISSIBLE: _l("Not admissible"),
    ReferralOutcome.NO_RESPONSE: _l("No response"),
    ReferralOutcome.RESOLVED: _l("Resolved"),
}
SCOPE_LABELS = {
    Scope.UNASKED: _l("Not asked yet"),
    Scope.NOTHING: _l("Nothing may go"),
    Scope.ACCOUNT: _l("The account, without their identity"),
    Scope.IDENTITY: _l("The account with their identity"),
}
RECIPIENT_LABELS = {
    Recipient.COMPANY: _l("The company"),
    Recipient.BODIES: _l("Other complaint bodies"),
}


def problem_text(error: referrals.ReferralError) -> str:
    label = PROBLEMS.get(error.code)
    return str(label) % {"detail": error.detail} if label else error.code


def _case(case_id: uuid.UUID) -> Case:
    case = case_for(db_session(), _who().account, case_id)
    if case is None:
        abort(404)
    return case


def _referral(case: Case, referral_id: uuid.UUID) -> Referral:
    referral = db_session().get(Referral, referral_id)
    if referral is None or referral.case_id != case.id:
        abort(404)
    return referral


def target_name(referral: Referral) -> str:
    db = db_session()
    target = (
        db.get(Company, referral.company_id)
        if referral.company_id
        else db.get(Procedure, referral.procedure_id)
    )
    return target.name if target is not None else "—"


def _common() -> dict[str, object]:
    return {
        "who": current_staff(),
        "sign_out": SignOutForm(),
        "action": ActionForm(),
        "status_labels": STATUS_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "scope_labels": SCOPE_LABELS,
        "recipient_labels": RECIPIENT_LABELS,
        "target_name": target_name,
        "today": today(),
        "is_overdue": referrals.is_overdue,
    }


@blueprint.get("/caseworker/cases/<uuid:case_id>/refer")
@staff_required(*CASE_ROLES)
def refer(case_id: uuid.UUID, problem: str | None = None) -> tuple[str, int]:
    case = _case(case_id)
    db = db_session()
    return render_template(
        "caseworker/refer.html",
        case=case,
        suggestions=referrals.suggestions(db, case),
        reason_text=lambda reason: str(REASONS[reason.code]) % {"value": reason.value},
        consent={r: referrals.scope_for(case, r) for r in Recipient},
        asked={Recipient(r.recipient) for r in referrals.open_consent_requests(db, case.id)},
        problem=problem,
        **_common(),
    ), 400 if problem else 200


@blueprint.post("/caseworker/cases/<uuid:case_id>/refer")
@staff_required(*CASE_ROLES)
def refer_start(case_id: uuid.UUID) -> Response | tuple[str, int]:
    case = _case(case_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    def chosen(name: str) -> uuid.UUID | None:
        try:
            return uuid.UUID(request.form.get(name, ""))
        except ValueError:
            return None

    db = db_session()
    try:
        referral = referrals.start_referral(
            db, _who(), case, company_id=chosen("company"), procedure_id=chosen("procedure")
        )
    except referrals.ReferralError as error:
        db.rollback()
        return refer(case_id, problem=problem_text(error))
    db.commit()
    return redirect(url_for("caseworker.referral", case_id=case.id, referral_id=referral.id))


@blueprint.post("/caseworker/cases/<uuid:case_id>/consent")
@staff_required(*CASE_ROLES)
def consent(case_id: uuid.UUID) -> Response | tuple[str, int]:
    """Ask the reporter on the follow-up page, or record what they said by phone or in person."""
    case = _case(case_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        recipient = Recipient(request.form.get("recipient", ""))
        answer = request.form.get("scope", "")
        scope = Scope(answer) if answer else None
    except ValueError:
        abort(400)
    db = db_session()
    if scope is None:
        referrals.ask_consent(db, _who(), case, recipient)
    elif scope is Scope.UNASKED:
        abort(400)
    else:
        referrals.set_consent_for_reporter(db, _who(), case, recipient, scope)
    db.commit()
    return redirect(url_for("caseworker.refer", case_id=case.id))


# Steps whose answers are offered ticked; the others (safety: what the reporter fears, contact)
# must be ticked on purpose, as they can put the reporter at risk if they reach the company.
TICKED_STEPS = ("who", "what", "remedy")


def _answer_rows(case: Case, view_answers: dict[str, object]) -> list[tuple[str, str, str, bool]]:
    """(field name, question, answer in words, ticked at first) of every answered question but
    identity."""
    rows = []
    for section in summarise(view_answers):
        for row in section.rows:
            value = row.value if isinstance(row.value, str) else ", ".join(row.value)
            if value and row.name not in referrals.IDENTITY_FIELDS:
                rows.append((row.name, row.label, value, section.step in TICKED_STEPS))
    return rows


def _page(
    case: Case, referral: Referral, problem: str | None = None, status: int = 200
) -> tuple[str, int]:
    from portal.casework import open_case

    db = db_session()
    who = _who()
    keyring = _ext("keyring")
    view = None
    if referral.status == ReferralStatus.READY.value:
        view = open_case(db, keyring, who, case.id)
    referrals.share_with_new_holders(db, keyring, who, [referral])
    package = referrals.read_package(db, keyring, who.account, who.private_key, referral)
    answers = referrals.company_answers(db, keyring, who.account, who.private_key, referral)
    from_company = referrals.company_files(db, keyring, who.account, who.private_key, referral)
    db.commit()
    return render_template(
        "caseworker/referral.html",
        case=case,
        referral=referral,
        name=target_name(referral),
        view=view,
        rows=_answer_rows(case, view.answers) if view else [],
        package=package,
        answers=answers,
        from_company=from_company,
        scope=referrals.scope_for(case, referral.recipient),
        form_values=request.form,
        outcomes=OUTCOME_LABELS,
        problem=problem,
        **_common(),
    ), status


@blueprint.get("/caseworker/cases/<uuid:case_id>/referrals/<uuid:referral_id>")
@staff_required(*CASE_ROLES)
def referral(case_id: uuid.UUID, referral_id: uuid.UUID) -> tuple[str, int]:
    case = _case(case_id)
    return _page(case, _referral(case, referral_id))


@blueprint.post("/caseworker/cases/<uuid:case_id>/referrals/<uuid:referral_id>/compose")
@staff_required(*CASE_ROLES)
def referral_compose(case_id: uuid.UUID, referral_id: uuid.UUID) -> Response | tuple[str, int]:
    case = _case(case_id)
    chosen_referral = _referral(case, referral_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    form = request.form
    answers = [
        (form.get(f"question-{name}", "")[:500], form.get(f"text-{name}", ""))
        for name in form.getlist("answer")
    ]
    cover_note = form.get("cover_note", "")
    if len(cover_note) > MAX_TEXT or any(len(text) > MAX_TEXT for _q, text in answers):
        return _page(case, chosen_referral, str(PROBLEMS["too_long"]), 400)
    try:
        file_ids = [uuid.UUID(value) for value in form.getlist("file")]
    except ValueError:
        abort(400)
    choice = referrals.PackageChoice(
        answers=[(q, a) for q, a in answers if q],
        cover_note=cover_note,
        include_identity=form.get("identity") == "1",
        file_ids=file_ids,
    )
    db = db_session()
    try:
        referrals.compose(
            db,
            _ext("keyring"),
            _ext("data_dir"),
            _who(),
            chosen_referral,
            choice,
            _ext("settings").referral_response_days,
        )
    except referrals.ReferralError as error:
        db.rollback()
        return _page(case, _referral(case, referral_id), problem_text(error), 400)
    db.commit()
    return redirect(url_for("caseworker.referral", case_id=case.id, referral_id=referral_id))


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        raise referrals.ReferralError("bad_date") from None


@blueprint.post("/caseworker/cases/<uuid:case_id>/referrals/<uuid:referral_id>/sent")
@staff_required(*CASE_ROLES)
def referral_sent(case_id: uuid.UUID, referral_id: uuid.UUID) -> Response | tuple[str, int]:
    case = _case(case_id)
    chosen_referral = _referral(case, referral_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = db_session()
    try:
        sent_on = _date(request.form.get("sent_on", "")) or today()
        due_on = _date(request.form.get("due_on", ""))
        referrals.record_sent(
            db, _who(), chosen_referral, sent_on, request.form.get("reference", ""), due_on
        )
    except referrals.ReferralError as error:
        db.rollback()
        return _page(case, _referral(case, referral_id), problem_text(error), 400)
    db.commit()
    return redirect(url_for("caseworker.referral", case_id=case.id, referral_id=referral_id))


@blueprint.post("/caseworker/cases/<uuid:case_id>/referrals/<uuid:referral_id>/response")
@staff_required(*CASE_ROLES)
def referral_response(case_id: uuid.UUID, referral_id: uuid.UUID) -> Response | tuple[str, int]:
    case = _case(case_id)
    chosen_referral = _referral(case, referral_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        outcome = ReferralOutcome(request.form.get("outcome", ""))
    except ValueError:
        return _page(case, chosen_referral, _("Choose the outcome."), 400)
    db = db_session()
    try:
        on = _date(request.form.get("answered_on", "")) or today()
        referrals.record_response(
            db, _who(), chosen_referral, outcome, on, request.form.get("reference", "")
        )
    except referrals.ReferralError as error:
        db.rollback()
        return _page(case, _referral(case, referral_id), problem_text(error), 400)
    db.commit()
    return redirect(url_for("caseworker.referral", case_id=case.id, referral_id=referral_id))


@blueprint.get("/caseworker/cases/<uuid:case_id>/referrals/<uuid:referral_id>/package.zip")
@staff_required(*CASE_ROLES)
def referral_bundle(case_id: uuid.UUID, referral_id: uuid.UUID) -> Response:
    case = _case(case_id)
    chosen_referral = _referral(case, referral_id)
    db = db_session()
    title = _(
        "Complaint %(reference)s referred to %(name)s",
        reference=case.reference,
        name=target_name(chosen_referral),
    )
    data = referrals.bundle(db, _ext("keyring"), _ext("data_dir"), _who(), chosen_referral, title)
    if data is None:
        abort(404)
    db.commit()
    response = make_response(data)
    response.headers["Content-Type"] = "application/zip"
    response.headers["Content-Disposition"] = content_disposition(f"referral-{case.reference}.zip")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@blueprint.get("/caseworker/cases/<uuid:case_id>/referrals/<uuid:referral_id>/files/<uuid:file_id>")
@staff_required(*CASE_ROLES)
def referral_file(case_id: uuid.UUID, referral_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    case = _case(case_id)
    who = _who()
    return shared_file_response(_referral(case, referral_id), who.account, who.private_key, file_id)


def shared_file_response(referral: Referral, account, private_key, file_id: uuid.UUID) -> Response:  # type: ignore[no-untyped-def]
    """A cleaned copy from a package, as a download (staff and company alike)."""
    from portal.models import AuditEvent

    db = db_session()
    opened = referrals.open_shared_file(
        db, _ext("keyring"), _ext("data_dir"), account, private_key, referral, file_id
    )
    if opened is None:
        abort(404)
    info, data = opened
    db.add(
        AuditEvent(
            action="file.downloaded",
            actor_account_id=account.id,
            case_id=referral.case_id,
            detail=f"referral:{referral.id}",
        )
    )
    db.commit()
    response = make_response(data)
    response.headers["Content-Type"] = "application/octet-stream"
    response.headers["Content-Disposition"] = content_disposition(info.name)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
