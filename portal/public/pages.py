"""Pages that only inform: home and staying safe."""

from __future__ import annotations

from flask import render_template

from . import blueprint


@blueprint.get("/")
def home() -> str:
    return render_template("public/home.html")


@blueprint.get("/staying-safe")
def staying_safe() -> str:
    return render_template("public/staying_safe.html")
