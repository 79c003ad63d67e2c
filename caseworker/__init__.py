"""The staff side: sign-in, the case list, the case page."""

from flask import Blueprint

blueprint = Blueprint("caseworker", __name__, template_folder="templates")

from . import (  # noqa: E402,F401
    access_views,
    admin_audit,
    admin_organisations,
    admin_registry,
    admin_templates,
    auth,
    company_views,
    dashboard,
    intermediary_cases,
    intermediary_views,
    invitations,
    recording,
    referral_views,
    remedy_views,
    statistics_views,
    views,
)
