"""The figures the organisation publishes, counted from clear metadata only (never decrypting).

Every figure counts what happened in the period: cases received in it, first acknowledgements,
first referrals and closures made in it (their days counted from the case's receipt), referrals
sent in it (answered whenever), commitments of remedies agreed in it, answers given in it and
reprisals reported in it. :func:`figures` gives them all for staff; :func:`suppress` makes the
public version, where small counts cannot point to a person. See ``portal.clear_metadata`` for
what these columns are.
"""

from __future__ import annotations

from .cells import (
    Answers,
    Breakdown,
    Cell,
    Destination,
    Destinations,
    Duration,
    Figures,
    MonthCount,
    Monthly,
    MonthReceived,
    Received,
    Row,
    Share,
    State,
)
from .counting import (
    MEMBER_STATES,
    acknowledgement,
    by_case_column,
    by_company,
    by_topic,
    commitments_verified,
    days_to_close,
    days_to_refer,
    feedback,
    figures,
    received_per_month,
    referrals_by_destination,
    reprisals_per_month,
)
from .export import to_csv
from .period import MAX_MONTHS, Period
from .publication import (
    PUBLISHED_YEARS,
    TRANSPARENCY_OPTION,
    published_years,
    switch_transparency,
    transparency_is_public,
)
from .suppression import THRESHOLD, protect, suppress

__all__ = [
    "MAX_MONTHS",
    "MEMBER_STATES",
    "PUBLISHED_YEARS",
    "THRESHOLD",
    "TRANSPARENCY_OPTION",
    "Answers",
    "Breakdown",
    "Cell",
    "Destination",
    "Destinations",
    "Duration",
    "Figures",
    "MonthCount",
    "MonthReceived",
    "Monthly",
    "Period",
    "Received",
    "Row",
    "Share",
    "State",
    "acknowledgement",
    "by_case_column",
    "by_company",
    "by_topic",
    "commitments_verified",
    "days_to_close",
    "days_to_refer",
    "feedback",
    "figures",
    "protect",
    "published_years",
    "received_per_month",
    "referrals_by_destination",
    "reprisals_per_month",
    "suppress",
    "switch_transparency",
    "to_csv",
    "transparency_is_public",
]
