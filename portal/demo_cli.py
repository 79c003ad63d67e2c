"""``flask --app wsgi demo``: a demo caseworker, a demo organisation's account (an
intermediary that files for others) and realistic demo cases.

``--cases N`` beyond a handful makes the rest in bulk (``portal.demo_bulk``): the first few are
filed with a receipt, the others are sealed the same way but without one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from . import demo_bulk
from .cli import _parts, _write_private
from .models import Account, Role
from .organisations import approved_organisation_named
from .staff import create_account

DEMO_EMAIL = "demo.caseworker@example.org"
DEMO_CREDENTIALS = "demo-credentials.txt"
DEMO_ORGANISATION = "Demo Rights Network"
DEMO_ORGANISATION_EMAIL = "demo.organisation@example.org"
DEMO_ORGANISATION_CREDENTIALS = "demo-organisation-credentials.txt"


def _progress(total: int) -> Callable[[int], None] | None:
    """Report every tenth of a large run on standard error."""
    if total < 10 * demo_bulk.BATCH_SIZE:
        return None
    step = max(total // 10, demo_bulk.BATCH_SIZE)
    reported = [0]

    def report(done: int) -> None:
        if done - reported[0] >= step or done == total:
            reported[0] = done
            click.echo(f"  {done} of {total} cases", err=True)

    return report


@click.command("demo")
@with_appcontext
@click.option("--cases", "count", type=click.IntRange(min=0), default=None, help="Demo cases.")
def demo_command(count: int | None) -> None:
    """A demo caseworker and a demo organisation account (passwords printed) and realistic
    demo cases."""
    settings, database, keyring, data_dir = _parts()
    with Session(database.engine) as db:
        exists = db.query(Account.id).filter(Account.email == DEMO_EMAIL).first() is not None
        password = _demo_account(
            db,
            data_dir.root / DEMO_CREDENTIALS,
            email=DEMO_EMAIL,
            display_name="Demo Caseworker",
            role=Role.CASEWORKER,
            intake=True,
        )
        organisation_password = _demo_account(
            db,
            data_dir.root / DEMO_ORGANISATION_CREDENTIALS,
            email=DEMO_ORGANISATION_EMAIL,
            display_name="Demo Organisation Officer",
            role=Role.INTERMEDIARY,
            intake=False,
            organisation=approved_organisation_named(db, DEMO_ORGANISATION)[0],
            is_org_admin=True,
        )
        to_make = count if count is not None else (0 if exists else demo_bulk.RECEIPT_CASES)
        result = demo_bulk.make_demo_cases(
            db, keyring, settings, data_dir, to_make, progress=_progress(to_make)
        )
        click.echo(f"Made {result.made} demo case(s) in {result.seconds:.1f} s.")
        if result.receipts:
            click.echo("Receipts of the first ones (to try the follow-up page):")
            for receipt in result.receipts:
                click.echo(f"    {receipt}")
    click.echo("")
    click.echo("Sign in at http://127.0.0.1:5000/sign-in")
    click.echo(f"    email:    {DEMO_EMAIL}")
    click.echo(f"    password: {password or '(lost: delete the data dir and run make run again)'}")
    click.echo(f"An organisation that files for others ({DEMO_ORGANISATION}) signs in there too:")
    click.echo(f"    email:    {DEMO_ORGANISATION_EMAIL}")
    click.echo(f"    password: {organisation_password or '(lost: see above)'}")
    click.echo("At the first sign-in, set up the second factor: scan the QR code with an")
    click.echo("authenticator app (or type the key shown under it), then enter its 6-digit code.")


def _demo_account(db: Session, credentials: Path, **details: Any) -> str | None:
    """The demo account's password: made with the account (kept in a private file in the data
    dir, to print again), or read back; None if the file was lost."""
    settings, _database, keyring, _data_dir = _parts()
    if db.query(Account.id).filter(Account.email == details["email"]).first() is not None:
        return credentials.read_text(encoding="utf-8").strip() if credentials.exists() else None
    password = "demo-" + secrets.token_urlsafe(12)
    create_account(db, keyring, settings, password=password, **details)
    db.commit()
    credentials.unlink(missing_ok=True)
    _write_private(credentials, password)
    return password
