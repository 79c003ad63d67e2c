"""Choosing the reader's language, and the one place that renders dates for them."""

from __future__ import annotations

from datetime import date

from flask import current_app, has_request_context, request, url_for
from flask_babel import format_date, format_decimal, gettext

from .config import RTL_LANGUAGES, Settings

LANGUAGE_NAMES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "ar": "العربية",
    "sw": "Kiswahili",
    "pt": "Português",
}


def _settings() -> Settings:
    settings: Settings = current_app.extensions["portal_settings"]
    return settings


def select_locale() -> str:
    """``?lang=`` first, then Accept-Language, then the default.

    Only the query string is read: forms post back to URLs that carry ``lang``, and reading the
    body here would re-raise a body error (a 413) inside its own error page.
    """
    settings = _settings()
    if not has_request_context():  # command line: operators read the default language
        return settings.default_language
    chosen = request.args.get("lang", "")
    if chosen in settings.languages:
        return chosen
    best = request.accept_languages.best_match(settings.languages)
    return best or settings.default_language


def text_direction(locale: str) -> str:
    return "rtl" if locale in RTL_LANGUAGES else "ltr"


def show_size(size: int) -> str:
    """A file size in the reader's number format."""
    if size < 1000 * 1000:
        return gettext("%(size)s KB", size=format_decimal(max(size / 1000, 0.1), format="#,##0.#"))
    return gettext("%(size)s MB", size=format_decimal(size / 1000 / 1000, format="#,##0.#"))


def show_date(value: date | None) -> str:
    """A date in the reader's locale, or an empty string."""
    return format_date(value, format="long") if value else ""


def language_url(code: str) -> str:
    """This page in another language (the home page when this one cannot be fetched again)."""
    endpoint = request.endpoint
    if endpoint and "GET" in _methods(endpoint):
        args = {**request.args.to_dict(), **(request.view_args or {}), "lang": code}
        return url_for(endpoint, **args)
    return url_for("public.home", lang=code)


def _methods(endpoint: str) -> set[str]:
    methods: set[str] = set()
    for rule in current_app.url_map.iter_rules(endpoint):
        methods |= rule.methods or set()
    return methods
