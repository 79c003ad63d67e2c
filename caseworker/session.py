"""The staff session cookie and the ``staff_required`` guard every staff route uses.

One cookie carries either a *half* session (password given, second factor not yet) or a full
one. Only a full session passes ``staff_required``; the second-factor pages read the half one
through :func:`half_signed_in`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, current_app, g, redirect, url_for
from werkzeug.wrappers import Response

from crypto import CryptoError
from portal.config import Settings
from portal.cookies import clear_token_cookie, read_token_cookie, set_token_cookie
from portal.db import db_session
from portal.staff import (
    HALF_SESSION_MINUTES,
    HalfSignedIn,
    SignedIn,
    resume_half_session,
    resume_session,
)

F = TypeVar("F", bound=Callable[..., Any])
COOKIE = "staff"


def _settings() -> Settings:
    settings: Settings = current_app.extensions["portal_settings"]
    return settings


def set_session_cookie(response: Response, token: bytes, *, half: bool = False) -> None:
    """Put a session token in the cookie; a half session's cookie lives only minutes."""
    max_age = HALF_SESSION_MINUTES * 60 if half else _settings().staff_absolute_hours * 3600
    set_token_cookie(response, COOKIE, token, max_age)


def clear_session_cookie(response: Response) -> None:
    clear_token_cookie(response, COOKIE)


def session_token() -> bytes | None:
    """The token the browser sent, if any (for signing out whatever session it opens)."""
    return read_token_cookie(COOKIE)


def current_staff() -> SignedIn | None:
    """The signed-in account of this request (full sessions only), resolved once."""
    if "staff" not in g:
        g.staff = None
        token = session_token()
        if token:
            try:
                g.staff = resume_session(db_session(), _settings(), token)
            except CryptoError:  # a cookie that does not open its session is no session
                g.staff = None
    return cast(SignedIn | None, g.staff)


def half_signed_in() -> HalfSignedIn | None:
    """The half session of this request: password given, second factor still to come."""
    if "half_staff" not in g:
        g.half_staff = None
        token = session_token()
        if token:
            try:
                g.half_staff = resume_half_session(db_session(), _settings(), token)
            except CryptoError:
                g.half_staff = None
    return cast(HalfSignedIn | None, g.half_staff)


def staff_required(*roles: str) -> Callable[[F], F]:
    """Redirect to sign-in without a full session; 404 when the role may not use this page."""

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
