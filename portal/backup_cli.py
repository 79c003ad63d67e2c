"""``flask --app wsgi backup create PATH | restore PATH``: see ``portal.backup``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .backup import BackupError, create_backup, restore_backup
from .config import Settings
from .datadir import DataDir
from .db import Database


def _parts() -> tuple[Settings, Database, DataDir]:
    ext = current_app.extensions
    return ext["portal_settings"], ext["portal_db"], ext["portal_data_dir"]


@click.group("backup")
def backup_group() -> None:
    """Back up the database and the file store, or restore them into an empty installation."""


@backup_group.command("create")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--without-keys",
    is_flag=True,
    help="Leave server_mac_key and secret_key out (back them up apart).",
)
def create_command(path: Path, without_keys: bool) -> None:
    """Write a consistent snapshot of the database and the encrypted files to PATH, a new .tar
    file, while the portal keeps serving. Nothing is decrypted."""
    settings, database, data_dir = _parts()
    try:
        create_backup(
            settings,
            data_dir,
            database.engine,
            path,
            include_keys=not without_keys,
            say=click.echo,
        )
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc


@backup_group.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def restore_command(path: Path) -> None:
    """Check the backup at PATH, then restore it into this installation, whose database and
    file store must be empty; then migrate it to the current schema."""
    settings, _database, data_dir = _parts()
    try:
        restore_backup(settings, data_dir, path, say=click.echo)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
