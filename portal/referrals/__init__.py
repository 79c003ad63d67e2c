"""Referring a case: where it can go, what the reporter allows, and the package that goes.

Consent gates every step. For each kind of recipient (the company; every other body) the case
holds what the reporter allowed: nothing, the account without who they are, or the account
with their identity. While the reporter has not said, a referral waits and the reporter is
asked on the follow-up page. What goes never exceeds what they allowed; the check is made when the
package is sealed (``packages.compose``), whatever the form sent.

A package is a compartment of its own (P9): its key is granted to the caseworkers holding the
case and, for a member company, to that company's grievance officers, who can open the package
and answer into it but hold no key of the case. Shared files are copies with their metadata
removed (``portal.scrub``); the originals stay in the case as evidence. For any other body the
caseworker downloads the package as a plain-text bundle with the cleaned files and sends it
through that body's channel, then records the sending.
"""

from ..intake import IDENTITY_FIELDS
from .company import (
    Answer,
    acknowledge,
    add_company_files,
    answer,
    company_answers,
    company_files,
    company_referral,
    company_referrals,
)
from .consent import (
    answer_consent,
    ask_consent,
    open_consent_requests,
    scope_for,
    set_consent_for_reporter,
)
from .core import (
    DEFAULT_RESPONSE_DAYS,
    MAX_SHARED_FILE,
    OPEN_STATUSES,
    VISIBLE_TO_COMPANY,
    Package,
    ReferralError,
    SharedFile,
)
from .packages import (
    PackageChoice,
    bundle,
    compose,
    open_shared_file,
    read_package,
    share_with_new_holders,
)
from .routing import (
    Reason,
    Suggestion,
    case_referrals,
    is_overdue,
    overdue_for,
    record_response,
    record_sent,
    start_referral,
    suggestions,
)

__all__ = [
    "DEFAULT_RESPONSE_DAYS",
    "IDENTITY_FIELDS",
    "MAX_SHARED_FILE",
    "OPEN_STATUSES",
    "VISIBLE_TO_COMPANY",
    "Answer",
    "Package",
    "PackageChoice",
    "Reason",
    "ReferralError",
    "SharedFile",
    "Suggestion",
    "acknowledge",
    "add_company_files",
    "answer",
    "answer_consent",
    "ask_consent",
    "bundle",
    "case_referrals",
    "company_answers",
    "company_files",
    "company_referral",
    "company_referrals",
    "compose",
    "is_overdue",
    "open_consent_requests",
    "open_shared_file",
    "overdue_for",
    "read_package",
    "record_response",
    "record_sent",
    "scope_for",
    "set_consent_for_reporter",
    "share_with_new_holders",
    "start_referral",
    "suggestions",
]
