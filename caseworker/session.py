"""The staff session cookie and the ``staff_required`` guard every staff route uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, abort, current_app, g, redirect, url_for

from crypto import CryptoError
from portal.config import Settings
from portal.cookies import clear_token_cookie, read_token_cookie, set_token_cookie
from portal.db import db_session
from portal.staff import SignedIn, resume_session

F = TypeVar("F", bound=Callable[..., Any])
COOKIE = "staff"


def _settings() -> Settings:
    settings: Settings = current_app.extensions["portal_settings"]
    return settings


def set_session_cookie(response: Response, token: bytes) -> None:
    set_token_cookie(response, COOKIE, token, _settings().staff_absolute_hours * 3600)


def clear_session_cookie(response: Response) -> None:
    clear_token_cookie(response, COOKIE)


def current_staff() -> SignedIn | None:
    """The signed-in account of this request, resolved once."""
    if "staff" not in g:
        g.staff = None
        token = read_token_cookie(COOKIE)
        if token:
            try:
                g.staff = resume_session(db_session(), _settings(), token)
            except CryptoError:  # a cookie that does not open its session is no session
                g.staff = None
    return cast(SignedIn | None, g.staff)


def staff_required(*roles: str) -> Callable[[F], F]:
    """Redirect to sign-in without a session; 404 when the role may not use this page."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = current_staff()
            if who is None:
                return redirect(url_for("caseworker.sign_in"))
            if roles and who.account.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator
