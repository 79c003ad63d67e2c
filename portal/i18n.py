"""Choosing the reader's language, and the one place that renders dates for them."""

from __future__ import annotations

from datetime import date

from flask import current_app, has_request_context, request
from flask_babel import format_date

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


def show_date(value: date | None) -> str:
    """A date in the reader's locale, or an empty string."""
    return format_date(value, format="long") if value else ""
