"""Realistic demo complaints, filed through the same code as a public submission."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .intake import Submission, submission_from_answers
from .models import Company

DEMO_COMPANIES = ("Securicorp Mining Services", "Vigilancia Andina S.A.", "Guardian Risk Ltd")

_COMPLAINTS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "en",
        {
            "filer": "for_other",
            "relationship": "My brother",
            "person_agreed": "yes",
            "person_name_shared": "caseworkers",
            "what_happened": (
                "Guards at the mine gate beat my brother with batons when he asked for his "
                "unpaid wages. They took his phone. He was in the clinic for three days."
            ),
            "topics": ["use_of_force", "working_conditions"],
            "when_month": "3",
            "when_year": 2026,
            "country": "CD",
            "place": "North gate of the copper mine, near the bus stop",
            "company": "Securicorp Mining Services",
            "people_affected": "1",
            "children": "no",
            "danger_now": "no",
            "remedies": ["compensation", "apology"],
            "contact_mode": "anonymous",
        },
    ),
    (
        "fr",
        {
            "filer": "self",
            "what_happened": (
                "Des agents de sécurité ont détenu trois pêcheurs pendant une nuit dans un "
                "conteneur au port. Ils n'ont pas eu d'eau. Personne n'a expliqué pourquoi."
            ),
            "topics": ["detention"],
            "when_text": "Le mois dernier",
            "country": "CM",
            "place": "Zone portuaire, quai 4",
            "company": "dont_know",
            "people_affected": "2-5",
            "danger_now": "yes",
            "fear": "Ils savent où nous habitons.",
            "contact_mode": "confidential",
            "name": "Jean-Baptiste M.",
            "phone": "+237 6 00 00 00 00",
            "preferred_contact": "phone",
            "share_with_company": "no",
            "share_with_bodies": "yes",
        },
    ),
    (
        "es",
        {
            "filer": "self",
            "what_happened": (
                "Los vigilantes del campamento nos obligan a trabajar turnos de 16 horas sin "
                "descanso y amenazan con despedir a quien se queje."
            ),
            "topics": ["working_conditions", "forced_labour"],
            "when_text": "Desde enero",
            "country": "CO",
            "place": "Campamento de la empresa petrolera",
            "company": "Vigilancia Andina S.A.",
            "people_affected": "21+",
            "contact_mode": "anonymous",
        },
    ),
    (
        "sw",
        {
            "filer": "self",
            "what_happened": (
                "Walinzi walimpiga risasi mbwa wetu na kututishia tulipopita karibu na uzio wa "
                "shamba. Watoto waliogopa sana."
            ),
            "topics": ["use_of_force"],
            "when_text": "Wiki mbili zilizopita",
            "country": "KE",
            "place": "Karibu na uzio wa shamba la chai",
            "company": "other",
            "company_other": "Tea Estate Guards",
            "children": "yes",
            "contact_mode": "anonymous",
        },
    ),
    (
        "en",
        {
            "filer": "witness",
            "what_happened": (
                "I have seen guards at the embassy compound carrying weapons that are not on "
                "their licence, and they were never trained to use them."
            ),
            "topics": ["weapons", "training"],
            "when_text": "Over the past six months",
            "country": "IQ",
            "place": "Embassy district",
            "company": "Guardian Risk Ltd",
            "contact_mode": "anonymous",
        },
    ),
)


def ensure_companies(db: Session) -> dict[str, str]:
    """The demo member companies (created if missing), by name, as form values."""
    ids = {}
    for name in DEMO_COMPANIES:
        company = db.scalar(select(Company).where(Company.name == name))
        if company is None:
            company = Company(name=name)
            db.add(company)
            db.flush()
        ids[name] = str(company.id)
    db.commit()
    return ids


def complaint(db: Session, index: int) -> Submission:
    """The ``index``-th demo complaint (cycling through a realistic set)."""
    language, answers = _COMPLAINTS[index % len(_COMPLAINTS)]
    companies = ensure_companies(db)
    answers = dict(answers)
    answers["company"] = companies.get(str(answers.get("company")), answers.get("company", ""))
    return submission_from_answers(db, answers, language, [])
