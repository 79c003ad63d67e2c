"""``flask --app wsgi notify ...`` (filled in with notifications)."""

import click


@click.group("notify")
def notify_group() -> None:
    """Email notifications to staff."""
