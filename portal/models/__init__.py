"""The portal's data model: one model a file, all sharing one metadata."""

from .account import Account, Role
from .audit import AuditEvent
from .base import Base, today, utcnow
from .case import Case, Channel
from .compartment import Compartment, CompartmentKind, Grant, GrantHolder, ReceiptLock
from .installation import Installation
from .record import AuthorRole, Record, RecordKind, StoredFile
from .session import StaffSession

__all__ = [
    "Account",
    "AuditEvent",
    "AuthorRole",
    "Base",
    "Case",
    "Channel",
    "Compartment",
    "CompartmentKind",
    "Grant",
    "GrantHolder",
    "Installation",
    "ReceiptLock",
    "Record",
    "RecordKind",
    "Role",
    "StaffSession",
    "StoredFile",
    "today",
    "utcnow",
]
