"""``flask --app wsgi audit ...`` (filled in with the audit chain)."""

import click


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""
