"""The public forms. Every label and message goes through gettext."""

from __future__ import annotations

from babel import Locale
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..config import Settings


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166 countries named in the reader's language, sorted by that name."""
    locale = Locale.parse(str(get_locale() or "en"))
    names = {
        code: name
        for code, name in locale.territories.items()
        if len(code) == 2 and code.isalpha() and code not in {"ZZ", "XA", "XB", "EU", "EZ", "UN"}
    }
    ordered = sorted(names.items(), key=lambda item: item[1].casefold())
    return [("", str(_l("I'd rather not say"))), *ordered]


def _settings() -> Settings:
    settings: Settings = current_app.extensions["portal_settings"]
    return settings


class ReportForm(FlaskForm):
    """The complaint in one page (the multi-step filing comes with the intake issue)."""

    what_happened = TextAreaField(
        _l("What happened?"),
        description=_l("Write in any language. Say what happened, to whom, and who did it."),
        validators=[DataRequired(message=_l("Tell us what happened."))],
    )
    where = StringField(_l("Where did it happen?"), validators=[Optional()])
    when = StringField(_l("When did it happen?"), validators=[Optional()])
    company = StringField(_l("Which security company?"), validators=[Optional()])
    country = SelectField(_l("In which country?"), choices=[], validate_choice=True)
    attachments = MultipleFileField(
        _l("Photos, recordings or documents"),
        description=_l("You can add files. Each file can be up to %(size)s MB."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()
        limit = _settings().max_text_chars
        for field in (self.what_happened, self.where, self.when, self.company):
            field.validators = [
                *field.validators,
                Length(max=limit, message=_l("Please shorten this answer.")),
            ]


class FollowUpForm(FlaskForm):
    receipt = StringField(
        _l("Your receipt number"),
        description=_l("The 20 digits you were given when you sent your complaint."),
        validators=[DataRequired(message=_l("Enter your receipt number."))],
    )
