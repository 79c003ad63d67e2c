"""The public figures page: aggregate statistics after suppression, when an admin has put it on."""

from __future__ import annotations

from dataclasses import replace

from flask import abort, current_app, render_template, request
from flask_babel import get_locale

from .. import charts
from ..db import db_session
from ..i18n import text_direction
from ..statistics import Period, figures, published_years, suppress, transparency_is_public
from . import blueprint


@blueprint.get("/transparency")
def transparency() -> str:
    """The last 12 complete months, or a whole past year (``?year=``): only whole months, so
    the figures do not change from one day to the next and cannot be compared day by day."""
    db = db_session()
    if not transparency_is_public(db):
        abort(404)
    years = published_years(db)
    chosen = request.args.get("year", "")
    year = int(chosen) if chosen.isdigit() and int(chosen) in years else None
    period = Period.year(year) if year else Period.last_12_complete_months()
    counted = replace(period, public_only=True)
    published = suppress(figures(db, current_app.extensions["portal_settings"], counted))
    rtl = text_direction(str(get_locale())) == "rtl"
    return render_template(
        "public/transparency.html",
        period=period,
        year=year,
        years=years,
        sections=charts.sections(published, rtl=rtl),
    )
