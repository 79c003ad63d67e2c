"""Unambiguous, length-prefixed encoding of tuples of fields.

Used for associated data and for the structured plaintext inside wraps, so that two
different tuples can never encode to the same bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from uuid import UUID

from .errors import FormatError

Field = bytes | str | int | UUID

_TAG_BYTES = b"b"
_TAG_STR = b"s"
_TAG_INT = b"i"


def encode_fields(fields: Sequence[Field]) -> bytes:
    """Encode ``fields`` as a sequence of (type tag, 4-byte length, value)."""
    out = bytearray()
    for field in fields:
        if isinstance(field, bool):  # bool is an int; refuse the ambiguity
            raise TypeError("booleans are not encodable fields")
        if isinstance(field, UUID):
            tag, value = _TAG_BYTES, field.bytes
        elif isinstance(field, bytes):
            tag, value = _TAG_BYTES, field
        elif isinstance(field, str):
            tag, value = _TAG_STR, field.encode("utf-8")
        elif isinstance(field, int):
            tag, value = _TAG_INT, field.to_bytes(8, "big", signed=True)
        else:
            raise TypeError(f"cannot encode {type(field).__name__}")
        out += tag + struct.pack(">I", len(value)) + value
    return bytes(out)


def decode_fields(data: bytes) -> list[bytes | str | int]:
    """Decode what :func:`encode_fields` produced (UUIDs come back as 16 bytes)."""
    fields: list[bytes | str | int] = []
    pos = 0
    while pos < len(data):
        if pos + 5 > len(data):
            raise FormatError("truncated field header")
        tag = data[pos : pos + 1]
        (length,) = struct.unpack(">I", data[pos + 1 : pos + 5])
        pos += 5
        if pos + length > len(data):
            raise FormatError("truncated field value")
        value = data[pos : pos + length]
        pos += length
        if tag == _TAG_BYTES:
            fields.append(value)
        elif tag == _TAG_STR:
            try:
                fields.append(value.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise FormatError("invalid text field") from exc
        elif tag == _TAG_INT:
            if length != 8:
                raise FormatError("invalid integer field")
            fields.append(int.from_bytes(value, "big", signed=True))
        else:
            raise FormatError("unknown field tag")
    return fields
