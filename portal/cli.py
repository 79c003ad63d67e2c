"""Operator commands: ``flask --app wsgi setup | account create|recover|deactivate | demo``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from nacl.public import PrivateKey
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

import crypto
from crypto import WrapPurpose
from crypto.hashing import constant_time_equal

from . import migrate
from .catalogs import compile_catalogs
from .config import Settings
from .datadir import DataDir
from .db import Database
from .keyring import Keyring
from .models import (
    Account,
    AuditEvent,
    Compartment,
    Grant,
    GrantHolder,
    RecoveryCode,
    Role,
    utcnow,
)
from .organisations import approved_organisation_named
from .registry import company_named, load_starter_catalogue
from .retention_cli import purge_command
from .setup import initialise, is_initialised
from .staff import (
    AccountExists,
    create_account,
    deactivate_account,
    end_all_sessions,
    password_problem,
)
from .vault import grant_to_account, installation


def _parts() -> tuple[Settings, Database, Keyring, DataDir]:
    ext = current_app.extensions
    return ext["portal_settings"], ext["portal_db"], ext["portal_keyring"], ext["portal_data_dir"]


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")


def register_commands(app: Flask) -> None:
    from .audit_cli import audit_group
    from .backup_cli import backup_group
    from .demo_cli import demo_command
    from .notify_cli import notify_group

    app.cli.add_command(setup_command)
    app.cli.add_command(account_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(audit_group)
    app.cli.add_command(backup_group)
    app.cli.add_command(notify_group)
    app.cli.add_command(purge_command)


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
        loaded = load_starter_catalogue(db)
        db.commit()
    if loaded:
        click.echo(
            f"Loaded {loaded} alternative procedures from the starter catalogue, each marked as"
            " not yet verified: check them under Admin, Procedures."
        )
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
@click.option(
    "--company",
    "company_name",
    help="For --role company: the member company (added to the registry if missing).",
)
@click.option(
    "--organisation",
    "organisation_name",
    help="For --role intermediary: the organisation (added and approved if new or pending).",
)
@click.option(
    "--org-admin",
    is_flag=True,
    help="For --role intermediary: the account may invite colleagues of its organisation.",
)
def create_account_command(
    role: str,
    email: str,
    display_name: str,
    password_stdin: bool,
    no_intake: bool,
    company_name: str | None,
    organisation_name: str | None,
    org_admin: bool,
) -> None:
    """Create an account with its own key pair."""
    if (role == Role.COMPANY.value) != bool(company_name and company_name.strip()):
        raise click.BadParameter(
            "--company NAME is needed with --role company, and only with it.",
            param_hint="--company",
        )
    if (role == Role.INTERMEDIARY.value) != bool(organisation_name and organisation_name.strip()):
        raise click.BadParameter(
            "--organisation NAME is needed with --role intermediary, and only with it.",
            param_hint="--organisation",
        )
    if org_admin and role != Role.INTERMEDIARY.value:
        raise click.BadParameter(
            "--org-admin is only for --role intermediary.", param_hint="--org-admin"
        )
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
        company = company_named(db, company_name) if company_name else None
        organisation, approved_now = (
            approved_organisation_named(db, organisation_name)
            if organisation_name
            else (None, False)
        )
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
                company=company,
                organisation=organisation,
                is_org_admin=org_admin,
            )
        except AccountExists as exc:
            raise click.ClickException(f"An account with email {email} already exists.") from exc
        except ValueError as exc:
            raise click.ClickException(f"Password refused: {exc}") from exc
        db.commit()
        intake_note = " (in the intake team)" if account.in_intake_team else ""
        of_company = f" of {company.name}" if company is not None else ""
        if organisation is not None:
            of_company = f" of {organisation.name}"
            if approved_now:
                of_company += " (organisation approved now)"
            if account.is_org_admin:
                of_company += ", its organisation admin"
        click.echo(f"Created {account.role} account {account.email}{of_company}{intake_note}.")


def _find_account(db: Session, email: str) -> Account:
    account = db.scalar(select(Account).where(Account.email == email.strip().lower()))
    if account is None:
        raise click.ClickException(f"There is no account with email {email.strip().lower()}.")
    return account


@account_group.command("deactivate")
@with_appcontext
@click.option("--email", required=True)
def deactivate_account_command(email: str) -> None:
    """Switch an account off at once: it cannot sign in, and its sessions end."""
    _settings, database, _keyring, _data_dir = _parts()
    with Session(database.engine) as db:
        account = _find_account(db, email)
        if not account.is_active:
            click.echo(f"{account.email} is already deactivated.")
            return
        deactivate_account(db, account, None)
        db.commit()
        click.echo(f"Deactivated {account.email}; its sessions have ended.")


# --- recovery (P6) ------------------------------------------------------------------------------


def _recovery_secret() -> str:
    """The first line of standard input (typed without echo at a terminal)."""
    if sys.stdin.isatty():
        return str(click.prompt("Recovery secret", hide_input=True))
    return sys.stdin.readline().strip()


def _recovery_grant(db: Session, keyring: Keyring, compartment: Compartment) -> Grant:
    grant = db.scalar(
        select(Grant).where(
            Grant.compartment_id == compartment.id, Grant.holder == GrantHolder.RECOVERY.value
        )
    )
    if grant is None:
        raise crypto.IntegrityError(f"compartment {compartment.id} has no recovery grant")
    keyring.verify_grant(grant)
    return grant


def reset_account_keys(
    db: Session, keyring: Keyring, settings: Settings, account: Account, password: str
) -> None:
    """A new key pair under a new password; no second factor (it enrols again), no session."""
    keys, _private_key = crypto.create_account_keys(account.id, password, settings.argon2)
    account.public_key = keys.public_key
    account.wrapped_private_key = keys.wrapped_private_key
    keyring.sign_account(account)
    account.password_changed_at = utcnow()
    account.totp_secret = None
    account.totp_last_step = None
    account.failed_signins = 0
    account.last_failed_at = None
    db.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    end_all_sessions(db, account.id)


def recover_account(
    db: Session,
    keyring: Keyring,
    settings: Settings,
    account: Account,
    recovery_key: PrivateKey,
    password: str,
) -> int:
    """Give ``account`` a new key pair and password and re-grant every compartment it held,
    each opened through its recovery grant. Nothing changes unless every one opens. Returns
    how many compartments were re-granted; the caller commits."""
    row = installation(db, keyring)
    if not constant_time_equal(crypto.public_bytes(recovery_key), row.recovery_public_key):
        raise crypto.WrongSecretError("not the recovery key of this installation")
    held = db.scalars(
        select(Grant).where(
            Grant.account_id == account.id, Grant.holder == GrantHolder.ACCOUNT.value
        )
    ).all()
    opened: list[tuple[Compartment, PrivateKey]] = []
    for grant in held:
        compartment = db.get(Compartment, grant.compartment_id)
        if compartment is None:
            raise crypto.IntegrityError(f"grant {grant.id} names no compartment")
        keyring.verify_compartment(compartment)
        recovery = _recovery_grant(db, keyring, compartment)
        key = crypto.open_grant(
            recovery.wrap,
            recovery_key,
            compartment.id,
            compartment.public_key,
            WrapPurpose.RECOVERY,
        )
        opened.append((compartment, key))
    reset_account_keys(db, keyring, settings, account, password)
    for grant in held:
        db.delete(grant)
    db.flush()  # the old grants go before the new ones take their (compartment, account) slot
    for compartment, key in opened:
        grant_to_account(db, keyring, compartment, key, account)
    db.add(AuditEvent(action="account.recovered", actor_account_id=None, detail=str(account.id)))
    return len(opened)


@account_group.command("recover")
@with_appcontext
@click.option("--email", required=True)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the new password from the second line of standard input.",
)
def recover_account_command(email: str, password_stdin: bool) -> None:
    """Restore an account whose password is lost, with the offline recovery secret.

    Reads the recovery secret from standard input. The account gets a new key pair and
    password, every case it held is granted to it again, and it sets up a new second factor
    at its next sign-in.
    """
    settings, database, keyring, _data_dir = _parts()
    try:
        recovery_key = crypto.parse_recovery_secret(_recovery_secret())
    except crypto.WrongSecretError as exc:
        raise click.ClickException("That is not a recovery secret (check it for typos).") from exc
    with Session(database.engine) as db:
        account = _find_account(db, email)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
        problem = password_problem(password, account.email)
        if problem:
            raise click.ClickException(f"Password refused: {problem}")
        try:
            count = recover_account(db, keyring, settings, account, recovery_key, password)
        except crypto.WrongSecretError as exc:
            raise click.ClickException(
                "That recovery secret does not belong to this installation."
            ) from exc
        except crypto.CryptoError as exc:
            db.rollback()
            raise click.ClickException(f"Nothing was changed: {exc}") from exc
        db.commit()
        click.echo(f"Recovered {account.email}: {count} compartment(s) granted to its new key.")
        click.echo("It signs in with the new password and sets up a new second factor.")
