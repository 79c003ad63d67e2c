"""The registries of where a complaint can go: member companies and alternative procedures.

Neither holds anything a reporter wrote: they describe organisations, are kept in clear and are
edited by admins (pages and CSV) and by ``flask --app wsgi account create --role company``.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Membership(StrEnum):
    MEMBER = "member"
    TRANSITIONAL = "transitional"  # joined, certification pending
    SUSPENDED = "suspended"
    FORMER = "former"
    NOT_MEMBER = "not_member"  # named by reporters, never a member


# Companies a reporter can pick on the public form: every one that is or was in the association.
LISTED = (
    Membership.MEMBER.value,
    Membership.TRANSITIONAL.value,
    Membership.SUSPENDED.value,
    Membership.FORMER.value,
)


class ProcedureKind(StrEnum):
    NCP = "ncp"  # OECD National Contact Point for Responsible Business Conduct
    NHRI = "nhri"  # national human rights institution
    DFI = "dfi"  # development-finance accountability mechanism
    LEGAL_AID = "legal_aid"  # courts and legal aid
    UN_PROCEDURE = "un_procedure"  # UN special procedures and treaty bodies
    CLIENT_MECHANISM = "client_mechanism"  # a client's own complaint mechanism
    GOOD_OFFICES = "good_offices"  # the organisation's own good offices or mediation


class Anonymity(StrEnum):
    YES = "yes"  # anonymous complaints accepted
    CONFIDENTIAL = "confidential"  # the name must be given, and is kept confidential on request
    NO = "no"


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class Company(Base):
    __tablename__ = "companies"
    __table_args__ = (CheckConstraint(f"membership IN ({_values(Membership)})", name="membership"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    membership: Mapped[str] = mapped_column(String(16), default=Membership.MEMBER.value)
    countries: Mapped[str] = mapped_column(String(400), default="")  # ISO codes, space-separated
    # The company's own grievance mechanism: how to reach it, and the answer time it committed to.
    grievance_contact: Mapped[str] = mapped_column(Text, default="")
    response_days: Mapped[int | None] = mapped_column(Integer)

    @property
    def country_codes(self) -> list[str]:
        return self.countries.split()

    @property
    def is_member(self) -> bool:
        """Whether the company is in the association (referrals to its mechanism are possible)."""
        return self.membership in (
            Membership.MEMBER.value,
            Membership.TRANSITIONAL.value,
            Membership.SUSPENDED.value,
        )


class Procedure(Base):
    """An alternative grievance procedure a case can be referred to."""

    __tablename__ = "procedures"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_values(ProcedureKind)})", name="kind"),
        CheckConstraint(f"accepts_anonymous IN ({_values(Anonymity)})", name="accepts_anonymous"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # stable, for CSV round trips
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    countries: Mapped[str] = mapped_column(String(400), default="*")  # ISO codes, or "*": any
    languages: Mapped[str] = mapped_column(String(200), default="")  # ISO 639-1, space-separated
    accepts_anonymous: Mapped[str] = mapped_column(String(16), default=Anonymity.NO.value)
    identity_required: Mapped[bool] = mapped_column(Boolean, default=True)  # told to the company
    time_limit: Mapped[str] = mapped_column(Text, default="")
    indicative_timeline: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    last_verified: Mapped[date | None] = mapped_column(Date)  # None: needs verification
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def country_codes(self) -> list[str]:
        return self.countries.split()

    @property
    def language_codes(self) -> list[str]:
        return self.languages.split()

    def covers(self, country: str | None) -> bool:
        return "*" in self.country_codes or (country is not None and country in self.country_codes)
