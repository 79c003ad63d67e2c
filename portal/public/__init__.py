"""The public side: home, filing a complaint, following it up. Works without JavaScript."""

from flask import Blueprint

blueprint = Blueprint("public", __name__)

from . import views  # noqa: E402,F401
