"""Staff forms: signing in and out, the second factor, the account page; the date field the
admin pages share.

Forms for case work live in their own module.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class DayField(DateField):
    """A date input whose parse error is worded (and translated) like the portal's others."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_("Enter a date like 2025-03-31.")) from exc


class SignInForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(message=_l("Enter your email."))])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(message=_l("Enter your password."))]
    )


class SignOutForm(FlaskForm):
    """Only the CSRF token: signing out is a POST."""


class ActionForm(FlaskForm):
    """Only the CSRF token, for a button that changes something (always a POST)."""


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l(
            "The 6-digit code your authenticator app shows now, or one of your recovery codes."
        ),
        validators=[DataRequired(message=_l("Enter the code.")), Length(max=64)],
    )


class EnrolForm(FlaskForm):
    code = StringField(
        _l("Code from the app"),
        description=_l("Once the app has the account, type the 6-digit code it shows."),
        validators=[DataRequired(message=_l("Enter the code.")), Length(max=64)],
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Enter your current password."))],
    )
    new_password = PasswordField(
        _l("New password"),
        description=_l("At least 12 characters. A few unrelated words make a good password."),
        validators=[DataRequired(message=_l("Enter a new password.")), Length(max=1024)],
    )
    new_password_again = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(message=_l("Enter the new password a second time.")),
            EqualTo("new_password", message=_l("The two new passwords are not the same.")),
        ],
    )
