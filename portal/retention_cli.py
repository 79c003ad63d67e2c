"""``flask --app wsgi purge [--dry-run]``: erase what the retention policy no longer allows."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from .retention import purge


@click.command("purge")
@with_appcontext
@click.option("--dry-run", is_flag=True, help="List what is due; erase nothing.")
def purge_command(dry_run: bool) -> None:
    """Erase closed cases past their retention (daily from cron or a systemd timer)."""
    ext = current_app.extensions
    with Session(ext["portal_db"].engine) as db:
        run = purge(db, ext["portal_settings"], ext["portal_data_dir"], dry_run=dry_run)
    verb = "Would erase" if dry_run else "Erased"
    for due in run.erased:
        click.echo(f"{verb} case {due.reference} ({due.rule}).")
    click.echo(f"{verb} {len(run.erased)} case(s).")
    if not dry_run:
        click.echo(
            f"Removed {run.orphan_files} orphan file(s), {run.drafts} expired draft(s) and"
            f" {run.sessions} lapsed follow-up session(s)."
        )
        if not run.wal_cleared:
            click.echo("The SQLite write-ahead log was busy: run the purge again to clear it.")
