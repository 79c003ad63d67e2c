"""``flask --app wsgi demo``: a demo caseworker and realistic demo cases.

``--cases N`` beyond a handful makes the rest in bulk (``portal.demo_bulk``): the first few are
filed with a receipt, the others are sealed the same way but without one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import click
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from . import demo_bulk
from .cli import _parts, _write_private
from .models import Account, Role
from .staff import create_account

DEMO_EMAIL = "demo.caseworker@example.org"
DEMO_CREDENTIALS = "demo-credentials.txt"


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
    click.echo("At the first sign-in, set up the second factor: scan the QR code with an")
    click.echo("authenticator app (or type the key shown under it), then enter its 6-digit code.")
