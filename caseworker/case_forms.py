"""Forms of the case page: moving a case, notes, access."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.models import Outcome

OUTCOME_LABELS = {
    Outcome.REMEDIED: _l("Remedied"),
    Outcome.PARTLY_REMEDIED: _l("Partly remedied"),
    Outcome.NOT_REMEDIED: _l("Not remedied"),
    Outcome.WITHDRAWN: _l("Withdrawn"),
    Outcome.NO_RESPONSE: _l("No response"),
    Outcome.NOT_ELIGIBLE: _l("Not eligible"),
}


class MoveForm(FlaskForm):
    to_stage = SelectField(_l("Move the case to"), validate_choice=True)
    reporter_message = TextAreaField(
        _l("Message to the reporter"),
        description=_l("Needed to acknowledge a complaint, and when it is not eligible."),
        validators=[Length(max=50_000)],
    )
    reason = TextAreaField(
        _l("Reason for the decision (internal)"),
        description=_l("Needed for the eligibility decision. Never shown to the reporter."),
        validators=[Length(max=50_000)],
    )
    outcome = SelectField(
        _l("Outcome"),
        choices=[("", "—"), *[(o.value, label) for o, label in OUTCOME_LABELS.items()]],
        validate_choice=True,
        validators=[Optional()],
    )


class NoteForm(FlaskForm):
    note = TextAreaField(
        _l("Internal note"),
        description=_l("Only staff with access to this case read it. Never shown to the reporter."),
        validators=[DataRequired(message=_l("Write the note first.")), Length(max=50_000)],
    )


class CaseMessageForm(FlaskForm):
    message = TextAreaField(
        _l("Message to the reporter"),
        description=_l("The reporter reads it with their receipt number. Write in their language."),
        validators=[DataRequired(message=_l("Write your message first.")), Length(max=50_000)],
    )
