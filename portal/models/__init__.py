"""The portal's data model: one model a file, all sharing one metadata."""

from .account import Account, Role
from .audit import AuditEvent
from .base import Base, day_start, today, utcnow
from .case import Case, CaseTopic, Channel, ComplaintKind, Consent, Filer, Outcome
from .company import Company
from .compartment import Compartment, CompartmentKind, Grant, GrantHolder, ReceiptLock
from .draft import Draft, ReporterSession
from .installation import Installation
from .record import AuthorRole, Record, RecordKind, StoredFile
from .session import StaffSession

__all__ = [
    "Account",
    "AuditEvent",
    "AuthorRole",
    "Base",
    "Case",
    "CaseTopic",
    "Channel",
    "Company",
    "Compartment",
    "CompartmentKind",
    "ComplaintKind",
    "Consent",
    "Draft",
    "Filer",
    "Grant",
    "GrantHolder",
    "Installation",
    "Outcome",
    "ReceiptLock",
    "Record",
    "RecordKind",
    "ReporterSession",
    "Role",
    "StaffSession",
    "StoredFile",
    "day_start",
    "today",
    "utcnow",
]
