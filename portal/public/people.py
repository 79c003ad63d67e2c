"""An organisation's filing: the people it files for and each one's consent (one page, as many
people as a group complaint needs, scanned consent forms), then the receipts it hands on."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, current_app, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import FieldList, Form, FormField, RadioField, StringField
from wtforms.fields import DateField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

import crypto

from .. import drafts, intake
from ..db import db_session
from ..drafts import DraftState
from ..models import Case
from ..people import MAX_PEOPLE, Person, person_from
from . import blueprint
from . import draft_pages as pages
from .evidence import limit_problem, received_uploads
from .steps import ORGANISATION_STEP_NAMES, PEOPLE_STEP

# The answers offered for each kind of recipient, in the words an organisation would use.
SHARE_CHOICES = [
    ("nothing", _l("Nothing")),
    ("account", _l("What happened, without their name")),
    ("identity", _l("What happened, with their name and contact")),
]
CASEWORKER_CHOICES = [
    ("account", _l("What happened, without their name (we keep it)")),
    ("identity", _l("What happened, with their name and contact")),
]
HOW_CHOICES = [
    ("spoken", _l("Spoken")),
    ("written", _l("Written and signed")),
    ("thumbprint", _l("Thumbprint")),
]
AGREED_CHOICES = [
    ("asked", _l("They asked us to file it")),
    ("agreed", _l("We proposed it and they agreed")),
]
YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]


def _required(message: object) -> list[Any]:
    return [InputRequired(message=message)]  # type: ignore[arg-type]


class PersonForm(Form):
    relationship = StringField(
        _l("Who is this person to your organisation?"),
        description=_l("For example: a member of our union, a client, a villager we work with."),
        validators=[DataRequired(message=_l("Say who this person is to you.")), Length(max=500)],
    )
    agreed = RadioField(
        _l("Did this person ask for this complaint, or agree to it?"),
        choices=AGREED_CHOICES,
        validators=_required(_l("Say how this person wanted this complaint.")),
    )
    how = RadioField(
        _l("How did they give their consent?"),
        choices=HOW_CHOICES,
        validators=_required(_l("Say how consent was given.")),
    )
    on = DateField(
        _l("When did they give it?"),
        description=_l("Year, month and day, for example 2026-03-14."),
        validators=[InputRequired(message=_l("Give the date of their consent."))],
    )
    caseworkers = RadioField(
        _l("What may the caseworkers know?"),
        choices=CASEWORKER_CHOICES,
        validators=_required(_l("Say what the caseworkers may know.")),
    )
    name = StringField(
        _l("Their name"),
        description=_l("Only if the caseworkers may know it."),
        validators=[Optional(), Length(max=500)],
    )
    contact = StringField(
        _l("How to reach them"),
        description=_l("A phone number, an address, or \u201cthrough our organisation\u201d."),
        validators=[Optional(), Length(max=500)],
    )
    company = RadioField(
        _l("What may go to the company?"),
        choices=SHARE_CHOICES,
        validators=_required(_l("Say what may go to the company.")),
    )
    bodies = RadioField(
        _l("What may go to other complaint bodies?"),
        description=_l(
            "For example a national human rights institution, an OECD contact point or a court."
        ),
        choices=SHARE_CHOICES,
        validators=_required(_l("Say what may go to other complaint bodies.")),
    )
    public_reports = RadioField(
        _l("May this complaint be counted, without names, in public reports?"),
        choices=YES_NO,
        validators=_required(_l("Say whether it may be counted in public reports.")),
    )
    own_receipt = RadioField(
        _l("Does this person want their own receipt, to follow the case themselves?"),
        choices=YES_NO,
        validators=_required(_l("Say whether they want their own receipt.")),
    )

    def validate_on(self, field: Any) -> None:
        if field.data and field.data > date.today():
            raise ValidationError(_l("Consent cannot be given in the future."))

    def validate_name(self, field: Any) -> None:
        if self.caseworkers.data == "identity" and not (field.data or "").strip():
            raise ValidationError(
                _l("Give their name, or choose that caseworkers may not know it.")
            )

    def validate_company(self, field: Any) -> None:
        self._name_needs_caseworkers(field)

    def validate_bodies(self, field: Any) -> None:
        self._name_needs_caseworkers(field)

    def _name_needs_caseworkers(self, field: Any) -> None:
        if field.data == "identity" and self.caseworkers.data != "identity":
            raise ValidationError(
                _l("Their name can go further only if the caseworkers may know it.")
            )


class PeopleForm(FlaskForm):
    people = FieldList(FormField(PersonForm), min_entries=1, max_entries=MAX_PEOPLE)


def _stored(form: PeopleForm) -> list[dict[str, Any]]:
    """The people as typed, kept in the draft even when something is missing."""
    rows = []
    for entry in form.people:
        values = {name: sub.data for name, sub in entry.form._fields.items()}
        if isinstance(values.get("on"), date):
            values["on"] = values["on"].isoformat()
        rows.append({k: v for k, v in values.items() if k != "csrf_token"})
    return rows


def _form(state: DraftState) -> PeopleForm:
    stored = list(state.answers.get(intake.PEOPLE) or [{}])
    for row in stored:  # the date is kept as text; the form wants a date
        if isinstance(row.get("on"), str) and row["on"]:
            try:
                row["on"] = date.fromisoformat(row["on"])
            except ValueError:
                row["on"] = None
    return PeopleForm(formdata=None, data={"people": stored})


def person_errors(form: PeopleForm) -> list[tuple[str, str]]:
    """(field id, message) for the summary at the top of the page."""
    found = []
    for entry in form.people:
        for sub in entry.form:
            for message in sub.errors:
                found.append((sub.id, str(message)))
    return found


def _organisation_draft() -> tuple[bytes, DraftState] | None:
    current = pages.current_draft()
    if current is not None and not current[1].answers.get(intake.FILED_BY_ORGANISATION):
        abort(404)  # a reporter's own filing has no people step
    return current


@blueprint.route("/report/people", methods=["GET", "POST"])
def report_people() -> Response | tuple[str, int]:
    current = _organisation_draft()
    if current is None:
        return pages.expired()
    token, state = current
    if request.method == "GET":
        return _page(state, _form(state))
    form = PeopleForm()
    form.validate()
    if form.csrf_token.errors:
        abort(400)  # nothing is saved from a request that cannot prove where it came from
    state.answers[intake.PEOPLE] = _stored(form)
    action = request.form.get("action", "continue")
    problem = _add_scans(state)
    if problem:  # files over the limits: nothing of them kept, everything typed kept
        drafts.save(db_session(), token, state)
        return _page(state, form, problem, 400)
    if action == "scan":
        return pages.save(token, state, _again("consent-forms"))
    if action == "add" and len(form.people) < MAX_PEOPLE:
        state.answers[intake.PEOPLE].append({})
        return pages.save(token, state, _again(f"person-{len(form.people) + 1}"))
    if action.startswith("remove-") and len(form.people) > 1:
        index = int(action.removeprefix("remove-")) if action[7:].isdigit() else -1
        if 0 <= index < len(form.people):
            del state.answers[intake.PEOPLE][index]
        return pages.save(token, state, _again("people"))
    if action.startswith("unscan-"):
        _remove_scan(state, action.removeprefix("unscan-"))
        return pages.save(token, state, _again("consent-forms"))
    if form.errors:
        drafts.save(db_session(), token, state)  # keep what was typed, whatever else is wrong
        return _page(state, form, None, 400)
    if "people" not in state.visited:
        state.visited.append("people")
    target = "check" if request.args.get("return") == "check" else "what"
    return pages.save(token, state, _redirect(url_for("public.report_step", step=target)))


def _redirect(location: str) -> Response:
    return redirect(location, code=303)


def _again(anchor: str) -> Response:
    return _redirect(url_for("public.report_people") + f"#{anchor}")


def _add_scans(state: DraftState) -> str | None:
    uploads = received_uploads()
    if not uploads:
        return None
    settings = pages.settings()
    problem = limit_problem(settings, uploads, len(state.files), state.total_bytes)
    if problem is None:
        staged = [drafts.stage(upload, name) for upload, name in uploads]
        state.files.extend(staged)
        scans = list(state.answers.get(intake.CONSENT_FILES) or [])
        state.answers[intake.CONSENT_FILES] = scans + [str(item.file_id) for item in staged]
    return problem


def _remove_scan(state: DraftState, file_id: str) -> None:
    scans = list(state.answers.get(intake.CONSENT_FILES) or [])
    for staged in list(state.files):
        if str(staged.file_id) == file_id and file_id in scans:
            drafts.remove_file(current_app.extensions["portal_data_dir"], state, staged.file_id)
            scans.remove(file_id)
    state.answers[intake.CONSENT_FILES] = scans


def _page(
    state: DraftState, form: PeopleForm, problem: str | None = None, status: int = 200
) -> tuple[str, int]:
    scans = set(state.answers.get(intake.CONSENT_FILES) or [])
    return pages.page(
        "public/step_people.html",
        status,
        ORGANISATION_STEP_NAMES,
        form=form,
        errors=person_errors(form),
        problem=problem,
        step=PEOPLE_STEP,
        step_number=pages.step_number("people", ORGANISATION_STEP_NAMES),
        scans=[staged for staged in state.files if str(staged.file_id) in scans],
        max_people=MAX_PEOPLE,
        max_mb=pages.settings().max_upload_bytes // (1024 * 1024),
    )


def people_summary(answers: dict[str, Any]) -> list[Person]:
    """The people of an organisation's draft, as they will be stored (names only where the
    caseworkers may know them)."""
    return [
        person_from(row, index + 1) for index, row in enumerate(answers.get(intake.PEOPLE) or [])
    ]


def filed_for_people(filed: intake.Filed, submission: intake.Submission) -> tuple[str, int]:
    """After an organisation's filing: the case's reference and a receipt for each person who
    wanted one (shown once, never stored)."""
    case = db_session().get(Case, filed.case_id)
    wanting = [
        p for p in (submission.consent.people if submission.consent else ()) if p.own_receipt
    ]
    receipts = [
        (person, crypto.format_receipt(receipt))
        for person, receipt in zip(wanting, filed.receipts, strict=True)
    ]
    return pages.page(
        "public/filed_for_people.html",
        case=case,
        receipts=receipts,
        acknowledge_by=filed.acknowledge_by.date(),
    )
