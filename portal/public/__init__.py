"""The public side: home, the filing, following up. Works without JavaScript."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import get_locale

blueprint = Blueprint("public", __name__)


@blueprint.url_defaults
def _keep_language(endpoint: str, values: dict[str, Any]) -> None:
    """Every public link carries the reader's language: no cookie needed to remember it."""
    values.setdefault("lang", str(get_locale()))


@blueprint.context_processor
def _figures_link() -> dict[str, Any]:
    """The footer links to the published figures once an admin has put them on (and says
    nothing when the database does not answer: the page saying so must still render)."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..db import db_session
    from ..statistics import transparency_is_public

    try:
        return {"transparency_link": transparency_is_public(db_session())}
    except SQLAlchemyError:
        return {"transparency_link": False}


from . import filing, following, organisations, pages, transparency  # noqa: E402,F401
