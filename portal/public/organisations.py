"""Organisations that help complainants (civil-society groups, lawyers, unions) apply here to
become intermediaries; an admin decides. Nothing about the requester's network is stored."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from .. import organisations
from ..db import db_session
from ..models import AuditEvent, OrganisationKind, day_start
from . import blueprint
from .steps import country_choices

KIND_LABELS = {
    OrganisationKind.CSO.value: _l("A civil-society organisation"),
    OrganisationKind.LAWYER.value: _l("A lawyer or law firm"),
    OrganisationKind.UNION.value: _l("A trade union"),
    OrganisationKind.OTHER.value: _l("Another kind of organisation"),
}


class ApplicationForm(FlaskForm):
    name = StringField(
        _l("Name of the organisation"),
        validators=[
            DataRequired(message=_l("Enter the name of the organisation.")),
            Length(max=200, message=_l("Please shorten this answer.")),
        ],
    )
    country = SelectField(
        _l("Country"),
        description=_l("Where the organisation is based."),
        validate_choice=True,
        validators=[DataRequired(message=_l("Choose a country."))],
    )
    kind = RadioField(
        _l("What kind of organisation is it?"),
        choices=list(KIND_LABELS.items()),
        validate_choice=True,
        validators=[InputRequired(message=_l("Choose what kind of organisation it is."))],
    )
    contact = TextAreaField(
        _l("How can we reach you?"),
        description=_l("A person's name, an email address, a phone number or a postal address."),
        validators=[
            DataRequired(message=_l("Say how we can reach you.")),
            Length(max=2000, message=_l("Please shorten this answer.")),
        ],
    )
    description = TextAreaField(
        _l("What does the organisation do?"),
        description=_l("Who you help and how, and why you would file complaints for others."),
        validators=[
            DataRequired(message=_l("Say what the organisation does.")),
            Length(max=10_000, message=_l("Please shorten this answer.")),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every country, without "I'd rather not say": an organisation says where it is.
        self.country.choices = country_choices()[:-1]


@blueprint.route("/organisations/apply", methods=["GET", "POST"])
def organisation_apply() -> Response | tuple[str, int]:
    form = ApplicationForm()
    if form.validate_on_submit():
        db = db_session()
        try:
            organisations.apply(
                db,
                name=form.name.data or "",
                country=form.country.data or "",
                kind=form.kind.data or "",
                contact=form.contact.data or "",
                description=form.description.data or "",
            )
        except organisations.AlreadyApplied:
            # The same answer as for a new application: the page must not tell anyone which
            # organisations have applied or work with us (that could endanger them).
            db.rollback()
            db.add(AuditEvent(action="organisation.applied_again", occurred_at=day_start()))
            db.commit()
        else:
            db.commit()
        return redirect(url_for("public.organisation_applied"))
    status = 400 if form.is_submitted() else 200
    return render_template("public/organisation_apply.html", form=form), status


@blueprint.get("/organisations/applied")
def organisation_applied() -> str:
    return render_template("public/organisation_applied.html")
