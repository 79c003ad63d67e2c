"""The portal's own cookies (staff session, draft, follow-up): one way to set and read them.

Each carries 32 random bytes and nothing else. ``HttpOnly`` and ``SameSite=Strict`` always;
``Secure`` with the ``__Host-`` prefix whenever the request is HTTPS or the settings say the
site is behind HTTPS.
"""

from __future__ import annotations

import base64
import binascii

from flask import Response, current_app, request

from .config import Settings


def _secure() -> bool:
    settings: Settings = current_app.extensions["portal_settings"]
    return settings.behind_https or request.is_secure


def cookie_name(base: str) -> str:
    return f"__Host-{base}" if _secure() else base


def set_token_cookie(response: Response, base: str, token: bytes, max_age: int | None) -> None:
    response.set_cookie(
        cookie_name(base),
        base64.urlsafe_b64encode(token).decode("ascii"),
        max_age=max_age,
        path="/",
        secure=_secure(),
        httponly=True,
        samesite="Strict",
    )


def clear_token_cookie(response: Response, base: str) -> None:
    response.delete_cookie(
        cookie_name(base), path="/", secure=_secure(), httponly=True, samesite="Strict"
    )


def read_token_cookie(base: str) -> bytes | None:
    raw = request.cookies.get(cookie_name(base))
    if not raw:
        return None
    try:
        token = base64.urlsafe_b64decode(raw.encode("ascii"))
    except (binascii.Error, ValueError):
        return None
    return token if len(token) == 32 else None
