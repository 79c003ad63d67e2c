"""The staff side: sign-in, the case list, the case page."""

from flask import Blueprint

blueprint = Blueprint("caseworker", __name__, template_folder="templates")

from . import admin_audit, auth, dashboard, views  # noqa: E402,F401
