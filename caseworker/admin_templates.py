"""Admins edit the message templates, per language."""

from __future__ import annotations

from flask import Response, abort, current_app, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from portal.db import db_session
from portal.i18n import LANGUAGE_NAMES
from portal.message_templates import TEMPLATE_NAMES, save_template, template_text
from portal.models import AuditEvent

from . import blueprint
from .forms import SignOutForm
from .roles import ADMIN_ROLES
from .session import current_staff, staff_required


class TemplateForm(FlaskForm):
    body = TextAreaField(
        _l("Text"),
        validators=[DataRequired(message=_l("Write the text first.")), Length(max=20_000)],
    )


@blueprint.route("/caseworker/admin/templates", methods=["GET"])
@staff_required(*ADMIN_ROLES)
def templates() -> str:
    db = db_session()
    languages = current_app.extensions["portal_settings"].languages
    rows = [
        (name, label, code, LANGUAGE_NAMES[code], template_text(db, name, code))
        for name, label in TEMPLATE_NAMES.items()
        for code in languages
    ]
    return render_template(
        "caseworker/templates.html",
        rows=rows,
        who=current_staff(),
        sign_out=SignOutForm(),
        form=TemplateForm(),
    )


@blueprint.post("/caseworker/admin/templates/<name>/<language>")
@staff_required(*ADMIN_ROLES)
def template_save(name: str, language: str) -> Response:
    if (
        name not in TEMPLATE_NAMES
        or language not in current_app.extensions["portal_settings"].languages
    ):
        abort(404)
    form = TemplateForm()
    if not form.validate_on_submit():
        abort(400)
    who = current_staff()
    assert who is not None
    db = db_session()
    save_template(db, name, language, form.body.data or "", who.account.id)
    db.add(
        AuditEvent(
            action="template.edited", actor_account_id=who.account.id, detail=f"{name}/{language}"
        )
    )
    db.commit()
    return redirect(
        url_for("caseworker.templates", saved=f"{name}-{language}") + f"#{name}-{language}"
    )
