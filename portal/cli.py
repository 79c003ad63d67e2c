"""Operator commands: ``flask --app wsgi setup | account create | demo``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

import crypto

from . import migrate
from .catalogs import compile_catalogs
from .config import Settings
from .datadir import DataDir
from .db import Database
from .keyring import Keyring
from .models import Role
from .setup import initialise, is_initialised
from .staff import AccountExists, create_account, password_problem


def _parts() -> tuple[Settings, Database, Keyring, DataDir]:
    ext = current_app.extensions
    return ext["portal_settings"], ext["portal_db"], ext["portal_keyring"], ext["portal_data_dir"]


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")


def register_commands(app: Flask) -> None:
    from .audit_cli import audit_group
    from .demo_cli import demo_command
    from .notify_cli import notify_group

    app.cli.add_command(setup_command)
    app.cli.add_command(account_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(audit_group)
    app.cli.add_command(notify_group)


@click.command("setup")
@with_appcontext
@click.option(
    "--recovery-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the recovery secret to this new file (mode 0600) instead of showing it.",
)
def setup_command(recovery_file: Path | None) -> None:
    """Create or upgrade the database and the data dir; on first run, make the recovery key."""
    settings, database, keyring, _data_dir = _parts()
    compiled = compile_catalogs()
    if compiled:
        click.echo(f"Compiled translations: {', '.join(compiled)}.")
    migrate.upgrade(database.engine)
    click.echo(f"Database schema is at revision {migrate.current_revision(database.engine)}.")
    with Session(database.engine) as db:
        if is_initialised(db):
            click.echo("The portal is already set up. No secret is shown again.")
            return
        _private_key, secret = initialise(db, keyring, settings)
        if recovery_file is not None:
            try:
                _write_private(recovery_file, secret)
            except FileExistsError as exc:
                raise click.ClickException(f"{recovery_file} already exists") from exc
            click.echo(f"The recovery secret was written to {recovery_file} (mode 0600).")
            click.echo("Move it offline: a real installation never keeps it on the server.")
        else:
            _show_and_confirm(secret)
        db.commit()
    click.echo("Setup complete.")


def _show_and_confirm(secret: str) -> None:
    click.echo("")
    click.echo("RECOVERY SECRET. It is shown this one time and never stored on this server.")
    click.echo("Write it down and keep it offline, in a safe. It restores access to every case")
    click.echo("when a caseworker forgets their password.")
    click.echo("")
    click.echo(f"    {secret}")
    click.echo("")
    expected = bytes(crypto.parse_recovery_secret(secret))
    for _attempt in range(3):
        typed = click.prompt("Type the recovery secret back to confirm", hide_input=True)
        try:
            if bytes(crypto.parse_recovery_secret(typed)) == expected:
                return
        except crypto.WrongSecretError:
            pass
        click.echo("That does not match. Try again.")
    raise click.ClickException("The recovery secret was not confirmed; nothing was set up.")


@click.group("account")
def account_group() -> None:
    """Manage accounts."""


@account_group.command("create")
@with_appcontext
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--no-intake", is_flag=True, help="Do not grant this account every new case.")
def create_account_command(
    role: str, email: str, display_name: str, password_stdin: bool, no_intake: bool
) -> None:
    """Create an account with its own key pair."""
    settings, database, keyring, _data_dir = _parts()
    email = email.strip().lower()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, email)
    if problem:
        raise click.ClickException(f"Password refused: {problem}")
    with Session(database.engine) as db:
        try:
            account = create_account(
                db,
                keyring,
                settings,
                email=email,
                display_name=display_name,
                role=Role(role),
                password=password,
                intake=not no_intake,
            )
        except AccountExists as exc:
            raise click.ClickException(f"An account with email {email} already exists.") from exc
        except ValueError as exc:
            raise click.ClickException(f"Password refused: {exc}") from exc
        db.commit()
        intake_note = " (in the intake team)" if account.in_intake_team else ""
        click.echo(f"Created {account.role} account {account.email}{intake_note}.")
