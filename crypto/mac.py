"""MACs over what the database holds in clear and encryption depends on.

Public keys and grant rows carry a BLAKE2b tag under a server key kept outside the database, so
that a database writer cannot swap in a public key of their own and redirect what is encrypted
next (property P10).
"""

from __future__ import annotations

import os

from .encoding import Field, encode_fields
from .errors import IntegrityError
from .hashing import LABEL_SERVER_MAC, constant_time_equal, keyed_hash

MAC_VERSION = 1
KEY_BYTES = 32
TAG_BYTES = 32


def new_server_mac_key() -> bytes:
    """32 random bytes, to be stored outside the database."""
    return os.urandom(KEY_BYTES)


class ServerMac:
    """Computes and checks tags over typed tuples of clear fields."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError("server MAC key must be 32 bytes")
        self._key = key

    def tag(self, kind: str, *fields: Field) -> bytes:
        """A tag binding ``kind`` and ``fields``."""
        return keyed_hash(
            self._key, LABEL_SERVER_MAC, encode_fields([MAC_VERSION, kind, *fields]), TAG_BYTES
        )

    def verify(self, tag: bytes | None, kind: str, *fields: Field) -> None:
        """Raise :class:`IntegrityError` unless ``tag`` is right for ``kind`` and ``fields``."""
        if tag is None or not constant_time_equal(tag, self.tag(kind, *fields)):
            raise IntegrityError(f"{kind}: stored value failed its integrity check")
