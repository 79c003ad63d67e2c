"""Intermediaries: the organisations that file and follow cases for the people they help.

``reading`` lists and opens an organisation's cases, ``acting`` writes, adds evidence, updates
consent and hands cases over, ``colleagues`` shares cases with colleagues who joined later.
"""

from .acting import ORGANISATION_KINDS, add_evidence, hand_over, update_consent, write
from .colleagues import share_with_colleagues
from .reading import (
    IntermediaryView,
    ListedCase,
    NotYours,
    StageStep,
    consent_files,
    open_for_organisation,
    organisation_case,
    organisation_cases,
    read_consent,
)

__all__ = [
    "ORGANISATION_KINDS",
    "IntermediaryView",
    "ListedCase",
    "NotYours",
    "StageStep",
    "add_evidence",
    "consent_files",
    "hand_over",
    "open_for_organisation",
    "organisation_case",
    "organisation_cases",
    "read_consent",
    "share_with_colleagues",
    "update_consent",
    "write",
]
