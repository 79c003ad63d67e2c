"""Staff pages. Every route but sign-in goes through ``staff_required``."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from flask import Response, abort, current_app, make_response, redirect, render_template, url_for

from portal.casework import open_attachment, open_case, send_message
from portal.db import db_session
from portal.public.summary import summarise
from portal.topics import TOPICS

from . import blueprint
from .forms import MessageForm, SignOutForm
from .roles import CASE_ROLES
from .session import current_staff, staff_required

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
