"""The people an intermediary files for, and the consent each of them gave.

An organisation files for one person or for a group hurt by the same incident. For each person
it records who they are to the organisation, that they asked for or agreed to the complaint, how
and when that consent was given, and what may be shared with whom: caseworkers (the account
only, or their name too), the company and other bodies (nothing, the account, or their name
too), and public reports. The consent record is sealed in the case compartment, with no names;
names and contact details are sealed in the identity compartment, and only for people who let
caseworkers know who they are.

The case keeps in clear only what the consent gates need (``portal.clear_metadata``): for each
kind of recipient the most that may go for *everyone* (the shared account goes only if every
person allows it; names go person by person), and whether everyone agreed to public reports.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from .models import Consent, Recipient, Scope

# What caseworkers may know of a person: the account only, or also their name.
CASEWORKER_SCOPES = (Scope.ACCOUNT.value, Scope.IDENTITY.value)
SHARE_SCOPES = (Scope.NOTHING.value, Scope.ACCOUNT.value, Scope.IDENTITY.value)
CONSENT_HOW = ("spoken", "written", "thumbprint")
AGREED = ("asked", "agreed")
MAX_PEOPLE = 50
_ORDER = {Scope.NOTHING.value: 0, Scope.ACCOUNT.value: 1, Scope.IDENTITY.value: 2}


@dataclass(frozen=True)
class Person:
    """One complainant of a filing by an intermediary."""

    number: int
    name: str = ""  # empty unless caseworkers may know who they are
    contact: str = ""
    relationship: str = ""
    agreed: str = "agreed"  # "asked" for the complaint, or "agreed" when it was proposed
    how: str = "spoken"
    on: str = ""  # ISO date the consent was given
    caseworkers: str = Scope.ACCOUNT.value
    company: str = Scope.NOTHING.value
    bodies: str = Scope.NOTHING.value
    public_reports: bool = False
    own_receipt: bool = False

    def scope(self, recipient: Recipient) -> Scope:
        value = self.company if recipient is Recipient.COMPANY else self.bodies
        if value == Scope.IDENTITY.value and self.caseworkers != Scope.IDENTITY.value:
            return Scope.ACCOUNT  # a name caseworkers were not given cannot go further
        return Scope(value)

    @property
    def on_date(self) -> date | None:
        try:
            return date.fromisoformat(self.on) if self.on else None
        except ValueError:
            return None

    @property
    def named(self) -> bool:
        return self.caseworkers == Scope.IDENTITY.value and bool(self.name.strip())

    def consent(self) -> dict[str, Any]:
        """What goes into the consent record (no name, no contact)."""
        record = asdict(self)
        del record["name"], record["contact"]
        return record

    def identity(self) -> dict[str, str]:
        return {"number": str(self.number), "name": self.name, "contact": self.contact}


@dataclass(frozen=True)
class ConsentRecord:
    people: tuple[Person, ...]
    consent_files: tuple[str, ...] = ()  # ids of scanned consent forms (identity compartment)
    note: str = ""  # why it changed, when updated
    recorded_on: date | None = None

    def to_bytes(self) -> bytes:
        content = {
            "people": [person.consent() for person in self.people],
            "consent_files": list(self.consent_files),
            "note": self.note,
        }
        return json.dumps(content, ensure_ascii=False, sort_keys=True).encode("utf-8")


def person_from(data: dict[str, Any], number: int) -> Person:
    """A person from a form's or a record's values; unknown choices fall back to the safest."""

    def choice(key: str, allowed: tuple[str, ...], default: str) -> str:
        value = str(data.get(key) or "")
        return value if value in allowed else default

    when = data.get("on") or ""
    if isinstance(when, date):
        when = when.isoformat()
    person = Person(
        number=number,
        name=str(data.get("name") or "").strip(),
        contact=str(data.get("contact") or "").strip(),
        relationship=str(data.get("relationship") or "").strip(),
        agreed=choice("agreed", AGREED, "agreed"),
        how=choice("how", CONSENT_HOW, "spoken"),
        on=str(when),
        caseworkers=choice("caseworkers", CASEWORKER_SCOPES, Scope.ACCOUNT.value),
        company=choice("company", SHARE_SCOPES, Scope.NOTHING.value),
        bodies=choice("bodies", SHARE_SCOPES, Scope.NOTHING.value),
        public_reports=data.get("public_reports") in (True, "yes"),
        own_receipt=data.get("own_receipt") in (True, "yes"),
    )
    if person.caseworkers != Scope.IDENTITY.value:
        person = replace(person, name="", contact="")  # never stored: the organisation keeps it
    return person


def consent_record_from(content: dict[str, Any]) -> ConsentRecord:
    people = tuple(
        person_from(item, int(item.get("number") or index + 1))
        for index, item in enumerate(content.get("people", []))
    )
    return ConsentRecord(
        people=people,
        consent_files=tuple(str(f) for f in content.get("consent_files", [])),
        note=str(content.get("note") or ""),
    )


def with_names(record: ConsentRecord, identity: dict[str, Any] | None) -> ConsentRecord:
    """The record's people with the names the identity record holds (where the reader has it)."""
    names = {str(item.get("number")): item for item in (identity or {}).get("people", []) or []}
    return replace(
        record,
        people=tuple(
            replace(
                person,
                name=str(names.get(str(person.number), {}).get("name", "")),
                contact=str(names.get(str(person.number), {}).get("contact", "")),
            )
            for person in record.people
        ),
    )


def identity_content(people: tuple[Person, ...]) -> dict[str, Any] | None:
    """The identity record: names and contacts of the people caseworkers may know."""
    named = [person.identity() for person in people if person.named]
    return {"people": named} if named else None


@dataclass(frozen=True)
class Gates:
    """What the case keeps in clear for the consent gates and the public figures."""

    share_with_company: Scope
    share_with_bodies: Scope
    identity_to_company: Consent
    identity_to_bodies: Consent
    in_public_reports: bool
    receipts: int = 0


def case_scope(people: tuple[Person, ...], recipient: Recipient) -> Scope:
    """The shared account goes only if every person allows it; then names go person by person
    (``identity`` here means at least one person's name may go)."""
    if not people:
        return Scope.NOTHING
    scopes = [person.scope(recipient) for person in people]
    if min(_ORDER[scope.value] for scope in scopes) == 0:
        return Scope.NOTHING
    return Scope.IDENTITY if Scope.IDENTITY in scopes else Scope.ACCOUNT


def gates(people: tuple[Person, ...]) -> Gates:
    company = case_scope(people, Recipient.COMPANY)
    bodies = case_scope(people, Recipient.BODIES)
    return Gates(
        share_with_company=company,
        share_with_bodies=bodies,
        identity_to_company=Consent.YES if company is Scope.IDENTITY else Consent.NO,
        identity_to_bodies=Consent.YES if bodies is Scope.IDENTITY else Consent.NO,
        in_public_reports=bool(people) and all(person.public_reports for person in people),
        receipts=sum(1 for person in people if person.own_receipt),
    )


def shareable_identity(
    record: ConsentRecord, identity: dict[str, Any], recipient: Recipient
) -> dict[str, str]:
    """The names and contacts that may go to ``recipient``: only of people who allow it."""
    allowed = {
        str(person.number) for person in record.people if person.scope(recipient) is Scope.IDENTITY
    }
    shared: dict[str, str] = {}
    for item in identity.get("people", []) or []:
        number = str(item.get("number"))
        if number in allowed:
            shared[f"person {number}: name"] = str(item.get("name", ""))
            if item.get("contact"):
                shared[f"person {number}: contact"] = str(item["contact"])
    return shared
