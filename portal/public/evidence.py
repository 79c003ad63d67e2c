"""Files a reporter sends, on the evidence step or when following up: one set of rules."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_babel import ngettext

from ..config import Settings
from ..uploads import EncryptingUpload


def received_uploads() -> list[tuple[EncryptingUpload, str]]:
    """The files of this request (already encrypted), with their names; empty inputs skipped.

    A part with content but no usable name is kept under a plain name, never dropped.
    """
    uploads = []
    for storage in request.files.getlist("attachments"):
        stream = storage.stream
        if isinstance(stream, EncryptingUpload) and (storage.filename or stream.size):
            uploads.append((stream, storage.filename or _("attachment")))
    return uploads


def too_large_message(settings: Settings) -> str:
    return _(
        "These files are too large together. You can send up to %(size)d MB in all.",
        size=settings.max_upload_bytes // (1024 * 1024),
    )


def limit_problem(
    settings: Settings,
    uploads: list[tuple[EncryptingUpload, str]],
    kept_count: int = 0,
    kept_bytes: int = 0,
) -> str | None:
    """Why these uploads (beside what is already kept) cannot be accepted, or None."""
    if kept_count + len(uploads) > settings.max_files:
        return ngettext(
            "You can add up to %(num)d file.",
            "You can add up to %(num)d files.",
            settings.max_files,
        )
    if kept_bytes + sum(upload.size for upload, _name in uploads) > settings.max_upload_bytes:
        return too_large_message(settings)
    return None
