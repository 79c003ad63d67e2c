"""``flask --app wsgi notify overdue | digest``: the daily notification runs, for cron."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from . import notify
from .config import Settings
from .db import Database


def _settings_and_database() -> tuple[Settings, Database]:
    ext = current_app.extensions
    return ext["portal_settings"], ext["portal_db"]


@click.group("notify")
def notify_group() -> None:
    """Email notifications to staff."""


@notify_group.command("overdue")
@with_appcontext
def overdue_command() -> None:
    """Email about overdue steps (at most once per case a day). Run daily, e.g. from cron."""
    settings, database = _settings_and_database()
    with Session(database.engine) as db:
        run = notify.send_overdue(db, settings)
    click.echo(f"Overdue steps: {run.cases} case(s) notified in {run.sent} email(s).")
    if run.failed:
        raise click.ClickException(
            f"{run.failed} email(s) could not be sent; run the command again later."
        )


@notify_group.command("digest")
@with_appcontext
def digest_command() -> None:
    """Send the daily digest to the accounts that chose it. Run once a day, e.g. from cron."""
    settings, database = _settings_and_database()
    with Session(database.engine) as db:
        run = notify.send_digests(db, settings)
    click.echo(f"Digests: {run.sent} sent.")
    if run.failed:
        raise click.ClickException(
            f"{run.failed} digest(s) could not be sent; run the command again later."
        )
