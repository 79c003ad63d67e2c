"""An organisation's cases: the list, filing a new one, and each case's page (the stage, the
messages with the caseworkers, remedies, evidence, consent, hand-over). Every route checks that
the case is the organisation's and that the account holds it; anything else is 404."""

from __future__ import annotations

import uuid

from flask import abort, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

import crypto
from portal import drafts, intermediaries, remedies
from portal.casework import open_attachment
from portal.cookies import set_token_cookie
from portal.db import db_session
from portal.intake import FILED_BY_ORGANISATION
from portal.models import AuditEvent, Case, today
from portal.people import person_from
from portal.public.evidence import limit_problem, received_uploads
from portal.public.following import COMMITMENT_WORDS, REMEDY_WORDS
from portal.public.people import PeopleForm, person_errors
from portal.stages import REPORTER_WORDING, Stage

from . import blueprint
from .common import attachment_response
from .common import ext as _ext
from .common import signed_in as _who
from .forms import SignOutForm
from .intermediary_views import INTERMEDIARY_ROLES, _organisation
from .session import staff_required

Page = Response | str | tuple[str, int]


class MessageForm(FlaskForm):
    message = TextAreaField(
        _l("Write to the caseworkers"),
        description=_l("Answer their questions or tell them something new about the case."),
        validators=[DataRequired(message=_l("Write your message first.")), Length(max=50_000)],
    )


class HandOverForm(FlaskForm):
    stop_following = BooleanField(_l("Our organisation stops following this case"))


class ConsentNoteForm(FlaskForm):
    note = TextAreaField(
        _l("What changed, and when did they tell you?"),
        validators=[DataRequired(message=_l("Say what changed.")), Length(max=5_000)],
    )


@blueprint.get("/intermediary/")
@staff_required(*INTERMEDIARY_ROLES)
def intermediary_home() -> str:
    db = db_session()
    who = _who()
    intermediaries.share_with_colleagues(db, _ext("keyring"), who)
    return render_template(
        "caseworker/intermediary_home.html",
        who=who,
        sign_out=SignOutForm(),
        organisation=_organisation(),
        cases=intermediaries.organisation_cases(db, who.account),
        form=FlaskForm(),
        today=today(),
    )


@blueprint.post("/intermediary/file")
@staff_required(*INTERMEDIARY_ROLES)
def intermediary_file() -> Response:
    """Start a filing for someone else: the public form's questions, with the people step."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    who = _who()
    db = db_session()
    token, state = drafts.start(db)
    state.answers[FILED_BY_ORGANISATION] = {  # not a form field: nobody else can set it
        "organisation": str(who.account.organisation_id),
        "account": str(who.account.id),
    }
    drafts.save(db, token, state)
    db.add(AuditEvent(action="case.filing_started", actor_account_id=who.account.id))
    db.commit()
    response = redirect(url_for("public.report_people", lang=str(get_locale())))
    set_token_cookie(response, "draft", token, drafts.DRAFT_MINUTES * 60)
    return response


def _view(case_id: uuid.UUID) -> intermediaries.IntermediaryView:
    try:
        return intermediaries.open_for_organisation(db_session(), _ext("keyring"), _who(), case_id)
    except intermediaries.NotYours:
        abort(404)


def _case_page(
    view: intermediaries.IntermediaryView,
    message_form: MessageForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    db = db_session()
    return render_template(
        "caseworker/intermediary_case.html",
        who=_who(),
        sign_out=SignOutForm(),
        view=view,
        stage_text=REPORTER_WORDING[Stage(view.case.stage)],
        closed=view.case.stage == Stage.CLOSED.value,
        message_form=message_form or MessageForm(formdata=None),
        hand_over=HandOverForm(formdata=None),
        form=FlaskForm(formdata=None),
        remedies=remedies.for_keys(db, view.case.id, view.keys),
        remedy_words=REMEDY_WORDS,
        commitment_words=COMMITMENT_WORDS,
        error=error,
        max_mb=_ext("settings").max_upload_bytes // (1024 * 1024),
    ), status


@blueprint.get("/intermediary/cases/<uuid:case_id>")
@staff_required(*INTERMEDIARY_ROLES)
def intermediary_case(case_id: uuid.UUID) -> Page:
    return _case_page(_view(case_id))


@blueprint.post("/intermediary/cases/<uuid:case_id>/messages")
@staff_required(*INTERMEDIARY_ROLES)
def intermediary_message(case_id: uuid.UUID) -> Page:
    form = MessageForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _case_page(_view(case_id), message_form=form, status=400)
    try:
        intermediaries.write(
            db_session(), _ext("keyring"), _who(), case_id, form.message.data or ""
        )
    except intermediaries.NotYours:
        abort(404)
    return redirect(url_for("caseworker.intermediary_case", case_id=case_id, sent=1) + "#messages")


@blueprint.post("/intermediary/cases/<uuid:case_id>/evidence")
@staff_required(*INTERMEDIARY_ROLES)
def intermediary_evidence(case_id: uuid.UUID) -> Page:
    if not FlaskForm().validate_on_submit():
        abort(400)
    uploads = received_uploads()
    if not uploads:
        return _case_page(_view(case_id), error=_("Choose a file first."), status=400)
    problem = limit_problem(_ext("settings"), uploads)
    if problem:
        return _case_page(_view(case_id), error=problem, status=400)
    staged = [drafts.stage(upload, name) for upload, name in uploads]
    try:
        intermediaries.add_evidence(
            db_session(), _ext("keyring"), _ext("data_dir"), _who(), case_id, staged
        )
    except intermediaries.NotYours:
        abort(404)
    return redirect(url_for("caseworker.intermediary_case", case_id=case_id, added=1) + "#evidence")


@blueprint.get("/intermediary/cases/<uuid:case_id>/files/<uuid:file_id>")
@staff_required(*INTERMEDIARY_ROLES)
def intermediary_file_download(case_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    try:  # the organisation's case, or 404 (nothing of it decrypted but the file)
        case = intermediaries.organisation_case(db_session(), _who(), case_id)
    except intermediaries.NotYours:
        abort(404)
    opened = open_attachment(
        db_session(), _ext("keyring"), _ext("data_dir"), _who(), case.id, file_id
    )
    if opened is None:
        abort(404)
    return attachment_response(*opened)


def _consent_page(
    view: intermediaries.IntermediaryView,
    form: PeopleForm,
    note: ConsentNoteForm,
    status: int = 200,
) -> tuple[str, int]:
    errors = person_errors(form) + [(note.note.id, str(message)) for message in note.note.errors]
    return render_template(
        "caseworker/intermediary_consent.html",
        who=_who(),
        sign_out=SignOutForm(),
        view=view,
        form=form,
        note=note,
        errors=errors,
    ), status


@blueprint.get("/intermediary/cases/<uuid:case_id>/consent")
@staff_required(*INTERMEDIARY_ROLES)
def intermediary_consent(case_id: uuid.UUID) -> Page:
    view = _view(case_id)
    if view.consent is None:
        abort(404)
    yes_no = {True: "yes", False: "no"}
    people = [
        {
            **person.consent(),
            "name": person.name,
            "contact": person.contact,
            "on": person.on_date,
            "public_reports": yes_no[person.public_reports],
            "own_receipt": yes_no[person.own_receipt],
        }
        for person in view.consent.people
    ]
    form = PeopleForm(formdata=None, data={"people": people})
    return _consent_page(view, form, ConsentNoteForm(formdata=None))


@blueprint.post("/intermediary/cases/<uuid:case_id>/consent")
@staff_required(*INTERMEDIARY_ROLES)
def intermediary_update_consent(case_id: uuid.UUID) -> Page:
    view = _view(case_id)
    if view.consent is None:
        abort(404)
    form, note = PeopleForm(), ConsentNoteForm()
    valid = form.validate() & note.validate()
    if form.csrf_token.errors:
        abort(400)
    if not valid or len(form.people) != len(view.consent.people):
        return _consent_page(view, form, note, 400)
    people = tuple(
        person_from({k: v for k, v in entry.data.items()}, index + 1)
        for index, entry in enumerate(form.people)
    )
    intermediaries.update_consent(
        db_session(), _ext("keyring"), _who(), case_id, people, note.note.data or ""
    )
    return redirect(
        url_for("caseworker.intermediary_case", case_id=case_id, consent=1) + "#consent"
    )


@blueprint.post("/intermediary/cases/<uuid:case_id>/hand-over")
@staff_required(*INTERMEDIARY_ROLES)
def intermediary_hand_over(case_id: uuid.UUID) -> Page:
    form = HandOverForm()
    if not form.validate_on_submit():
        abort(400)
    try:  # hand_over checks the case is the organisation's
        receipt = intermediaries.hand_over(
            db_session(),
            _ext("keyring"),
            _ext("settings"),
            _who(),
            case_id,
            stop_following=bool(form.stop_following.data),
        )
    except intermediaries.NotYours:
        abort(404)
    case = db_session().get(Case, case_id)
    return render_template(  # staff pages are never stored by the browser (no-store)
        "caseworker/intermediary_handed_over.html",
        who=_who(),
        sign_out=SignOutForm(),
        case=case,
        receipt=crypto.format_receipt(receipt),
        stopped=bool(form.stop_following.data),
    )
