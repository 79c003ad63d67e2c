"""The application factory."""

from __future__ import annotations

import contextlib
import errno
import logging
from datetime import timedelta
from pathlib import Path

from flask import Flask, Response, render_template, request, session
from flask_babel import Babel, get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import Markup
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from .assets import install_assets
from .config import Settings
from .datadir import DataDir
from .db import Database, close_db_session, db_session
from .i18n import (
    LANGUAGE_NAMES,
    language_url,
    select_locale,
    show_date,
    show_size,
    text_direction,
)
from .keyring import Keyring
from .models import today
from .stages import STAFF_LABELS, Stage
from .throttle import ClientThrottle, DerivationBudget, rate_limit_storage
from .uploads import PortalRequest, discard_unclaimed_uploads, sweep_incoming
from .web import configure_logging, install_security_headers

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


logger = logging.getLogger("portal")


def create_app(config: Settings | None = None) -> Flask:
    """Build the portal from ``config`` (or from ``PORTAL_*`` environment variables)."""
    settings = config or Settings.from_env()
    # No plain /static route: static files are served only under their content-hashed names.
    app = Flask(__name__, static_folder=None)
    app.request_class = PortalRequest
    data_dir = DataDir(settings.data_dir)
    data_dir.prepare()
    https = settings.behind_https
    app.config.update(
        SECRET_KEY=data_dir.secret_key(),
        TESTING=settings.testing,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        MAX_FORM_MEMORY_SIZE=4 * settings.max_text_chars + 1024,
        # Flask's own session carries only the form's CSRF token, never a key.
        SESSION_COOKIE_NAME="__Host-form" if https else "form",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=https,
        WTF_CSRF_TIME_LIMIT=6 * 3600,
        # The form cookie expires a few hours after it is first set, never refreshed.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=6),
        SESSION_REFRESH_EACH_REQUEST=False,
        # We send no Referer (Referrer-Policy: no-referrer); SameSite=Strict does that job.
        WTF_CSRF_SSL_STRICT=False,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
        BABEL_DEFAULT_LOCALE=settings.default_language,
        SEND_FILE_MAX_AGE_DEFAULT=365 * 24 * 3600,
    )
    app.extensions["portal_settings"] = settings
    app.extensions["portal_data_dir"] = data_dir
    app.extensions["portal_db"] = Database(settings.database_url)
    app.extensions["portal_db"].set_audit_key(data_dir.server_mac_key())
    app.extensions["portal_keyring"] = Keyring(data_dir.server_mac_key())
    counters = rate_limit_storage(settings.redis_url)  # in memory, or shared in Redis
    app.extensions["portal_follow_up_budget"] = DerivationBudget(
        settings.follow_up_rate, settings.follow_up_burst, storage=counters, name="follow-up"
    )
    app.extensions["portal_filing_budget"] = DerivationBudget(
        settings.filing_rate, settings.filing_burst, storage=counters, name="filing"
    )
    app.extensions["portal_follow_up_clients"] = ClientThrottle(
        settings.follow_up_per_client, storage=counters, name="follow-up-client"
    )
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )

    Babel(app, locale_selector=select_locale)
    CSRFProtect(app)
    configure_logging()
    install_security_headers(app, settings)

    @app.after_request
    def _expiring_form_cookie(response: Response) -> Response:
        # Only when the session is being written anyway (a CSRF token was just made).
        if session.modified and not session.permanent:
            session.permanent = True
        return response

    app.teardown_appcontext(close_db_session)
    app.teardown_request(discard_unclaimed_uploads)
    app.add_url_rule("/healthz", "healthz", _healthz)
    sweep_incoming(data_dir.incoming)

    @app.context_processor
    def _page_context() -> dict[str, object]:
        locale = str(get_locale() or settings.default_language)
        return {
            "locale": locale,
            "direction": text_direction(locale),
            "languages": [(code, LANGUAGE_NAMES[code]) for code in settings.languages],
            "quick_exit_url": settings.quick_exit_url,
            "site_title": settings.site_title or _("Feedback"),
            "show_date": show_date,
            "stage_label": lambda value: STAFF_LABELS.get(Stage(value), value),
            "language_url": language_url,
            "onion_address": settings.onion_address,
            "today": today(),
        }

    install_assets(app)
    app.jinja_env.globals["csrf_field"] = csrf_field
    app.jinja_env.filters["filesize"] = show_size
    _register_error_pages(app)

    from caseworker import blueprint as caseworker_blueprint
    from caseworker.auth import BUDGET_KEY, SIGN_IN_BURST, SIGN_IN_RATE

    from .cli import register_commands
    from .public import blueprint as public_blueprint

    app.register_blueprint(public_blueprint)
    app.register_blueprint(caseworker_blueprint)
    # Made here rather than at the first sign-in, so that it shares the counters' storage.
    app.extensions[BUDGET_KEY] = DerivationBudget(
        SIGN_IN_RATE, SIGN_IN_BURST, storage=counters, name="sign-in"
    )
    register_commands(app)
    return app


def csrf_field() -> Markup:
    """The hidden CSRF input, without an id (a page may hold several forms)."""
    return Markup('<input name="csrf_token" type="hidden" value="{}">').format(generate_csrf())


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(_error: CSRFError) -> tuple[str, int]:
        message = _(
            "This page was open for too long, or your browser did not send the form back. "
            "Go back, reload the page and send it again."
        )
        return render_template("error.html", title=_("Please try again"), message=message), 400

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error: RequestEntityTooLarge) -> object:
        from .public.filing import evidence_too_large, is_evidence_upload

        if is_evidence_upload():
            return evidence_too_large()
        if request.endpoint == "public.follow_up_evidence":
            from .public.following import evidence_too_large as follow_up_too_large

            return follow_up_too_large()
        return _http_error(error)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _not_saved(error: Exception) -> tuple[str, int]:
        """The database did not answer (stopped, unreachable, locked, or its disk full)."""
        return _unavailable(error)

    @app.errorhandler(OSError)
    def _os_error(error: OSError) -> tuple[str, int]:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):  # the data dir's disk is full
            return _unavailable(error)
        return _http_error(InternalServerError())

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        messages = {
            404: (_("Page not found"), _("There is nothing at this address.")),
            413: (
                _("Too large"),
                _("What you sent is too large. Send smaller or fewer files."),
            ),
            429: (
                _("Please wait"),
                _("Too many people are using this website now. Wait a minute and try again."),
            ),
        }
        title, message = messages.get(
            code, (_("Something went wrong"), _("Please go back and try again."))
        )
        return render_template("error.html", title=title, message=message), code


def _unavailable(error: Exception) -> tuple[str, int]:
    """A 503 in the reader's language that says to try again; a step form keeps what was typed.

    Whatever the transaction had written is rolled back, and files it had moved into the store
    are removed by the code that moved them, so nothing is half-stored.
    """
    logger.warning("Request not saved: %s.", type(error).__name__)
    with contextlib.suppress(Exception):
        db_session().rollback()
    message = _(
        "We could not save this just now. Please try again in a few minutes: "
        "what you typed is still here."
    )
    from .public.filing import step_again

    again = step_again(message)
    if again is not None:
        return again
    general = _(
        "We could not save this just now. Please go back and send it again in a few minutes. "
        "Answers you had already saved are kept for an hour."
    )
    return render_template("error.html", title=_("Not saved yet"), message=general), 503


def _healthz() -> Response:
    """For load balancers: 200 "ok" when the database answers, 503 otherwise; nothing else."""
    try:
        db_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return Response("unavailable\n", status=503, mimetype="text/plain")
    return Response("ok\n", mimetype="text/plain")
