"""Message templates for the common messages to reporters, one per language.

The defaults live here (translated like every string); an admin can replace any of them for a
language, and the edited text is what caseworkers start from.
"""

from __future__ import annotations

import uuid

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import MessageTemplate, utcnow

DEFAULTS = {
    "acknowledgement": _l(
        "Thank you for your complaint. A caseworker has read it. We will now check whether we "
        "can take it up. We will write to you again here. Come back with your receipt number."
    ),
    "request_information": _l(
        "Thank you for your complaint. To help you, we need to know more. Please answer these "
        "questions here, with your receipt number:"
    ),
}
TEMPLATE_NAMES = {
    "acknowledgement": _l("Acknowledgement"),
    "request_information": _l("Request for information"),
}


def template_text(db: Session, name: str, language: str) -> str:
    """The text to start from: the admin's version for this language, else the default."""
    if name not in DEFAULTS:
        return ""
    edited = db.scalar(
        select(MessageTemplate).where(
            MessageTemplate.name == name, MessageTemplate.language == language
        )
    )
    if edited is not None:
        return edited.body
    with force_locale(language):
        return str(DEFAULTS[name])


def save_template(db: Session, name: str, language: str, body: str, editor: uuid.UUID) -> None:
    """Replace the template ``name`` for ``language`` (the caller commits)."""
    if name not in DEFAULTS:
        raise KeyError(name)
    row = db.scalar(
        select(MessageTemplate).where(
            MessageTemplate.name == name, MessageTemplate.language == language
        )
    )
    if row is None:
        row = MessageTemplate(name=name, language=language, body=body)
        db.add(row)
    row.body, row.updated_by_id, row.updated_at = body, editor, utcnow()
