"""The public figures page's switch, and the whole years it offers."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import AuditEvent, Case, SiteOption, today

TRANSPARENCY_OPTION = "transparency_public"  # SiteOption: "on" publishes /transparency
PUBLISHED_YEARS = 10


def transparency_is_public(db: Session) -> bool:
    option = db.get(SiteOption, TRANSPARENCY_OPTION)
    return option is not None and option.value == "on"


def switch_transparency(db: Session, actor_account_id: uuid.UUID, public: bool) -> None:
    """Publish or withdraw the public figures page, in the audit trail (the caller commits)."""
    value = "on" if public else "off"
    option = db.get(SiteOption, TRANSPARENCY_OPTION)
    if option is None:
        db.add(SiteOption(name=TRANSPARENCY_OPTION, value=value))
    else:
        option.value = value
    db.add(
        AuditEvent(action="transparency.switched", actor_account_id=actor_account_id, detail=value)
    )


def published_years(db: Session, on: date | None = None) -> list[int]:
    """The whole past years since the first case, newest first (at most ten)."""
    first = db.scalar(select(func.min(Case.received_on)))
    last = (on or today()).year - 1
    if first is None or first.year > last:
        return []
    return list(range(last, max(first.year, last - PUBLISHED_YEARS + 1) - 1, -1))
