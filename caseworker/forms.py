"""Staff forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, TextAreaField
from wtforms.validators import DataRequired, Length


class SignInForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(message=_l("Enter your email."))])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(message=_l("Enter your password."))]
    )


class SignOutForm(FlaskForm):
    """Only the CSRF token: signing out is a POST."""


class MessageForm(FlaskForm):
    message = TextAreaField(
        _l("Message to the reporter"),
        description=_l("The reporter reads it with their receipt number. Write in their language."),
        validators=[DataRequired(message=_l("Write your message first.")), Length(max=50_000)],
    )
