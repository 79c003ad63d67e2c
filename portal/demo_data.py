"""Realistic demo complaints, filed through the same code as a public submission."""

from __future__ import annotations

from .intake import Answers, ClearAnswers

_COMPLAINTS = (
    (
        Answers(
            what_happened=(
                "Guards at the mine gate beat my brother with batons when he asked for his "
                "unpaid wages. They took his phone. He was in the clinic for three days."
            ),
            where="North gate of the copper mine, near the bus stop",
            when="Early March this year, a Tuesday morning",
            company="Securicorp Mining Services",
        ),
        ClearAnswers(language="en", country="CD"),
    ),
    (
        Answers(
            what_happened=(
                "Des agents de sécurité ont détenu trois pêcheurs pendant une nuit dans un "
                "conteneur au port. Ils n'ont pas eu d'eau. Personne n'a expliqué pourquoi."
            ),
            where="Zone portuaire, quai 4",
            when="Le mois dernier",
            company="",
        ),
        ClearAnswers(language="fr", country="CM"),
    ),
    (
        Answers(
            what_happened=(
                "Los vigilantes del campamento nos obligan a trabajar turnos de 16 horas sin "
                "descanso y amenazan con despedir a quien se queje."
            ),
            where="Campamento de la empresa petrolera",
            when="Desde enero",
            company="Vigilancia Andina S.A.",
        ),
        ClearAnswers(language="es", country="CO"),
    ),
    (
        Answers(
            what_happened=(
                "Walinzi walimpiga risasi mbwa wetu na kututishia tulipopita karibu na uzio wa "
                "shamba. Watoto waliogopa sana."
            ),
            where="Karibu na uzio wa shamba la chai",
            when="Wiki mbili zilizopita",
            company="",
        ),
        ClearAnswers(language="sw", country="KE"),
    ),
    (
        Answers(
            what_happened=(
                "I have seen guards at the embassy compound carrying weapons that are not on "
                "their licence, and they were never trained to use them."
            ),
            where="Embassy district",
            when="Over the past six months",
            company="Guardian Risk Ltd",
        ),
        ClearAnswers(language="en", country="IQ"),
    ),
)


def complaint(index: int) -> tuple[Answers, ClearAnswers]:
    """The ``index``-th demo complaint (cycling through a realistic set)."""
    return _COMPLAINTS[index % len(_COMPLAINTS)]
