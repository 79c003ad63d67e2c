"""Response headers every page carries, and the no-address logging of the public side."""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, request

from .config import Settings

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'none'",
        "connect-src 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)


def install_security_headers(app: Flask, settings: Settings) -> None:
    """A strict CSP without inline script, no referrer, no framing, nothing cached."""

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        headers["Permissions-Policy"] = (
            "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        )
        if settings.behind_https or request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if request.endpoint != "asset":
            # Pages may show case data, and none should linger in a shared browser.
            headers["Cache-Control"] = "no-store, max-age=0"
            headers["Pragma"] = "no-cache"
        if settings.onion_address and not request.host.endswith(".onion"):
            headers["Onion-Location"] = (
                f"http://{settings.onion_address}{request.full_path.rstrip('?')}"
            )
        headers.pop("Server", None)
        return response


_ADDRESS = re.compile(r"^\S+ - - \[[^\]]*\] ")


class _NoAddressFilter(logging.Filter):
    """Drops the client address and time that Werkzeug's development server prepends."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        stripped = _ADDRESS.sub("", message)
        if stripped != message:
            record.msg, record.args = stripped, None
        return True


def configure_logging() -> None:
    """Keep addresses and user agents out of every log line this process writes."""
    werkzeug_logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, _NoAddressFilter) for f in werkzeug_logger.filters):
        werkzeug_logger.addFilter(_NoAddressFilter())
