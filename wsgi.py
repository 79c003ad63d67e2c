"""Entry point for ``flask --app wsgi``, ``gunicorn wsgi:app`` and ``waitress-serve wsgi:app``."""

from portal import create_app

app = create_app()
