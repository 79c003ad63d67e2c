"""The portal's data model: one model a file, all sharing one metadata."""

from .account import STAFF_ROLES, Account, RecoveryCode, Role
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
from .organisation import Invitation, Organisation, OrganisationKind, OrganisationStatus
from .record import AuthorRole, ReadMark, Record, RecordKind, StoredFile
from .referral import (
    ConsentRequest,
    Recipient,
    Referral,
    ReferralOutcome,
    ReferralStatus,
    Scope,
)
from .remedy import (
    Answer3,
    Commitment,
    CommitmentStatus,
    ComplianceEvent,
    ComplianceStage,
    FeedbackRound,
    Remedy,
    RemedyCategory,
    RemedyFeedback,
    Reprisal,
    SiteOption,
)
from .session import StaffSession
from .tally import StageTally
from .template import MessageTemplate

__all__ = [
    "STAFF_ROLES",
    "Account",
    "Anonymity",
    "Answer3",
    "AuditEvent",
    "AuditHead",
    "AuthorRole",
    "Base",
    "Case",
    "CaseTopic",
    "Channel",
    "Commitment",
    "CommitmentStatus",
    "Company",
    "Compartment",
    "CompartmentKind",
    "ComplaintKind",
    "ComplianceEvent",
    "ComplianceStage",
    "Consent",
    "ConsentRequest",
    "Draft",
    "FeedbackRound",
    "Filer",
    "Grant",
    "GrantHolder",
    "IdentityRequest",
    "Installation",
    "Invitation",
    "Membership",
    "MessageTemplate",
    "Organisation",
    "OrganisationKind",
    "OrganisationStatus",
    "Outcome",
    "Procedure",
    "ProcedureKind",
    "ReadMark",
    "ReceiptLock",
    "ReceiptSuccessor",
    "Recipient",
    "Record",
    "RecordKind",
    "RecoveryCode",
    "Referral",
    "ReferralOutcome",
    "ReferralStatus",
    "Remedy",
    "RemedyCategory",
    "RemedyFeedback",
    "ReporterSession",
    "Reprisal",
    "Role",
    "Scope",
    "SiteOption",
    "StaffSession",
    "StageEvent",
    "StageTally",
    "StoredFile",
    "day_start",
    "today",
    "utcnow",
]
