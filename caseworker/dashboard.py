"""The case list (dashboard): the account's cases, filtered, sorted, counted and paged.

The filters are plain query-string arguments of a GET form (no JavaScript); the queries are built
in :mod:`portal.dashboard`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from babel import Locale
from flask import current_app, render_template, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import charts
from portal.config import Settings
from portal.dashboard import Assigned, CaseFilters, Due, Sort, is_overdue, list_cases
from portal.db import db_session
from portal.i18n import LANGUAGE_NAMES
from portal.models import Company, today
from portal.referrals import overdue_for
from portal.stages import STAFF_LABELS, Stage
from portal.topics import TOPICS

from . import blueprint
from .forms import SignOutForm
from .roles import CASE_ROLES
from .session import current_staff, staff_required

CHANNEL_LABELS = charts.CHANNEL_LABELS  # one wording, shared with the published figures
DUE_LABELS = {Due.OVERDUE: _l("Overdue"), Due.THIS_WEEK: _l("Due this week")}
ASSIGNED_LABELS = {Assigned.ME: _l("Me"), Assigned.NOBODY: _l("Nobody")}
SORT_LABELS = {
    Sort.DUE: _l("Due date, soonest first"),
    Sort.OLDEST: _l("Oldest first"),
    Sort.NEWEST: _l("Newest first"),
}
FORM_SELECTS = ("stage", "due", "assigned", "language", "country", "company", "topic", "channel")
_NOT_COUNTRIES = {"ZZ", "XA", "XB", "EU", "EZ", "UN", "QO"}


@lru_cache(maxsize=16)
def country_names(locale: str) -> tuple[tuple[str, str], ...]:
    """ISO 3166 countries named in ``locale``, sorted by that name."""
    names = {
        code: name
        for code, name in Locale.parse(locale).territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }
    return tuple(sorted(names.items(), key=lambda item: item[1].casefold()))


def _choices(settings: Settings) -> dict[str, list[tuple[str, str]]]:
    """The options of each select of the filter form, labelled in the reader's language."""
    companies = db_session().execute(select(Company.id, Company.name).order_by(Company.name))
    return {
        "stage": [(stage.value, str(STAFF_LABELS[stage])) for stage in Stage],
        "due": [(due.value, str(label)) for due, label in DUE_LABELS.items()],
        "assigned": [(value.value, str(label)) for value, label in ASSIGNED_LABELS.items()],
        "language": [(code, LANGUAGE_NAMES.get(code, code)) for code in settings.languages],
        "country": list(country_names(str(get_locale() or settings.default_language))),
        "company": [(str(company_id), name) for company_id, name in companies],
        "topic": [(topic, str(label)) for topic, label in TOPICS.items()],
        "channel": [(channel, str(label)) for channel, label in CHANNEL_LABELS.items()],
        "sort": [(value.value, str(label)) for value, label in SORT_LABELS.items()],
    }


def _current(filters: CaseFilters) -> dict[str, str]:
    """The value each select of the form shows as chosen ("" for any)."""
    chosen = filters.query_args()
    return {name: chosen.get(name, "") for name in (*FORM_SELECTS, "sort")} | {
        "sort": filters.sort.value
    }


@blueprint.get("/caseworker/cases")
@staff_required(*CASE_ROLES)
def cases() -> str:
    who = current_staff()
    assert who is not None
    settings: Settings = current_app.extensions["portal_settings"]
    filters = CaseFilters.parse(request.args, settings.languages)
    listing = list_cases(db_session(), who.account, filters, today())
    late_referrals = overdue_for(db_session(), who.account, today())
    choices = _choices(settings)
    language = request.args.get("lang", "")
    keep_language = {"lang": language} if language in settings.languages else {}

    def cases_url(**changes: Any) -> str:
        """This list with some filters changed (the page back to 1 unless it is the change)."""
        changes.setdefault("page", 1)
        args: dict[str, Any] = {**listing.filters.query_args(**changes), **keep_language}
        return url_for("caseworker.cases", **args)

    return render_template(
        "caseworker/cases.html",
        listing=listing,
        cases=listing.cases,
        filters=listing.filters,
        current=_current(listing.filters),
        choices=choices,
        names={name: dict(options) for name, options in choices.items()},
        cases_url=cases_url,
        keep_language=keep_language,
        is_overdue=lambda case: is_overdue(case, listing.today),
        number=format_decimal,
        late_referrals=late_referrals,
        who=who,
        sign_out=SignOutForm(),
    )
