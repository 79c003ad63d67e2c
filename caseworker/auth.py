"""Signing in and out."""

from __future__ import annotations

from flask import Response, current_app, redirect, render_template, url_for
from flask_babel import gettext as _

from portal.db import db_session
from portal.staff import authenticate, end_session, start_session

from . import blueprint
from .forms import SignInForm, SignOutForm
from .session import clear_session_cookie, current_staff, set_session_cookie


@blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | str | tuple[str, int]:
    ext = current_app.extensions
    form = SignInForm()
    if form.validate_on_submit():
        db = db_session()
        result = authenticate(
            db,
            ext["portal_keyring"],
            ext["portal_settings"],
            form.email.data or "",
            form.password.data or "",
        )
        if result is not None:
            account, private_key = result
            token = start_session(db, ext["portal_settings"], account, private_key)
            db.commit()
            response = redirect(url_for("caseworker.cases"))
            set_session_cookie(response, token)
            return response
        form.password.errors = [_("The email or the password is not right.")]
    status = 400 if form.is_submitted() else 200
    return render_template("caseworker/sign_in.html", form=form), status


@blueprint.post("/sign-out")
def sign_out() -> Response:
    form = SignOutForm()
    who = current_staff()
    if form.validate_on_submit() and who is not None:
        end_session(db_session(), who.session_id)
    response = redirect(url_for("caseworker.sign_in"))
    clear_session_cookie(response)
    return response
