"""The life of a case: its stages, and how each is named to the reporter in plain words."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Stage(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    ASSESSMENT = "assessment"
    NOT_ELIGIBLE = "not_eligible"
    REFERRED_COMPANY = "referred_company"
    REFERRED_ALTERNATIVE = "referred_alternative"
    REVIEW = "review"
    REMEDY_AGREED = "remedy_agreed"
    REMEDY_MONITORING = "remedy_monitoring"
    CLOSED = "closed"


STAGE_VALUES = ", ".join(f"'{stage.value}'" for stage in Stage)

# What the reporter reads on the follow-up page.
REPORTER_WORDING = {
    Stage.RECEIVED: _l("We have received your complaint. Nobody has read it yet."),
    Stage.ACKNOWLEDGED: _l("A caseworker has read your complaint."),
    Stage.ASSESSMENT: _l("We are checking whether we can take up your complaint."),
    Stage.NOT_ELIGIBLE: _l("We cannot take up your complaint. We have told you where else to go."),
    Stage.REFERRED_COMPANY: _l("We have asked the company to answer your complaint."),
    Stage.REFERRED_ALTERNATIVE: _l("We have sent your complaint to another body that can help."),
    Stage.REVIEW: _l("We are reading the answer we received."),
    Stage.REMEDY_AGREED: _l("A remedy has been agreed."),
    Stage.REMEDY_MONITORING: _l("We are checking that the remedy really happens."),
    Stage.CLOSED: _l("Your complaint is closed."),
}

# What staff read in lists and on the case page.
STAFF_LABELS = {
    Stage.RECEIVED: _l("Received"),
    Stage.ACKNOWLEDGED: _l("Acknowledged"),
    Stage.ASSESSMENT: _l("Assessment"),
    Stage.NOT_ELIGIBLE: _l("Not eligible"),
    Stage.REFERRED_COMPANY: _l("Referred to the company"),
    Stage.REFERRED_ALTERNATIVE: _l("Referred to an alternative procedure"),
    Stage.REVIEW: _l("Review"),
    Stage.REMEDY_AGREED: _l("Remedy agreed"),
    Stage.REMEDY_MONITORING: _l("Remedy monitoring"),
    Stage.CLOSED: _l("Closed"),
}
