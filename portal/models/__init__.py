"""The portal's data model: one model a file, all sharing one metadata."""

from .account import Account, RecoveryCode, Role
from .audit import AuditEvent, AuditHead
from .base import Base, day_start, today, utcnow
from .case import (
    Case,
    CaseTopic,
    Channel,
    ComplaintKind,
    Consent,
    Filer,
    IdentityRequest,
    Outcome,
    StageEvent,
)
from .company import Anonymity, Company, Membership, Procedure, ProcedureKind
from .compartment import (
    Compartment,
    CompartmentKind,
    Grant,
    GrantHolder,
    ReceiptLock,
    ReceiptSuccessor,
)
from .draft import Draft, ReporterSession
from .installation import Installation
from .record import AuthorRole, Record, RecordKind, StoredFile
from .session import StaffSession
from .tally import StageTally
from .template import MessageTemplate

__all__ = [
    "Account",
    "Anonymity",
    "AuditEvent",
    "AuditHead",
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
    "IdentityRequest",
    "Installation",
    "Membership",
    "MessageTemplate",
    "Outcome",
    "Procedure",
    "ProcedureKind",
    "ReceiptLock",
    "ReceiptSuccessor",
    "Record",
    "RecordKind",
    "RecoveryCode",
    "ReporterSession",
    "Role",
    "StaffSession",
    "StageEvent",
    "StageTally",
    "StoredFile",
    "day_start",
    "today",
    "utcnow",
]
