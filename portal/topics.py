"""Controlled vocabularies of the intake form: conduct topics, remedies, answers to skip.

Values are stable identifiers stored in the database or inside encrypted answers; labels are
what the reader sees, in their language.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

RATHER_NOT_SAY = "rather_not_say"

TOPICS = {
    "use_of_force": _l("Use of force"),
    "torture": _l("Torture, or cruel, inhuman or degrading treatment"),
    "sexual_violence": _l("Sexual violence"),
    "trafficking": _l("Human trafficking"),
    "forced_labour": _l("Slavery or forced labour"),
    "child_labour": _l("Child labour"),
    "discrimination": _l("Discrimination"),
    "detention": _l("Being stopped, arrested or held"),
    "management": _l("How the company is managed"),
    "vetting": _l("Checks on guards and subcontractors"),
    "training": _l("Training of guards"),
    "weapons": _l("Weapons and equipment"),
    "working_conditions": _l("Working conditions and harassment"),
    "incident_reporting": _l("Incidents not reported"),
    "grievance_mechanism": _l("The company's own complaints process"),
    "other": _l("Something else"),
}

REMEDIES = {
    "restitution": _l("Give back what was taken or lost"),
    "compensation": _l("Money for the harm"),
    "rehabilitation": _l("Medical, psychological or legal help"),
    "apology": _l("An apology"),
    "non_repetition": _l("Make sure it does not happen again"),
    "other": _l("Something else"),
}
