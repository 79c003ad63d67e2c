"""What every page of a filing in progress shares: its draft (from the cookie), saving it, and
rendering a step with its place in the filing."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, render_template

from .. import drafts
from ..config import Settings
from ..cookies import read_token_cookie, set_token_cookie
from ..db import db_session
from ..drafts import DraftState
from .steps import STEP_NAMES

COOKIE = "draft"


def settings() -> Settings:
    settings: Settings = current_app.extensions["portal_settings"]
    return settings


def step_number(name: str, names: tuple[str, ...] = STEP_NAMES) -> int:
    return names.index(name) + 2  # "before you start" is step 1


def current_draft() -> tuple[bytes, DraftState] | None:
    token = read_token_cookie(COOKIE)
    if token is None:
        return None
    state = drafts.load(db_session(), current_app.extensions["portal_data_dir"], token)
    return (token, state) if state is not None else None


def save(token: bytes, state: DraftState, response: Response) -> Response:
    drafts.save(db_session(), token, state)
    set_token_cookie(response, COOKIE, token, drafts.DRAFT_MINUTES * 60)
    return response


def expired() -> tuple[str, int]:
    return render_template("public/expired.html"), 200


def page(
    template: str, status: int = 200, names: tuple[str, ...] = STEP_NAMES, **context: Any
) -> tuple[str, int]:
    return render_template(template, total_steps=len(names) + 1, **context), status
