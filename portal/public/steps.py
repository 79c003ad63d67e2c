"""The filing, one topic a page: each step's form, and the order of the steps.

Answers are stored in the draft under the form's field names; ``portal.intake`` decides which of
them stay readable. Only "what happened" is required.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import Locale
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import Field, Form, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..db import db_session
from ..intake import FILED_BY_ORGANISATION
from ..models import Company
from ..models.company import LISTED
from ..topics import RATHER_NOT_SAY, REMEDIES, TOPICS
from .fields import RATHER_NOT_SAY_LABEL, CheckboxesField, radio

_EXCLUDED_TERRITORIES = {"ZZ", "XA", "XB", "EU", "EZ", "UN", "QO"}


@functools.cache
def _countries(language: str) -> tuple[tuple[str, str], ...]:
    """The countries in one language, sorted by name (CLDR data: the same for every request)."""
    locale = Locale.parse(language)
    names = {
        code: name
        for code, name in locale.territories.items()
        if len(code) == 2 and code.isalpha() and code not in _EXCLUDED_TERRITORIES
    }
    return tuple(sorted(names.items(), key=lambda item: item[1].casefold()))


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166 countries named in the reader's language, sorted by that name."""
    return [
        ("", str(_l("Choose a country"))),
        *_countries(str(get_locale() or "en")),
        (RATHER_NOT_SAY, str(RATHER_NOT_SAY_LABEL)),
    ]


def company_choices() -> list[tuple[str, str]]:
    members = db_session().scalars(
        select(Company).where(Company.membership.in_(LISTED)).order_by(Company.name)
    )
    return [
        ("", str(_l("Choose a company"))),
        *[(str(company.id), company.name) for company in members],
        ("dont_know", str(_l("I don't know"))),
        ("other", str(_l("Another company (write its name below)"))),
    ]


def month_choices() -> list[tuple[str, str]]:
    locale = Locale.parse(str(get_locale() or "en"))
    months = locale.months["stand-alone"]["wide"]
    return [("", str(_l("Month")))] + [(str(number), months[number]) for number in range(1, 13)]


def _text_limit() -> int:
    return int(current_app.extensions["portal_settings"].max_text_chars)


class StepForm(FlaskForm):
    """A step: every free-text answer is limited in length."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self:
            if isinstance(field, StringField | TextAreaField):
                field.validators = [
                    *field.validators,
                    Length(max=_text_limit(), message=_l("Please shorten this answer.")),
                ]


class WhoForm(StepForm):
    filer = radio(
        _l("Who is this complaint about?"),
        [
            ("self", _l("Something that happened to me")),
            ("for_other", _l("Something that happened to someone else. I am filing for them.")),
            ("witness", _l("I saw or know of a wrong, but it did not harm me")),
        ],
    )
    relationship = StringField(
        _l("If you are filing for someone else: who are they to you?"),
        description=_l("For example: my brother, my neighbour, a member of our union."),
    )
    person_agreed = radio(
        _l("Has this person agreed to this complaint?"),
        [("yes", _l("Yes")), ("no", _l("No")), ("cannot_ask", _l("I could not ask them"))],
    )
    person_name_shared = radio(
        _l("Who may know this person's name?"),
        [
            ("caseworkers", _l("Only the caseworkers who handle the complaint")),
            ("company", _l("The caseworkers and the company")),
            ("bodies", _l("The caseworkers and other complaint bodies")),
            ("all", _l("All of these")),
        ],
    )


class WhatForm(StepForm):
    what_happened = TextAreaField(
        _l("What happened?"),
        description=_l(
            "Write in any language. Say what happened, to whom, and who did it. "
            "This is the only question you must answer."
        ),
        validators=[DataRequired(message=_l("Tell us what happened."))],
    )
    topics = CheckboxesField(
        _l("What kind of harm or wrong was it?"),
        description=_l("Choose all that fit. We use this, without names, for our public figures."),
        choices=list(TOPICS.items()),
    )
    when_day = IntegerField(
        _l("Day"),
        validators=[Optional(), NumberRange(1, 31, message=_l("Enter a day from 1 to 31."))],
    )
    when_month = SelectField(_l("Month"), validate_choice=True, validators=[Optional()])
    when_year = IntegerField(
        _l("Year"),
        validators=[
            Optional(),
            NumberRange(1950, 2100, message=_l("Enter a year with four digits, like 2024.")),
        ],
    )
    when_text = StringField(
        _l("Or say when, in your own words"),
        description=_l("For example: during the rainy season, two years ago, every night."),
    )
    country = SelectField(
        _l("In which country did it happen?"),
        description=_l("We use this, without names, for our public figures."),
        validate_choice=True,
        validators=[Optional()],
    )
    place = StringField(
        _l("Where did it happen?"), description=_l("A town, a village, a mine, a camp, a road.")
    )
    company = SelectField(
        _l("Which security company was it?"), validate_choice=True, validators=[Optional()]
    )
    company_other = StringField(_l("The company's name, if it is not in the list"))
    people_affected = radio(
        _l("How many people were harmed?"),
        [
            ("1", _l("One")),
            ("2-5", _l("2 to 5")),
            ("6-20", _l("6 to 20")),
            ("21+", _l("More than 20")),
        ],
    )
    children = radio(
        _l("Were children among them?"),
        [("yes", _l("Yes")), ("no", _l("No")), ("dont_know", _l("I don't know"))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.when_month.choices = month_choices()
        self.country.choices = country_choices()
        self.company.choices = company_choices()

    def validate_when_day(self, field: Field) -> None:
        if field.data and self.when_month.data and self.when_year.data:
            try:
                date(int(self.when_year.data), int(self.when_month.data), int(field.data))
            except ValueError as exc:
                raise ValidationError(_l("This date does not exist. Check the day.")) from exc


class SafetyForm(StepForm):
    danger_now = radio(
        _l("Are you, or is anyone else, in danger now because of this?"),
        [
            ("yes", _l("Yes, someone is in danger now")),
            ("no", _l("No")),
            ("dont_know", _l("I don't know")),
        ],
        description=_l("If someone is in danger now, we will look at your complaint first."),
    )
    fear = TextAreaField(
        _l("What do you fear could happen if the company learned of this complaint?"),
        description=_l("This helps us protect you. You can leave it empty."),
    )


class RemedyForm(StepForm):
    remedies = CheckboxesField(
        _l("What would help put it right?"),
        description=_l("Choose all that fit."),
        choices=list(REMEDIES.items()),
    )
    remedy_words = TextAreaField(_l("In your own words, what would put it right?"))
    complained_elsewhere = CheckboxesField(
        _l("Have you already complained about this somewhere else?"),
        choices=[
            ("company", _l("To the company")),
            ("police", _l("To the police")),
            ("other_body", _l("To another organisation or a court")),
            ("no", _l("No")),
        ],
    )
    elsewhere_outcome = TextAreaField(_l("If you did, what happened?"))


class ContactForm(StepForm):
    contact_mode = radio(
        _l("How do you want to stay in touch?"),
        [
            (
                "anonymous",
                _l(
                    "Anonymous. We will not know who you are. We can only reach you through "
                    "this website, with your receipt number."
                ),
            ),
            (
                "confidential",
                _l(
                    "Confidential. You give us your name and how to reach you. We keep them "
                    "secret and locked away from the rest of your complaint."
                ),
            ),
        ],
    )
    name = StringField(_l("Your name"))
    phone = StringField(_l("Phone number"))
    email = StringField(_l("Email address"))
    other_contact = StringField(_l("Another way to reach you"))
    preferred_contact = radio(
        _l("How should we contact you?"),
        [
            ("phone", _l("By phone")),
            ("email", _l("By email")),
            ("other", _l("The other way you gave")),
            ("website", _l("Only through this website")),
        ],
    )
    share_with_company = radio(
        _l("May we give your name to the company, if that helps your complaint?"),
        [("yes", _l("Yes")), ("no", _l("No"))],
        description=_l("We will ask you again before we do it."),
    )
    share_with_bodies = radio(
        _l("May we give your name to another complaint body, if that helps your complaint?"),
        [("yes", _l("Yes")), ("no", _l("No"))],
        description=_l("For example a national human rights institution or a court."),
    )


class EmptyForm(FlaskForm):
    """A form with nothing but its CSRF token (start, send, remove a file, withdraw)."""


@dataclass(frozen=True)
class Step:
    name: str
    title: object
    form: Callable[..., Form] | None  # None: a page of its own (evidence, check)


STEPS: tuple[Step, ...] = (
    Step("who", _l("Who is filing"), WhoForm),
    Step("what", _l("What happened"), WhatForm),
    Step("safety", _l("Your safety"), SafetyForm),
    Step("remedy", _l("What would put it right"), RemedyForm),
    Step("contact", _l("Staying in touch"), ContactForm),
    Step("evidence", _l("Evidence"), None),
    Step("check", _l("Check and send"), None),
)
STEP_NAMES = tuple(step.name for step in STEPS)
# An organisation filing for others: the people and their consent replace "who" and "contact".
PEOPLE_STEP = Step("people", _l("The people you file for"), None)
ORGANISATION_STEP_NAMES = ("people", "what", "safety", "remedy", "evidence", "check")
NOT_FOR_ORGANISATIONS = ("who", "contact")


def step_names(answers: dict[str, Any]) -> tuple[str, ...]:
    """The steps of this filing, in order."""
    return ORGANISATION_STEP_NAMES if answers.get(FILED_BY_ORGANISATION) else STEP_NAMES


def step_by_name(name: str) -> Step | None:
    return next((step for step in (*STEPS, PEOPLE_STEP) if step.name == name), None)


def next_step(name: str, names: tuple[str, ...] = STEP_NAMES) -> str:
    index = names.index(name)
    return names[min(index + 1, len(names) - 1)]


def previous_step(name: str, names: tuple[str, ...] = STEP_NAMES) -> str | None:
    index = names.index(name)
    return names[index - 1] if index > 0 else None
