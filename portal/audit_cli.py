"""``flask --app wsgi audit verify``: check the hash chain of the audit log."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from .audit import verify_chain
from .db import Database


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@with_appcontext
def verify_command() -> None:
    """Recompute every event's hash in order; name the first broken link (exit status 1)."""
    database: Database = current_app.extensions["portal_db"]
    if database.audit_key is None:
        raise click.ClickException("this database has no audit chain key")
    with Session(database.engine) as db:
        report = verify_chain(db, database.audit_key)
    if report.intact:
        click.echo(report.describe())
        return
    click.echo(report.describe(), err=True)
    click.get_current_context().exit(1)
