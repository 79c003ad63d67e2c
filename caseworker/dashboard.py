"""The case list (dashboard)."""

from __future__ import annotations

from flask import render_template

from portal.access import visible_cases
from portal.db import db_session

from . import blueprint
from .forms import SignOutForm
from .roles import CASE_ROLES
from .session import current_staff, staff_required


@blueprint.get("/caseworker/cases")
@staff_required(*CASE_ROLES)
def cases() -> str:
    who = current_staff()
    assert who is not None
    rows = db_session().scalars(visible_cases(who.account).limit(200)).all()
    return render_template("caseworker/cases.html", cases=rows, who=who, sign_out=SignOutForm())
