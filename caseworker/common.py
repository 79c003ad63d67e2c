"""What the staff-side views share: the app's portal extensions, the signed-in account, and
streaming a decrypted attachment as a safe download."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from flask import Response, current_app, make_response

from portal.casework import AttachmentInfo
from portal.staff import SignedIn

from .session import current_staff


def ext(name: str) -> Any:
    """One of the portal's app extensions (``keyring``, ``settings``, ``data_dir``, ...)."""
    return current_app.extensions[f"portal_{name}"]


def signed_in() -> SignedIn:
    """The signed-in account of a view behind ``staff_required`` (which has checked)."""
    who = current_staff()
    assert who is not None
    return who


# Types a browser may show inline after download; anything else is a plain byte stream.
SAFE_DOWNLOAD_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "application/pdf",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/mp4",
        "video/mp4",
    }
)


def content_disposition(name: str) -> str:
    """An attachment header whose names cannot break out of the header, whatever was uploaded."""
    fallback = "".join(ch for ch in name if 32 <= ord(ch) < 127 and ch not in '"\\;') or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment_response(info: AttachmentInfo, chunks: Iterator[bytes]) -> Response:
    """A decrypted attachment streamed as a download: never shown inline unless its type is
    harmless, its name unable to break the header, and sandboxed."""
    mimetype = info.content_type if info.content_type in SAFE_DOWNLOAD_TYPES else None
    response = make_response(
        Response(chunks, mimetype=mimetype or "application/octet-stream", direct_passthrough=True)
    )
    # A known length lets the client detect a download cut short by a failed integrity check.
    response.headers["Content-Length"] = str(info.size)
    response.headers["Content-Disposition"] = content_disposition(info.name)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
