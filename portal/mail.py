"""The one place that sends email: plain text over SMTP, to the server the settings name.

Mail is best effort. Whatever goes wrong (no server, a refused recipient, a timeout) is logged
by its kind only, never with an address, a subject or a body, and is never raised to the
request or command that asked for the mail: a complaint is filed whether or not staff hear of
it by email.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from .config import Settings

logger = logging.getLogger("portal.mail")

# Seconds to wait for the SMTP server at each step: a slow server must not hold a request long.
TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Mail:
    """One plain-text email to one recipient."""

    to: str
    subject: str
    body: str


def message(settings: Settings, mail: Mail) -> EmailMessage:
    """The email as sent: no identifying Message-ID (no host name, no process id, no time)."""
    domain = settings.smtp_sender.rpartition("@")[2] or "localhost"
    email = EmailMessage()
    email["From"] = settings.smtp_sender
    email["To"] = mail.to
    email["Subject"] = mail.subject
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = f"<{secrets.token_hex(16)}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    email.set_content(mail.body)
    return email


def send(settings: Settings, mails: Sequence[Mail]) -> list[Mail]:
    """Send each mail over one SMTP connection; return those the server accepted.

    Never raises: a failure is logged (without addresses or content) and the mails it stopped
    are simply missing from the result.
    """
    if not mails:
        return []
    accepted: list[Mail] = []
    refused: list[str] = []
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            for mail in mails:
                try:
                    smtp.send_message(message(settings, mail))
                except (
                    smtplib.SMTPRecipientsRefused,
                    smtplib.SMTPSenderRefused,
                    smtplib.SMTPDataError,
                ) as exc:
                    # This mail only: the connection is still good for the next one.
                    refused.append(type(exc).__name__)
                else:
                    accepted.append(mail)
    except Exception as exc:  # no failure to send may reach the caller
        # Only the kind of failure: an exception's text can carry an address.
        logger.warning(
            "Notification email not sent (%s): %d of %d sent.",
            type(exc).__name__,
            len(accepted),
            len(mails),
        )
        return accepted
    if refused:
        logger.warning(
            "Notification email refused by the mail server (%s): %d of %d sent.",
            ", ".join(sorted(set(refused))),
            len(accepted),
            len(mails),
        )
    return accepted
