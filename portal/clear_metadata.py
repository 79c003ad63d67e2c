"""The one registry of what is kept in clear about a case (the exception to property P1).

Everything a reporter typed, every name, every place below country and every file is encrypted.
What follows is kept readable so cases can be routed, deadlines computed and statistics
published. A test fails when a model gains a readable column that is not listed here.
"""

from __future__ import annotations

# Answers the reporter gave that are stored in clear, and why.
CLEAR_REPORTER_ANSWERS: dict[str, str] = {
    "cases.country": "routing and statistics: the country where it happened, or none",
    "cases.language": "replying in the reporter's language; statistics",
    "cases.channel": "anonymous, confidential, intermediary or staff-recorded",
    "cases.kind": "harm (remedy route) or evidence of a violation (compliance route)",
    "cases.filer": "about myself, for someone else, or a witness",
    "cases.company_id": "the member company, only when chosen from the list",
    "cases.urgent": "set when the reporter says someone is in danger now",
    "cases.identity_to_company": "consent gate: may identity go to the company",
    "cases.identity_to_bodies": "consent gate: may identity go to other complaint bodies",
    "case_topics.topic": "kinds of conduct, from a fixed list, for routing and statistics",
}

# Readable columns the system itself sets (identifiers, stages, dates at day precision, keys
# that are public by nature, and integrity tags). None of them carries what a reporter wrote.
SYSTEM_COLUMNS: dict[str, str] = {
    "cases.id": "random identifier",
    "cases.reference": "random short reference for staff",
    "cases.received_on": "date, day precision",
    "cases.stage": "workflow stage",
    "cases.stage_changed_on": "date, day precision",
    "cases.next_due_on": "deadline",
    "cases.outcome": "how the case ended",
    "cases.assigned_to_id": "the caseworker in charge",
    "receipt_locks.public_key": "public key only the receipt derives (for later compartments)",
    "receipt_successors.id": "random identifier",
    "receipt_successors.case_id": "link",
    "receipt_successors.compartment_id": "link",
    "stage_events.id": "sequence",
    "stage_events.case_id": "link",
    "stage_events.from_stage": "workflow stage",
    "stage_events.to_stage": "workflow stage",
    "stage_events.actor_account_id": "the staff member who moved the case",
    "stage_events.occurred_at": "staff-side time",
    "identity_requests.id": "random identifier",
    "identity_requests.case_id": "link",
    "identity_requests.account_id": "who asked",
    "identity_requests.requested_at": "staff-side time",
    "identity_requests.decided_by_id": "who decided",
    "identity_requests.decided_at": "staff-side time",
    "identity_requests.decision": "granted or refused",
    "case_topics.case_id": "link",
    "reporter_sessions.id": "hash of the follow-up cookie's token",
    "reporter_sessions.case_id": "link",
    "reporter_sessions.expires_at": "end of the follow-up session",
    "compartments.id": "random identifier",
    "compartments.case_id": "link",
    "compartments.kind": "which compartment",
    "compartments.public_key": "public key",
    "compartments.public_key_mac": "integrity tag",
    "compartments.created_at": "staff-side time",
    "compartments.retired_at": "staff-side time",
    "grants.id": "random identifier",
    "grants.compartment_id": "link",
    "grants.holder": "account or recovery",
    "grants.account_id": "link",
    "grants.mac": "integrity tag",
    "grants.created_at": "staff-side time",
    "receipt_locks.lookup_token": "Argon2id-derived token, not the receipt",
    "receipt_locks.case_id": "link",
    "receipt_locks.compartment_id": "link",
    "receipt_locks.expires_on": "date",
    "records.id": "random identifier",
    "records.case_id": "link",
    "records.compartment_id": "link",
    "records.kind": "which kind of record",
    "records.author_role": "reporter, staff, company or system",
    "records.author_account_id": "link",
    "records.created_on": "date, day precision",
    "records.sequence": "order within the case",
    "files.id": "random identifier",
    "files.case_id": "link",
    "files.key_record_id": "link",
    "files.stored_bytes": "padded size on disk (a multiple of 64 KiB)",
    "files.created_on": "date, day precision",
}

# Columns holding ciphertext or wraps: unreadable without a key.
ENCRYPTED_COLUMNS: frozenset[str] = frozenset(
    {
        "records.ciphertext",
        "grants.wrap",
        "receipt_locks.wrap",
        "receipt_successors.wrap",
        "reporter_sessions.wrapped_key",
    }
)

# Tables that hold something of a case; every column of theirs is in one of the lists above.
CASE_TABLES: tuple[str, ...] = (
    "cases",
    "case_topics",
    "compartments",
    "grants",
    "receipt_locks",
    "records",
    "files",
    "reporter_sessions",
    "receipt_successors",
    "stage_events",
    "identity_requests",
)
