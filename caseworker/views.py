"""Staff pages. Every route but sign-in goes through ``staff_required``."""

from __future__ import annotations

import uuid

from flask import (
    Response,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l

from portal.access import case_for
from portal.casework import (
    CaseView,
    add_note,
    move_case,
    open_attachment,
    open_case,
    send_message,
)
from portal.charts import CHANNEL_LABELS
from portal.db import db_session
from portal.intermediaries import consent_files, read_consent
from portal.message_templates import TEMPLATE_NAMES, template_text
from portal.models import Organisation, Outcome
from portal.public.steps import NOT_FOR_ORGANISATIONS
from portal.public.summary import summarise
from portal.referrals import case_referrals
from portal.referrals import is_overdue as referral_overdue
from portal.retention import clear_sqlite_wal, erase_case
from portal.sharing import holders, pending_identity_requests
from portal.stages import STAFF_LABELS, Stage
from portal.topics import TOPICS
from portal.workflow import Move, allowed_moves

from . import blueprint
from .access_views import staff_choices
from .case_forms import OUTCOME_LABELS, CaseMessageForm, MoveForm, NoteForm
from .common import attachment_response
from .common import ext as _ext
from .common import signed_in as _who
from .forms import ActionForm, SignOutForm
from .referral_views import STATUS_LABELS, target_name
from .roles import CASE_ROLES, SUPERVISING_ROLES
from .session import staff_required

MOVE_PROBLEMS = {
    "not_allowed": _l("This move is not possible from the current stage."),
    "message": _l("Write the message to the reporter."),
    "reason": _l("Write the reason for this decision."),
    "outcome": _l("Choose the outcome."),
}


def _move_form(view: CaseView, form: MoveForm | None = None) -> MoveForm:
    form = form or MoveForm()
    form.to_stage.choices = [
        (stage.value, str(STAFF_LABELS[stage])) for stage in allowed_moves(Stage(view.case.stage))
    ]
    return form


@blueprint.get("/caseworker/cases/<uuid:case_id>")
@staff_required(*CASE_ROLES)
def case(
    case_id: uuid.UUID,
    message_form: CaseMessageForm | None = None,
    move_form: MoveForm | None = None,
    note_form: NoteForm | None = None,
) -> tuple[str, int]:
    who = _who()
    view = open_case(db_session(), _ext("keyring"), who, case_id)
    if view is None:
        abort(404)
    answers = {**view.answers, **(view.identity or {})}
    template = request.args.get("template", "")
    if template:
        text = template_text(db_session(), template, view.case.language)
        message_form = message_form or CaseMessageForm(data={"message": text})
        move_form = move_form or MoveForm(data={"reporter_message": text})
    failed = any(f is not None and f.errors for f in (message_form, move_form, note_form))
    db = db_session()
    supervising = who.account.role in SUPERVISING_ROLES
    current_holders = holders(db, case_id) if supervising else []
    held = {holder.account.id for holder in current_holders}
    requests = pending_identity_requests(db, case_id)
    consent, consent_history = read_consent(db, _ext("keyring"), who, view.case)
    organisation = (
        db.get(Organisation, view.case.organisation_id) if view.case.organisation_id else None
    )
    return render_template(
        "caseworker/case.html",
        view=view,
        who=who,
        sign_out=SignOutForm(),
        sections=summarise(answers, skip=NOT_FOR_ORGANISATIONS if organisation else ()),
        organisation=organisation,
        consent=consent,
        consent_history=consent_history,
        consent_files=consent_files(db, _ext("keyring"), who, view.case) if consent else [],
        topic_labels=[str(TOPICS.get(topic, topic)) for topic in view.topics],
        message_form=message_form or CaseMessageForm(),
        move_form=_move_form(view, move_form),
        note_form=note_form or NoteForm(),
        templates=TEMPLATE_NAMES,
        supervising=supervising,
        holders=current_holders,
        assign_choices=staff_choices(set()) if supervising else [],
        grant_choices=staff_choices(held) if supervising else [],
        identity_requests=requests if supervising else [],
        asked_identity=any(request.account_id == who.account.id for request, _account in requests),
        referrals=case_referrals(db, case_id),
        referral_status=STATUS_LABELS,
        outcome_labels=OUTCOME_LABELS,
        channel_labels=CHANNEL_LABELS,
        referral_target=target_name,
        referral_overdue=referral_overdue,
    ), 400 if failed else 200


@blueprint.post("/caseworker/cases/<uuid:case_id>/messages")
@staff_required(*CASE_ROLES)
def send(case_id: uuid.UUID) -> Response | tuple[str, int]:
    form = CaseMessageForm()
    if not form.validate_on_submit():
        return case(case_id, message_form=form)
    if not send_message(db_session(), _ext("keyring"), _who(), case_id, form.message.data or ""):
        abort(404)
    return redirect(url_for("caseworker.case", case_id=case_id, sent=1))


@blueprint.post("/caseworker/cases/<uuid:case_id>/notes")
@staff_required(*CASE_ROLES)
def note(case_id: uuid.UUID) -> Response | tuple[str, int]:
    form = NoteForm()
    if not form.validate_on_submit():
        return case(case_id, note_form=form)
    if not add_note(db_session(), _ext("keyring"), _who(), case_id, form.note.data or ""):
        abort(404)
    return redirect(url_for("caseworker.case", case_id=case_id, noted=1) + "#notes")


@blueprint.post("/caseworker/cases/<uuid:case_id>/move")
@staff_required(*CASE_ROLES)
def move(case_id: uuid.UUID) -> Response | tuple[str, int]:
    db = db_session()
    current = case_for(db, _who().account, case_id)
    if current is None:
        abort(404)
    form = MoveForm()
    form.to_stage.choices = [(s.value, s.value) for s in Stage]
    if not form.validate_on_submit():
        return case(case_id, move_form=form)
    requested = Move(
        to_stage=Stage(form.to_stage.data),
        message=form.reporter_message.data or "",
        reason=form.reason.data or "",
        outcome=Outcome(form.outcome.data) if form.outcome.data else None,
    )
    problems = requested.problems(Stage(current.stage))
    if problems:
        form.to_stage.errors = [str(MOVE_PROBLEMS[p]) for p in problems]
        return case(case_id, move_form=form)
    if not move_case(db, _ext("keyring"), _ext("settings"), _who(), case_id, requested):
        abort(404)
    return redirect(url_for("caseworker.case", case_id=case_id, moved=1))


@blueprint.get("/caseworker/cases/<uuid:case_id>/files/<uuid:file_id>")
@staff_required(*CASE_ROLES)
def attachment(case_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    opened = open_attachment(
        db_session(), _ext("keyring"), _ext("data_dir"), _who(), case_id, file_id
    )
    if opened is None:
        abort(404)
    return attachment_response(*opened)


@blueprint.post("/caseworker/cases/<uuid:case_id>/erase")
@staff_required(*SUPERVISING_ROLES)
def erase(case_id: uuid.UUID) -> Response:
    """A supervisor confirms the reporter's request to erase a withdrawn case: gone for good."""
    db = db_session()
    case = case_for(db, _who().account, case_id)
    if case is None or case.erasure_requested_on is None:
        abort(404)
    if not ActionForm().validate_on_submit() or request.form.get("confirm") != "1":
        abort(400)
    erase_case(db, _ext("data_dir"), case.id, "erasure_requested", _who().account.id)
    clear_sqlite_wal(db)
    return redirect(url_for("caseworker.cases", erased=1))
