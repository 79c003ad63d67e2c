"""Forms of the registry admin pages: a company, a procedure, a CSV file to import.

Codes and keys are read by the same rules as the CSV import (``portal.registry``), so a value
the page accepts always survives an export and an import.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, Field, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal import registry
from portal.charts import PROCEDURE_KIND_LABELS
from portal.db import db_session
from portal.models import Anonymity, Membership

from .forms import DayField

MEMBERSHIP_LABELS = {
    Membership.MEMBER: _l("Member"),
    Membership.TRANSITIONAL: _l("Transitional member (certification pending)"),
    Membership.SUSPENDED: _l("Suspended member"),
    Membership.FORMER: _l("Former member"),
    Membership.NOT_MEMBER: _l("Not a member"),
}
KIND_LABELS = PROCEDURE_KIND_LABELS  # one wording, shared with the published figures
# What the procedure list says under "Anonymous complaints".
ANONYMITY_LABELS = {
    Anonymity.YES: _l("Yes"),
    Anonymity.CONFIDENTIAL: _l("Only with a name, kept confidential"),
    Anonymity.NO: _l("No"),
}
# The same choice, as the edit form asks it.
ANONYMITY_CHOICES = {
    Anonymity.YES: _l("Yes, it accepts anonymous complaints"),
    Anonymity.CONFIDENTIAL: _l("The complainant must give a name, which it keeps confidential"),
    Anonymity.NO: _l("No, the complainant must be named"),
}
MAX_DAYS = 3650


def _too_long() -> Any:
    return _l("Use at most %(max)d characters.")


def _text(label: Any, limit: int, description: Any = None) -> TextAreaField:
    return TextAreaField(
        label, description=description, validators=[Length(max=limit, message=_too_long())]
    )


# Messages that quote what was typed (or stored) are plain strings made at validation time: a
# lazy string reaches Jinja as markup (it has ``__html__``) and would escape nothing.
def _check_countries(field: Field, *, any_country: bool) -> None:
    _codes, wrong = registry.country_codes(field.data or "", any_country=any_country)
    if wrong:
        raise ValidationError(
            _("These are not two-letter country codes: %(codes)s.", codes=" ".join(wrong))
        )


class CompanyForm(FlaskForm):
    """A member company (or one reporters named), as the admin adds or edits it."""

    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Enter the company's name.")),
            Length(max=200, message=_too_long()),
        ],
    )
    membership = SelectField(
        _l("Membership"),
        choices=[(value.value, label) for value, label in MEMBERSHIP_LABELS.items()],
        default=Membership.MEMBER.value,
        description=_l(
            "Reporters can choose members, transitional, suspended and former members on the "
            "public form."
        ),
    )
    countries = StringField(
        _l("Countries"),
        description=_l(
            "Where it works, as two-letter ISO codes separated by spaces: for example KE CD ZA."
        ),
        validators=[Length(max=400, message=_too_long())],
    )
    grievance_contact = _text(
        _l("Grievance contact"),
        4000,
        _l("How to reach the company's own grievance mechanism: web address, email, phone."),
    )
    response_days = StringField(
        _l("Response time in days (optional)"),
        description=_l(
            "The number of days the company committed to answer in, from 1 to 3650. "
            "Leave it empty if it made no commitment."
        ),
        render_kw={"inputmode": "numeric"},
    )

    def __init__(self, *args: Any, company_id: uuid.UUID | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.company_id = company_id

    def validate_name(self, field: Field) -> None:
        found = registry.company_with_name(db_session(), field.data or "")
        if found is not None and found.id != self.company_id:
            raise ValidationError(
                _("There is already a company with this name: %(name)s.", name=found.name)
            )

    def validate_countries(self, field: Field) -> None:
        _check_countries(field, any_country=False)

    def validate_response_days(self, field: Field) -> None:
        value = (field.data or "").strip()
        if value and not (value.isdigit() and 0 < int(value) <= MAX_DAYS):
            raise ValidationError(
                _("Enter a whole number of days from 1 to 3650, or leave it empty.")
            )

    def fields(self) -> dict[str, Any]:
        """The company's columns as the registry keeps them (call after validating)."""
        days = (self.response_days.data or "").strip()
        return {
            "name": " ".join((self.name.data or "").split()),
            "membership": self.membership.data,
            "countries": registry.country_codes(self.countries.data or "")[0],
            "grievance_contact": (self.grievance_contact.data or "").strip(),
            "response_days": int(days) if days else None,
        }


class ProcedureForm(FlaskForm):
    """An alternative grievance procedure, as the admin adds or edits it."""

    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Enter the procedure's name.")),
            Length(max=300, message=_too_long()),
        ],
    )
    key = StringField(
        _l("Key"),
        description=_l(
            "A short name that stays the same, to match rows of the CSV file: small letters, "
            "digits and hyphens, for example ncp-kenya."
        ),
        validators=[
            DataRequired(message=_l("Enter a key.")),
            Length(max=64, message=_too_long()),
        ],
    )
    kind = SelectField(
        _l("Kind"),
        choices=list(KIND_LABELS.items()),
    )
    countries = StringField(
        _l("Countries"),
        description=_l(
            "Where it takes complaints from, as two-letter ISO codes separated by spaces, "
            "or * for any country. Empty means any country."
        ),
        validators=[Length(max=400, message=_too_long())],
    )
    languages = StringField(
        _l("Languages"),
        description=_l(
            "The languages it takes complaints in, as ISO codes separated by spaces: "
            "for example en fr sw."
        ),
        validators=[Length(max=200, message=_too_long())],
    )
    accepts_anonymous = RadioField(
        _l("Does it accept anonymous complaints?"),
        choices=[(value.value, label) for value, label in ANONYMITY_CHOICES.items()],
        default=Anonymity.NO.value,
    )
    identity_required = BooleanField(
        _l("The company is told who complained"),
        default=True,
        description=_l("Tick this if the procedure gives the complainant's name to the company."),
    )
    time_limit = _text(
        _l("Time limit"), 2000, _l("How long after the harm a complaint can still be made.")
    )
    indicative_timeline = _text(
        _l("Indicative timeline"), 2000, _l("How long the procedure usually takes.")
    )
    contact = StringField(
        _l("Contact"),
        description=_l("A web address, an email or a postal address."),
        validators=[Length(max=500, message=_too_long())],
    )
    notes = _text(_l("Notes"), 4000)
    last_verified = DayField(
        _l("Last verified (optional)"),
        description=_l(
            "The day someone last checked these details against the procedure's own sources, "
            "like 2025-03-31. Leave it empty if nobody has."
        ),
        validators=[Optional()],
    )
    active = BooleanField(
        _l("Active"),
        default=True,
        description=_l("Only active procedures are offered when a case is referred."),
    )

    def __init__(self, *args: Any, procedure_id: uuid.UUID | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.procedure_id = procedure_id

    def validate_key(self, field: Field) -> None:
        key = (field.data or "").strip().lower()
        if not registry.valid_procedure_key(key):
            raise ValidationError(_("The key may hold only small letters, digits and hyphens."))
        found = registry.procedure_with_key(db_session(), key)
        if found is not None and found.id != self.procedure_id:
            raise ValidationError(_("Another procedure has this key: %(name)s.", name=found.name))

    def validate_countries(self, field: Field) -> None:
        _check_countries(field, any_country=True)

    def validate_languages(self, field: Field) -> None:
        _codes, wrong = registry.language_codes(field.data or "")
        if wrong:
            raise ValidationError(
                _("These are not language codes: %(codes)s.", codes=" ".join(wrong))
            )

    def fields(self) -> dict[str, Any]:
        """The procedure's columns as the registry keeps them (call after validating)."""
        return {
            "key": (self.key.data or "").strip().lower(),
            "kind": self.kind.data,
            "name": (self.name.data or "").strip(),
            "countries": registry.country_codes(self.countries.data or "", any_country=True)[0]
            or "*",
            "languages": registry.language_codes(self.languages.data or "")[0],
            "accepts_anonymous": self.accepts_anonymous.data,
            "identity_required": bool(self.identity_required.data),
            "time_limit": (self.time_limit.data or "").strip(),
            "indicative_timeline": (self.indicative_timeline.data or "").strip(),
            "contact": (self.contact.data or "").strip(),
            "notes": (self.notes.data or "").strip(),
            "last_verified": self.last_verified.data,
            "active": bool(self.active.data),
        }


class RegistryImportForm(FlaskForm):
    """A CSV file to add or update a registry's rows from."""

    csv_file = FileField(
        _l("CSV file"),
        description=_l(
            "Saved as CSV (UTF-8) with the columns of the downloaded file, at most %(size)s MB. "
            "Rows are matched to what is here; rows not in the file are left as they are.",
            size=registry.MAX_BYTES // 1_000_000,
        ),
        validators=[FileRequired(message=_l("Choose a CSV file to import."))],
    )
