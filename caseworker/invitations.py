"""Invitation links: a person invited to an intermediary organisation chooses a name and a
password here, which creates their account (with its own key pair); the first sign-in then sets
up the second factor. A token that is unknown, used or expired is answered with the same 404.
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, current_app, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select, update
from werkzeug.wrappers import Response
from wtforms import EmailField, Field, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from portal import organisations
from portal.config import Settings
from portal.db import db_session
from portal.models import Account, AuditEvent, Invitation, Organisation, Role, utcnow
from portal.staff import AccountExists, create_account, password_problem

from . import blueprint

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _settings() -> Settings:
    settings: Settings = current_app.extensions["portal_settings"]
    return settings


def mac_key() -> bytes:
    """The server key (outside the database) that invitation tokens are hashed under."""
    key: bytes = current_app.extensions["portal_data_dir"].server_mac_key()
    return key


def invitation_link(token: str) -> str:
    return f"{_settings().public_url.rstrip('/')}/invitation/{token}"


class InviteForm(FlaskForm):
    email = EmailField(
        _l("Email of the person to invite"),
        description=_l("The invitation link works once, for seven days."),
        validators=[
            DataRequired(message=_l("Enter an email address.")),
            Length(max=254, message=_l("This email address is too long.")),
        ],
    )

    def validate_email(self, field: Field) -> None:
        email = (field.data or "").strip().lower()
        if not _EMAIL.fullmatch(email):
            raise ValidationError(_("Enter an email address like name@example.org."))
        if db_session().scalar(select(Account.id).where(Account.email == email)) is not None:
            raise ValidationError(_("An account with this email address already exists."))


class AcceptForm(FlaskForm):
    display_name = StringField(
        _l("Your name"),
        description=_l("As your colleagues and our caseworkers will see it."),
        validators=[
            DataRequired(message=_l("Enter your name.")),
            Length(max=200, message=_l("Please shorten your name.")),
        ],
    )
    password = PasswordField(
        _l("Choose a password"),
        description=_l("At least 12 characters. A few unrelated words are easy to remember."),
        validators=[DataRequired(message=_l("Choose a password."))],
    )
    password_again = PasswordField(
        _l("The same password again"),
        validators=[
            DataRequired(message=_l("Type the password again.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )

    def __init__(self, *args: Any, email: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._email = email

    def validate_password(self, field: Field) -> None:
        problem = password_problem(field.data or "", self._email)
        if problem:
            raise ValidationError(problem)


def _open(token: str) -> tuple[Invitation, Organisation]:
    invitation = organisations.open_invitation(db_session(), mac_key(), token)
    if invitation is None:
        abort(404)
    organisation = db_session().get(Organisation, invitation.organisation_id)
    assert organisation is not None
    return invitation, organisation


@blueprint.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Response | tuple[str, int]:
    found, organisation = _open(token)
    form = AcceptForm(email=found.email)
    if form.validate_on_submit():
        db = db_session()
        # Spend the invitation first: of two requests at once, only one gets past this.
        spent = db.execute(
            update(Invitation)
            .where(Invitation.id == found.id, Invitation.used_at.is_(None))
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            db.rollback()
            abort(404)
        try:
            account = create_account(
                db,
                current_app.extensions["portal_keyring"],
                _settings(),
                email=found.email,
                display_name=form.display_name.data or "",
                role=Role.INTERMEDIARY,
                password=form.password.data or "",
                intake=False,
                organisation=organisation,
                is_org_admin=found.as_org_admin,
            )
        except AccountExists:
            db.rollback()
            form.display_name.errors = [
                _("An account with this email address already exists. Sign in instead.")
            ]
        else:
            db.add(
                AuditEvent(
                    action="invitation.accepted",
                    actor_account_id=account.id,
                    detail=str(found.id),
                )
            )
            db.commit()
            return redirect(url_for("caseworker.sign_in", notice="account-created"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "caseworker/invitation.html",
        who=None,
        form=form,
        email=found.email,
        organisation=organisation,
        token=token,
    ), status
