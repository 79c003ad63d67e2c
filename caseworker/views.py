"""Staff pages. Every route but sign-in goes through ``staff_required``."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from flask import Response, abort, current_app, make_response, redirect, render_template, url_for
from flask_babel import gettext as _

from portal.access import visible_cases
from portal.casework import open_attachment, open_case, send_message
from portal.db import db_session
from portal.models import Role
from portal.public.summary import summarise
from portal.staff import authenticate, end_session, start_session
from portal.topics import TOPICS

from . import blueprint
from .forms import MessageForm, SignInForm, SignOutForm
from .session import clear_session_cookie, current_staff, set_session_cookie, staff_required

CASE_ROLES = (Role.ADMIN.value, Role.SUPERVISOR.value, Role.CASEWORKER.value)
# Types a browser may show inline after download; anything else is a plain byte stream.
SAFE_DOWNLOAD_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "application/pdf",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/mp4",
        "video/mp4",
    }
)


def content_disposition(name: str) -> str:
    """An attachment header whose names cannot break out of the header, whatever was uploaded."""
    fallback = "".join(ch for ch in name if 32 <= ord(ch) < 127 and ch not in '"\\;') or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


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


@blueprint.get("/caseworker/cases")
@staff_required(*CASE_ROLES)
def cases() -> str:
    who = current_staff()
    assert who is not None
    rows = db_session().scalars(visible_cases(who.account).limit(200)).all()
    return render_template("caseworker/cases.html", cases=rows, who=who, sign_out=SignOutForm())


@blueprint.get("/caseworker/cases/<uuid:case_id>")
@staff_required(*CASE_ROLES)
def case(case_id: uuid.UUID, message_form: MessageForm | None = None) -> tuple[str, int]:
    ext = current_app.extensions
    who = current_staff()
    assert who is not None
    view = open_case(db_session(), ext["portal_keyring"], who, case_id)
    if view is None:
        abort(404)
    answers = {**view.answers, **(view.identity or {})}
    return render_template(
        "caseworker/case.html",
        view=view,
        who=who,
        sign_out=SignOutForm(),
        sections=summarise(answers),
        topic_labels=[str(TOPICS.get(topic, topic)) for topic in view.topics],
        message_form=message_form or MessageForm(),
    ), 400 if message_form and message_form.errors else 200


@blueprint.post("/caseworker/cases/<uuid:case_id>/messages")
@staff_required(*CASE_ROLES)
def send(case_id: uuid.UUID) -> Response | tuple[str, int]:
    who = current_staff()
    assert who is not None
    form = MessageForm()
    if not form.validate_on_submit():
        return case(case_id, message_form=form)
    if not send_message(
        db_session(),
        current_app.extensions["portal_keyring"],
        who,
        case_id,
        form.message.data or "",
    ):
        abort(404)
    return redirect(url_for("caseworker.case", case_id=case_id, sent=1))


@blueprint.get("/caseworker/cases/<uuid:case_id>/files/<uuid:file_id>")
@staff_required(*CASE_ROLES)
def attachment(case_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    ext = current_app.extensions
    who = current_staff()
    assert who is not None
    opened = open_attachment(
        db_session(), ext["portal_keyring"], ext["portal_data_dir"], who, case_id, file_id
    )
    if opened is None:
        abort(404)
    info, chunks = opened
    mimetype = info.content_type if info.content_type in SAFE_DOWNLOAD_TYPES else None
    response = make_response(
        Response(chunks, mimetype=mimetype or "application/octet-stream", direct_passthrough=True)
    )
    # A known length lets the client detect a download cut short by a failed integrity check.
    response.headers["Content-Length"] = str(info.size)
    response.headers["Content-Disposition"] = content_disposition(info.name)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
