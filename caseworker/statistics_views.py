"""Statistics for supervisors and admins: every published figure for a chosen period, unsuppressed,
as tables, charts and CSV; and, for admins, the switch of the public figures page."""

from __future__ import annotations

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale

from portal import charts
from portal.config import Settings
from portal.db import db_session
from portal.i18n import text_direction
from portal.statistics import (
    Period,
    figures,
    switch_transparency,
    to_csv,
    transparency_is_public,
)

from . import blueprint
from .forms import ActionForm, SignOutForm
from .roles import ADMIN_ROLES, SUPERVISING_ROLES
from .session import current_staff, staff_required


def _settings() -> Settings:
    settings: Settings = current_app.extensions["portal_settings"]
    return settings


@blueprint.get("/caseworker/statistics", endpoint="statistics")
@staff_required(*SUPERVISING_ROLES)
def statistics_page() -> str:
    who = current_staff()
    assert who is not None
    db = db_session()
    period = Period.from_args(request.args)
    rtl = text_direction(str(get_locale())) == "rtl"
    is_admin = who.account.role in ADMIN_ROLES
    return render_template(
        "caseworker/statistics.html",
        who=who,
        sign_out=SignOutForm(),
        period=period,
        sections=charts.sections(figures(db, _settings(), period), rtl=rtl),
        csv_url=url_for("caseworker.statistics_csv", **period.query_args()),
        public=transparency_is_public(db),
        switch_form=ActionForm() if is_admin else None,
        switched=request.args.get("switched") in ("on", "off"),
    )


@blueprint.get("/caseworker/statistics.csv")
@staff_required(*SUPERVISING_ROLES)
def statistics_csv() -> Response:
    period = Period.from_args(request.args)
    text = to_csv(figures(db_session(), _settings(), period))
    response = Response(text, mimetype="text/csv")  # Flask adds "; charset=utf-8"
    filename = f"statistics-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    return response


@blueprint.post("/caseworker/statistics/transparency")
@staff_required(*ADMIN_ROLES)
def transparency_switch() -> Response:
    """Publish the public figures page, or take it down (``state`` is "on" or "off")."""
    form = ActionForm()
    state = request.form.get("state")
    if not form.validate_on_submit() or state not in ("on", "off"):
        abort(400)
    who = current_staff()
    assert who is not None
    db = db_session()
    switch_transparency(db, who.account.id, state == "on")
    db.commit()
    return redirect(url_for("caseworker.statistics", switched=state) + "#transparency")
