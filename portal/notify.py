"""Telling staff, by email, that there is something to do, and nothing more.

An email says only that there is activity and where to sign in: never a case number, a company,
a country or a word the reporter wrote, in the subject or anywhere else. Who hears of what:

- a new case: every active account in the intake team;
- a reporter's message: the case's assigned caseworker, or else every account holding the case;
- a caseworker's message on a case an organisation filed: the organisation's active accounts
  that hold the case (an organisation has no other way to learn that it has news);
- an overdue step, or a referral whose answer is late (``flask --app wsgi notify overdue``,
  daily): the assigned caseworker, or else the supervisors; at most once per case a day;
- accounts that chose the daily digest (``notify_digest``) hear nothing at once and get one
  email a day counting what happened (``flask --app wsgi notify digest``).

The immediate notices run after the triggering transaction has committed and never break it:
any failure is logged by its kind and forgotten. What was sent is tracked in the audit trail
without content (``notify.overdue`` with the case, ``notify.digest`` with the account).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Exists, SQLColumnExpression, and_, func, or_, select
from sqlalchemy.orm import Session

from . import mail
from .config import Settings
from .models import (
    STAFF_ROLES,
    Account,
    AuditEvent,
    Case,
    Compartment,
    CompartmentKind,
    Grant,
    Referral,
    ReferralStatus,
    Role,
    today,
)
from .stages import Stage

logger = logging.getLogger("portal.notify")

OVERDUE_ACTION = "notify.overdue"
DIGEST_ACTION = "notify.digest"
REPORTER_MESSAGE_ACTION = "case.reporter_message"  # written by portal.followup.reply

_paused: ContextVar[bool] = ContextVar("portal_notify_paused", default=False)


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No immediate notices inside: for demo data and bulk imports, which nobody must act on."""
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


class Kind(StrEnum):
    """What an immediate notice is about; the email names only the kind."""

    NEW_CASE = "new_case"
    REPORTER_MESSAGE = "reporter_message"
    OVERDUE = "overdue"
    CASEWORKER_MESSAGE = "caseworker_message"  # to an organisation that filed the case


@dataclass(frozen=True)
class OverdueRun:
    """What ``send_overdue`` did: cases notified, emails sent, emails that failed."""

    cases: int
    sent: int
    failed: int


@dataclass(frozen=True)
class DigestRun:
    """What ``send_digests`` did: digests sent, digests that failed."""

    sent: int
    failed: int


@dataclass(frozen=True)
class Activity:
    """What one account's digest counts."""

    new_cases: int
    reporter_messages: int
    overdue: int

    def __bool__(self) -> bool:
        return bool(self.new_cases or self.reporter_messages or self.overdue)


# --- what the emails say ---------------------------------------------------------------------


def subject() -> str:
    """The one subject of every notification: nothing about any case."""
    return str(_("Activity in the complaints portal"))


def sign_in_url(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + "/sign-in"


def _body(settings: Settings, lines: Iterable[str]) -> str:
    return "\n".join(
        [
            *lines,
            "",
            _("Sign in to see it: %(url)s", url=sign_in_url(settings)),
            "",
            _("This email says no more on purpose: cases stay in the portal."),
            "",
        ]
    )


def notice_body(settings: Settings, kind: Kind, count: int = 1) -> str:
    """The body of an immediate notice: one neutral line and where to sign in."""
    if kind is Kind.NEW_CASE:
        line = _("A new complaint has arrived.")
    elif kind is Kind.REPORTER_MESSAGE:
        line = _("A reporter has written.")
    elif kind is Kind.CASEWORKER_MESSAGE:
        line = _("The caseworkers have written on a case your organisation filed.")
    else:
        line = ngettext("A step is overdue.", "%(num)d steps are overdue.", count)
    return _body(settings, [line])


def digest_body(settings: Settings, activity: Activity) -> str:
    """The body of a digest: counts only."""
    return _body(
        settings,
        [
            _("Since your last summary:"),
            "",
            _("New complaints: %(count)d", count=activity.new_cases),
            _("Messages from reporters: %(count)d", count=activity.reporter_messages),
            _("Overdue steps: %(count)d", count=activity.overdue),
        ],
    )


def _mails(settings: Settings, recipients: Iterable[str], kind: Kind) -> list[mail.Mail]:
    # Staff notices are in English whatever language the triggering page was in.
    with force_locale("en"):
        return [
            mail.Mail(to=address, subject=subject(), body=notice_body(settings, kind))
            for address in sorted(set(recipients))
        ]


# --- who hears of what -----------------------------------------------------------------------


def _holds(
    account_id: SQLColumnExpression[uuid.UUID] | uuid.UUID,
    case_id: SQLColumnExpression[uuid.UUID] | uuid.UUID,
) -> Exists:
    """The account holds a grant on the case's current CASE compartment (either side may be a
    column of the enclosing query or a value)."""
    return (
        select(Grant.id)
        .join(Compartment, Compartment.id == Grant.compartment_id)
        .where(
            Compartment.case_id == case_id,
            Compartment.kind == CompartmentKind.CASE.value,
            Compartment.retired_at.is_(None),
            Grant.account_id == account_id,
        )
        .exists()
    )


def _immediate() -> ColumnElement[bool]:
    """Staff accounts that hear of things at once: active and not on the daily digest
    (an intermediary holding a case follows it on its own pages)."""
    return and_(
        Account.is_active.is_(True),
        Account.notify_digest.is_(False),
        Account.role.in_(STAFF_ROLES),
    )


def new_case_recipients(db: Session, case_id: uuid.UUID) -> list[str]:
    """The intake team (active, holding the case), minus those on the daily digest."""
    return list(
        db.scalars(
            select(Account.email).where(
                _immediate(), Account.in_intake_team.is_(True), _holds(Account.id, case_id)
            )
        )
    )


def _responsible(db: Session, case: Case) -> Account | None:
    """The assigned caseworker, if active and still holding the case."""
    if case.assigned_to_id is None:
        return None
    return db.scalar(
        select(Account).where(
            Account.id == case.assigned_to_id,
            Account.is_active.is_(True),
            _holds(Account.id, case.id),
        )
    )


def reporter_message_recipients(db: Session, case_id: uuid.UUID) -> list[str]:
    """The assigned caseworker, or else every active account holding the case; none on digest."""
    case = db.get(Case, case_id)
    if case is None:
        return []
    assignee = _responsible(db, case)
    if assignee is not None:
        return [] if assignee.notify_digest else [assignee.email]
    return list(db.scalars(select(Account.email).where(_immediate(), _holds(Account.id, case_id))))


def organisation_recipients(db: Session, case_id: uuid.UUID) -> list[str]:
    """The filing organisation's active accounts that still hold the case (none after a
    hand-over that ended its access)."""
    case = db.get(Case, case_id)
    if case is None or case.organisation_id is None:
        return []
    return list(
        db.scalars(
            select(Account.email).where(
                Account.is_active.is_(True),
                Account.role == Role.INTERMEDIARY.value,
                Account.organisation_id == case.organisation_id,
                _holds(Account.id, case_id),
            )
        )
    )


# --- immediate notices -----------------------------------------------------------------------


def _settings(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    found: Settings = current_app.extensions["portal_settings"]
    return found


def case_received(db: Session, settings: Settings | None, case_id: uuid.UUID) -> int:
    """Tell the intake team a new complaint has arrived. Never raises; returns emails sent.

    Called after the filing has committed; ``settings`` None means the current app's.
    """
    if _paused.get():
        return 0
    try:
        mails = _mails(_settings(settings), new_case_recipients(db, case_id), Kind.NEW_CASE)
        return len(mail.send(_settings(settings), mails))
    except Exception as exc:  # the filing is stored: a notice may not undo it
        _forget(db, Kind.NEW_CASE, exc)
        return 0


def reporter_message(db: Session, settings: Settings | None, case_id: uuid.UUID) -> int:
    """Tell the caseworkers concerned a reporter has written. Never raises; returns emails sent.

    Called after the message has committed; ``settings`` None means the current app's.
    """
    if _paused.get():
        return 0
    try:
        recipients = reporter_message_recipients(db, case_id)
        mails = _mails(_settings(settings), recipients, Kind.REPORTER_MESSAGE)
        return len(mail.send(_settings(settings), mails))
    except Exception as exc:  # the message is stored: a notice may not undo it
        _forget(db, Kind.REPORTER_MESSAGE, exc)
        return 0


def caseworker_message(db: Session, settings: Settings | None, case_id: uuid.UUID) -> int:
    """Tell the organisation that filed the case the caseworkers have written (no-op for a
    reporter's own case: the portal never writes to a reporter). Never raises."""
    if _paused.get():
        return 0
    try:
        recipients = organisation_recipients(db, case_id)
        if not recipients:
            return 0
        mails = _mails(_settings(settings), recipients, Kind.CASEWORKER_MESSAGE)
        return len(mail.send(_settings(settings), mails))
    except Exception as exc:  # the message is stored: a notice may not undo it
        _forget(db, Kind.CASEWORKER_MESSAGE, exc)
        return 0


def _forget(db: Session, kind: Kind, exc: Exception) -> None:
    """Log a failed notice by its kind only, and leave the session usable for the request."""
    logger.warning("Notification (%s) not sent: %s.", kind.value, type(exc).__name__)
    with contextlib.suppress(Exception):  # the session is closed at the end of the request
        db.rollback()


# --- overdue steps (daily) -------------------------------------------------------------------


def _start(day: date) -> datetime:
    return datetime.combine(day, time())


def _overdue(on: date) -> ColumnElement[bool]:
    """A step of the case is late, or a body it was referred to has not answered in time."""
    late_referral = (
        select(Referral.id)
        .where(
            Referral.case_id == Case.id,
            Referral.response_due_on < on,
            Referral.status.in_((ReferralStatus.SENT.value, ReferralStatus.ACKNOWLEDGED.value)),
        )
        .exists()
    )
    late_step = and_(
        Case.next_due_on.is_not(None),
        Case.next_due_on < on,
        Case.stage != Stage.CLOSED.value,
    )
    return or_(late_step, late_referral)


def _notified_overdue(on: date) -> Exists:
    return (
        select(AuditEvent.id)
        .where(
            AuditEvent.action == OVERDUE_ACTION,
            AuditEvent.case_id == Case.id,
            AuditEvent.occurred_at >= _start(on),
        )
        .exists()
    )


def send_overdue(db: Session, settings: Settings, on: date | None = None) -> OverdueRun:
    """Email about every overdue step not yet notified today; commit what was sent.

    Each recipient gets one email for all their overdue cases of the run. A case is marked
    (``notify.overdue``, with the day) once at least one of its recipients got the email, so a
    second run the same day sends nothing again, and a run after a failure tries again.
    """
    on = on or today()
    supervisors = list(
        db.scalars(select(Account.email).where(_immediate(), Account.role == Role.SUPERVISOR.value))
    )
    assignee_ok = and_(
        Account.id == Case.assigned_to_id,
        Account.is_active.is_(True),
        _holds(Account.id, Case.id),
    )
    rows = db.execute(
        select(Case.id, Account.email, Account.notify_digest)
        .outerjoin(Account, assignee_ok)
        .where(_overdue(on), ~_notified_overdue(on))
        .order_by(Case.next_due_on, Case.id)
    ).all()
    cases_of: dict[str, list[uuid.UUID]] = defaultdict(list)
    for case_id, assignee_email, assignee_on_digest in rows:
        if assignee_email is not None:
            recipients = [] if assignee_on_digest else [assignee_email]
        else:
            recipients = supervisors
        for address in recipients:
            cases_of[address].append(case_id)
    with force_locale("en"):
        mails = [
            mail.Mail(
                to=address,
                subject=subject(),
                body=notice_body(settings, Kind.OVERDUE, len(cases_of[address])),
            )
            for address in sorted(cases_of)
        ]
    accepted = mail.send(settings, mails)
    notified = {case_id for sent in accepted for case_id in cases_of[sent.to]}
    for case_id in sorted(notified):
        db.add(AuditEvent(action=OVERDUE_ACTION, case_id=case_id, occurred_at=_start(on)))
    db.commit()
    return OverdueRun(cases=len(notified), sent=len(accepted), failed=len(mails) - len(accepted))


# --- the daily digest ------------------------------------------------------------------------


def _last_digest(db: Session, account: Account) -> date | None:
    last = db.scalar(
        select(func.max(AuditEvent.occurred_at)).where(
            AuditEvent.action == DIGEST_ACTION, AuditEvent.detail == str(account.id)
        )
    )
    return last.date() if last is not None else None


def activity(db: Session, account: Account, since: date, until: date) -> Activity:
    """What the account's digest counts, over whole days ``since`` <= day < ``until``.

    Reporter-side events are stored at day precision, so a digest counts whole days up to
    yesterday: today's activity goes into tomorrow's digest, and nothing is counted twice.
    """
    holds = _holds(account.id, Case.id)
    new_cases = db.scalar(
        select(func.count(Case.id)).where(
            Case.received_on >= since, Case.received_on < until, holds
        )
    )
    # Messages on cases this account hears about: assigned to it, or unassigned and held by it.
    mine = and_(holds, or_(Case.assigned_to_id.is_(None), Case.assigned_to_id == account.id))
    messages = db.scalar(
        select(func.count(AuditEvent.id))
        .join(Case, Case.id == AuditEvent.case_id)
        .where(
            AuditEvent.action == REPORTER_MESSAGE_ACTION,
            AuditEvent.occurred_at >= _start(since),
            AuditEvent.occurred_at < _start(until),
            mine,
        )
    )
    responsible = (
        or_(Case.assigned_to_id == account.id, Case.assigned_to_id.is_(None))
        if account.role == Role.SUPERVISOR.value
        else Case.assigned_to_id == account.id
    )
    overdue = db.scalar(
        select(func.count(Case.id)).where(
            _overdue(until),
            responsible,
            or_(Case.assigned_to_id.is_(None), holds),
        )
    )
    return Activity(
        new_cases=int(new_cases or 0),
        reporter_messages=int(messages or 0),
        overdue=int(overdue or 0),
    )


def send_digests(db: Session, settings: Settings, on: date | None = None) -> DigestRun:
    """One email to each active digest account counting activity since its last digest.

    At most one a day per account; an account with nothing to count gets no email (its next
    digest then counts from its last one). The digest is marked (``notify.digest``, with the
    account and the day) only once the server accepted it.
    """
    on = on or today()
    accounts = db.scalars(
        select(Account)
        .where(Account.is_active.is_(True), Account.notify_digest.is_(True))
        .order_by(Account.email)
    ).all()
    sent = failed = 0
    for account in accounts:
        last = _last_digest(db, account)
        if last is not None and last >= on:
            continue
        counted = activity(db, account, last or on - timedelta(days=1), on)
        if not counted:
            continue
        with force_locale("en"):
            digest = mail.Mail(
                to=account.email, subject=subject(), body=digest_body(settings, counted)
            )
        if mail.send(settings, [digest]):
            db.add(AuditEvent(action=DIGEST_ACTION, detail=str(account.id), occurred_at=_start(on)))
            db.commit()
            sent += 1
        else:
            failed += 1
    return DigestRun(sent=sent, failed=failed)
