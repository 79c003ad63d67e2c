"""The audit log, for admins: newest first, filtered and paged, under the chain's verdict."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from flask import render_template, request, url_for
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from portal.audit import ChainReport, Problem, verify_chain
from portal.db import database, db_session
from portal.models import Account, AuditEvent, Case

from . import blueprint
from .forms import DayField, SignOutForm
from .roles import ADMIN_ROLES
from .session import current_staff, staff_required

PAGE_SIZE = 50
SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


class AuditFilterForm(FlaskForm):
    """The filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    action = SelectField(_l("Action"), choices=[], validate_choice=False)
    account = SelectField(_l("Account"), choices=[], validate_choice=False)
    case = StringField(_l("Case reference"), validators=[Optional(), Length(max=16)])
    date_from = DayField(_l("From (date)"), validators=[Optional()])
    date_to = DayField(_l("To (date)"), validators=[Optional()])


@dataclass(frozen=True)
class LogRow:
    """One event as the page shows it."""

    id: int
    when: str
    actor: str | None
    action: str
    case_reference: str | None
    detail: str | None


def _filter_form(db: Session) -> AuditFilterForm:
    form = AuditFilterForm(formdata=request.args)
    actions = db.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    form.action.choices = [("", _("Any action")), *((a, a) for a in actions)]
    accounts = db.execute(
        select(Account.id, Account.display_name, Account.email).order_by(Account.email)
    )
    form.account.choices = [
        ("", _("Any account")),
        *((str(row.id), f"{row.display_name} ({row.email})") for row in accounts),
    ]
    return form


def _account_id(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _filtered(form: AuditFilterForm, statement: SelectT) -> SelectT:
    """``statement`` narrowed by the filters that are set and valid."""
    if form.action.data:
        statement = statement.where(AuditEvent.action == form.action.data)
    if form.account.data:
        account_id = _account_id(form.account.data)
        # An unknown value matches nothing rather than everything.
        statement = statement.where(
            AuditEvent.actor_account_id == account_id if account_id else false()
        )
    reference = (form.case.data or "").strip().upper()
    if reference and not form.case.errors:
        statement = statement.where(Case.reference == reference)
    if isinstance(form.date_from.data, date):
        statement = statement.where(
            AuditEvent.occurred_at >= datetime.combine(form.date_from.data, time())
        )
    if isinstance(form.date_to.data, date):
        end = datetime.combine(form.date_to.data + timedelta(days=1), time())
        statement = statement.where(AuditEvent.occurred_at < end)
    return statement


def _page_number(pages: int) -> int:
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    return min(max(page, 1), max(pages, 1))


def _page_url(page: int) -> str:
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page" and v}
    return url_for("caseworker.audit_log", **{**args, "page": page})


def chain_banner(report: ChainReport) -> str:
    """The chain's verdict in the reader's language."""
    if report.intact:
        return ngettext(
            "The audit chain is intact: %(num)d event checked.",
            "The audit chain is intact: %(num)d events checked.",
            report.events,
        )
    reasons = {
        Problem.UNCHAINED: _("it has no hash, so it was written around the chain."),
        Problem.LINK: _(
            "it does not link to the event before it: an event was deleted or moved there."
        ),
        Problem.ALTERED: _("it does not match its hash: it was changed after it was written."),
        Problem.HEAD_MISSING: _("the record of the chain's end is missing."),
        Problem.TRUNCATED: _(
            "the log ends there, but more events were written: they were deleted."
        ),
        Problem.HEAD_MISMATCH: _("the record of the chain's end does not match this event."),
    }
    reason = reasons[report.problem] if report.problem else ""
    if report.broken_at is None:
        return _("The audit chain is broken: %(reason)s", reason=reason)
    return _(
        "The audit chain is broken at event %(number)s: %(reason)s",
        number=report.broken_at,
        reason=reason,
    )


@blueprint.get("/caseworker/admin/audit")
@staff_required(*ADMIN_ROLES)
def audit_log() -> str:
    """The log, newest first, with filters and pages of 50, under the chain's verdict."""
    who = current_staff()
    assert who is not None
    db = db_session()
    key = database().audit_key
    assert key is not None, "create_app sets the audit chain key"
    report = verify_chain(db, key)
    form = _filter_form(db)
    form.validate()
    base = select(AuditEvent.id).outerjoin(Case, Case.id == AuditEvent.case_id)
    total = db.scalar(select(func.count()).select_from(_filtered(form, base).subquery())) or 0
    pages = max(math.ceil(total / PAGE_SIZE), 1)
    page = _page_number(pages)
    statement = _filtered(
        form,
        select(AuditEvent, Account.display_name, Account.email, Case.reference)
        .outerjoin(Account, Account.id == AuditEvent.actor_account_id)
        .outerjoin(Case, Case.id == AuditEvent.case_id),
    )
    rows = [
        LogRow(
            id=audit_event.id,
            when=format_datetime(audit_event.occurred_at, "medium"),
            actor=f"{name} ({email})" if email else None,
            action=audit_event.action,
            case_reference=reference,
            detail=audit_event.detail,
        )
        for audit_event, name, email, reference in db.execute(
            statement.order_by(AuditEvent.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        )
    ]
    # Reading the log is itself an audited act.
    db.add(AuditEvent(action="audit.viewed", actor_account_id=who.account.id))
    db.commit()
    return render_template(
        "caseworker/audit.html",
        who=who,
        sign_out=SignOutForm(),
        report=report,
        banner=chain_banner(report),
        form=form,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        previous_url=_page_url(page - 1) if page > 1 else None,
        next_url=_page_url(page + 1) if page < pages else None,
    )
