"""``flask --app wsgi demo``: a demo caseworker and realistic demo cases."""

from __future__ import annotations

import secrets

import click
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from . import demo_data, intake
from .cli import _parts, _write_private
from .models import Account, Role
from .staff import create_account

DEMO_EMAIL = "demo.caseworker@example.org"
DEMO_CREDENTIALS = "demo-credentials.txt"


@click.command("demo")
@with_appcontext
@click.option("--cases", "count", type=click.IntRange(min=0), default=None, help="Demo cases.")
def demo_command(count: int | None) -> None:
    """A demo caseworker (its password printed) and realistic demo cases."""
    settings, database, keyring, data_dir = _parts()
    credentials = data_dir.root / DEMO_CREDENTIALS
    with Session(database.engine) as db:
        exists = db.query(Account.id).filter(Account.email == DEMO_EMAIL).first() is not None
        if exists:
            password = (
                credentials.read_text(encoding="utf-8").strip() if credentials.exists() else None
            )
        else:
            password = "demo-" + secrets.token_urlsafe(12)
            create_account(
                db,
                keyring,
                settings,
                email=DEMO_EMAIL,
                display_name="Demo Caseworker",
                role=Role.CASEWORKER,
                password=password,
                intake=True,
            )
            db.commit()
            credentials.unlink(missing_ok=True)
            _write_private(credentials, password)
        to_make = count if count is not None else (0 if exists else 5)
        for index in range(to_make):
            submission = demo_data.complaint(db, index)
            intake.file_complaint(db, keyring, settings, data_dir, submission)
        click.echo(f"Made {to_make} demo case(s).")
    click.echo("")
    click.echo("Sign in at http://127.0.0.1:5000/sign-in")
    click.echo(f"    email:    {DEMO_EMAIL}")
    click.echo(f"    password: {password or '(lost: delete the data dir and run make run again)'}")
