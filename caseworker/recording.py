"""Complaints received by phone, on paper or in person: a caseworker records them through the
same questions as the public form, and hands the reporter the receipt it shows."""

from __future__ import annotations

from flask import Response, redirect, url_for
from flask_babel import get_locale

from portal import drafts
from portal.cookies import set_token_cookie
from portal.db import db_session
from portal.intake import RECORDED_BY_STAFF
from portal.models import AuditEvent

from . import blueprint
from .roles import CASE_ROLES
from .session import current_staff, staff_required


@blueprint.post("/caseworker/record")
@staff_required(*CASE_ROLES)
def record_complaint() -> Response:
    who = current_staff()
    assert who is not None
    db = db_session()
    token, state = drafts.start(db)
    state.answers[RECORDED_BY_STAFF] = True  # not a form field: a reporter cannot set it
    drafts.save(db, token, state)
    db.add(AuditEvent(action="case.recording_started", actor_account_id=who.account.id))
    db.commit()
    response = redirect(url_for("public.report_step", step="who", lang=str(get_locale())))
    set_token_cookie(response, "draft", token, drafts.DRAFT_MINUTES * 60)
    return response
