"""Intermediary organisations: applications, the admin's decision, and invitation links.

An invitation's token is shown once, in the link; the database keeps only its keyed BLAKE2b
hash under the server key (kept in the data dir, outside the database), as for recovery codes.
A token that is unknown, used or expired, or whose organisation is no longer approved, opens
nothing, and the caller answers each of these the same way.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.hashing import keyed_hash

from .models import (
    Account,
    AuditEvent,
    Invitation,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    day_start,
    today,
    utcnow,
)

LABEL_INVITATION = b"invitation"
INVITATION_DAYS = 7
UNKNOWN_COUNTRY = "ZZ"  # ISO 3166 "unknown region", for organisations added from the CLI
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")


class AlreadyApplied(ValueError):  # noqa: N818
    """An organisation of this name has an application pending, or is approved already."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def tidy_name(name: str) -> str:
    return " ".join(name.split())


def organisation_with_name(db: Session, name: str) -> Organisation | None:
    """The organisation whose name is ``name`` once case and spacing are set aside, if any."""
    wanted = tidy_name(name).casefold()
    for organisation in db.scalars(select(Organisation)):
        if tidy_name(organisation.name).casefold() == wanted:
            return organisation
    return None


def apply(
    db: Session, *, name: str, country: str, kind: str, contact: str, description: str
) -> Organisation:
    """Record an application (a refused organisation may apply again under the same name)."""
    organisation = organisation_with_name(db, name)
    if organisation is not None and organisation.status != OrganisationStatus.REFUSED.value:
        raise AlreadyApplied(organisation.status)
    if organisation is None:
        organisation = Organisation(id=uuid.uuid4(), name=tidy_name(name))
        db.add(organisation)
    organisation.country = country
    organisation.kind = OrganisationKind(kind).value
    organisation.contact = contact.strip()
    organisation.description = description.strip()
    organisation.status = OrganisationStatus.APPLIED.value
    organisation.applied_on = today()
    organisation.decided_on = None
    organisation.decided_by_id = None
    db.flush()
    # A public action: the day only, like the reporter's.
    db.add(
        AuditEvent(
            action="organisation.applied", detail=str(organisation.id), occurred_at=day_start()
        )
    )
    return organisation


def decide(
    db: Session, organisation: Organisation, approve: bool, actor_id: uuid.UUID | None
) -> None:
    """Approve or refuse an organisation, audited by id."""
    status = OrganisationStatus.APPROVED if approve else OrganisationStatus.REFUSED
    organisation.status = status.value
    organisation.decided_on = today()
    organisation.decided_by_id = actor_id
    db.add(
        AuditEvent(
            action=f"organisation.{status.value}",
            actor_account_id=actor_id,
            detail=str(organisation.id),
        )
    )


def approved_organisation_named(db: Session, name: str) -> tuple[Organisation, bool]:
    """For the CLI: the organisation of this name, approved (added first if new); and whether
    it was approved just now."""
    organisation = organisation_with_name(db, name)
    if organisation is None:
        organisation = Organisation(
            id=uuid.uuid4(),
            name=tidy_name(name),
            country=UNKNOWN_COUNTRY,
            kind=OrganisationKind.OTHER.value,
            contact="",
            description="",
            status=OrganisationStatus.APPLIED.value,
            applied_on=today(),
        )
        db.add(organisation)
        db.flush()
    if organisation.status == OrganisationStatus.APPROVED.value:
        return organisation, False
    decide(db, organisation, True, None)
    db.flush()
    return organisation, True


def members(db: Session, organisation_id: uuid.UUID) -> list[Account]:
    return list(
        db.scalars(
            select(Account)
            .where(Account.organisation_id == organisation_id)
            .order_by(Account.display_name, Account.email)
        )
    )


# --- invitations ------------------------------------------------------------------------------


def token_hash(mac_key: bytes, token: str) -> bytes:
    return keyed_hash(mac_key, LABEL_INVITATION, token.encode("ascii"))


def invite(
    db: Session,
    mac_key: bytes,
    organisation: Organisation,
    email: str,
    *,
    as_org_admin: bool,
    invited_by: uuid.UUID | None,
) -> tuple[Invitation, str]:
    """A new invitation and its token (for the link: shown once, never stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    invitation = Invitation(
        id=uuid.uuid4(),
        organisation_id=organisation.id,
        email=email.strip().lower(),
        token_hash=token_hash(mac_key, token),
        as_org_admin=as_org_admin,
        invited_by_id=invited_by,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    db.add(invitation)
    db.add(
        AuditEvent(
            action="invitation.created", actor_account_id=invited_by, detail=str(invitation.id)
        )
    )
    return invitation, token


def open_invitation(db: Session, mac_key: bytes, token: str) -> Invitation | None:
    """The invitation this token opens: unused, unexpired, of an approved organisation."""
    if not _TOKEN_SHAPE.fullmatch(token):
        return None
    invitation = db.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(mac_key, token))
    )
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= utcnow():
        return None
    organisation = db.get(Organisation, invitation.organisation_id)
    if organisation is None or organisation.status != OrganisationStatus.APPROVED.value:
        return None
    return invitation
