"""``/healthz`` for load balancers: up or down, and nothing else."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from flask.testing import FlaskClient

from portal import Settings, create_app


def test_healthz_says_ok_and_nothing_more(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"
    assert response.mimetype == "text/plain"
    assert "Set-Cookie" not in response.headers
    assert "no-store" in response.headers["Cache-Control"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_healthz_answers_503_when_the_database_is_gone(settings: Settings, tmp_path: Path) -> None:
    # Nothing listens on port 1 of loopback: the database is down.
    down = replace(
        settings,
        data_dir=tmp_path / "elsewhere",
        database_url="postgresql+psycopg://portal@127.0.0.1:1/portal?connect_timeout=2",
    )
    app = create_app(down)
    try:
        response = app.test_client().get("/healthz")
    finally:
        app.extensions["portal_db"].dispose()

    assert response.status_code == 503
    assert response.get_data(as_text=True) == "unavailable\n"
