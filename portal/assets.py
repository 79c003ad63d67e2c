"""Static files under content-hashed names, cached for a year; pages themselves never cached."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, abort, send_from_directory, url_for

YEAR = 365 * 24 * 3600
STATIC = Path(__file__).resolve().parent / "static"


def install_assets(app: Flask) -> None:
    """Serve ``/assets/<stem>.<hash><suffix>`` and offer ``static_url(name)`` to templates."""
    folder = STATIC
    hashed: dict[str, str] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            hashed[path.name] = f"{path.stem}.{digest}{path.suffix}"
    reverse = {value: key for key, value in hashed.items()}

    @app.get("/assets/<name>")
    def asset(name: str) -> Response:
        original = reverse.get(name)
        if original is None:
            abort(404)
        response = send_from_directory(folder, original, max_age=YEAR)
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        return response

    def static_url(name: str) -> str:
        return url_for("asset", name=hashed[name])

    app.jinja_env.globals["static_url"] = static_url
