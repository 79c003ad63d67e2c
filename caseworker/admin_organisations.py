"""Admins decide on organisations' applications to become intermediaries.

Approving creates an invitation for the organisation's first account (its organisation admin):
the link is shown once, on the page that answers the approval, and never again (only a keyed
hash of its token is stored). Every decision and invitation is audited, by id.
"""

from __future__ import annotations

import uuid
from typing import Any

from babel import Locale
from flask import abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from portal import organisations
from portal.db import db_session
from portal.models import Account, Organisation, OrganisationStatus
from portal.public.organisations import KIND_LABELS

from . import blueprint
from .forms import ActionForm, SignOutForm
from .invitations import InviteForm, invitation_link, mac_key
from .roles import ADMIN_ROLES
from .session import current_staff, staff_required

Page = Response | str | tuple[str, int]
STATUS_ORDER = {
    OrganisationStatus.APPLIED.value: 0,
    OrganisationStatus.APPROVED.value: 1,
    OrganisationStatus.REFUSED.value: 2,
}


def _country_name(code: str) -> str:
    locale = Locale.parse(str(get_locale() or "en"))
    return str(locale.territories.get(code, code))


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    db = db_session()
    found = db.scalars(select(Organisation)).all()
    listed = sorted(
        found,
        key=lambda o: (STATUS_ORDER.get(o.status, 3), -o.applied_on.toordinal(), o.name.casefold()),
    )
    counted = db.execute(
        select(Account.organisation_id, func.count())
        .where(Account.organisation_id.is_not(None))
        .group_by(Account.organisation_id)
    )
    counts = {organisation_id: number for organisation_id, number in counted}
    context.setdefault("form", InviteForm(formdata=None))
    refused = request.args.get("refused")
    context.setdefault("refused", next((o for o in found if str(o.id) == refused), None))
    return render_template(
        "caseworker/organisations_admin.html",
        who=current_staff(),
        sign_out=SignOutForm(),
        organisations=listed,
        accounts=counts,
        action=ActionForm(),
        kind_label=lambda value: KIND_LABELS.get(value, value),
        country_name=_country_name,
        **context,
    ), status


def _organisation(organisation_id: uuid.UUID) -> Organisation:
    organisation = db_session().get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    return organisation


@blueprint.get("/caseworker/admin/organisations")
@staff_required(*ADMIN_ROLES)
def organisations_admin() -> Page:
    return _page()


def _invite(organisation: Organisation, *, approving: bool) -> Page:
    """Approve (when ``approving``) and invite the person whose email the admin gave."""
    who = current_staff()
    assert who is not None
    form = InviteForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _page(400, form=form, failed=organisation.id)
    db = db_session()
    if approving:
        organisations.decide(db, organisation, True, who.account.id)
    _invitation, token = organisations.invite(
        db,
        mac_key(),
        organisation,
        form.email.data or "",
        as_org_admin=True,
        invited_by=who.account.id,
    )
    db.commit()
    return _page(
        invited=organisation,
        invited_email=(form.email.data or "").strip().lower(),
        link=invitation_link(token),
    )


@blueprint.post("/caseworker/admin/organisations/<uuid:organisation_id>/approve")
@staff_required(*ADMIN_ROLES)
def organisation_approve(organisation_id: uuid.UUID) -> Page:
    organisation = _organisation(organisation_id)
    if organisation.status == OrganisationStatus.APPROVED.value:
        abort(404)
    return _invite(organisation, approving=True)


@blueprint.post("/caseworker/admin/organisations/<uuid:organisation_id>/invite")
@staff_required(*ADMIN_ROLES)
def organisation_invite(organisation_id: uuid.UUID) -> Page:
    organisation = _organisation(organisation_id)
    if organisation.status != OrganisationStatus.APPROVED.value:
        abort(404)
    return _invite(organisation, approving=False)


@blueprint.post("/caseworker/admin/organisations/<uuid:organisation_id>/refuse")
@staff_required(*ADMIN_ROLES)
def organisation_refuse(organisation_id: uuid.UUID) -> Page:
    who = current_staff()
    assert who is not None
    if not ActionForm().validate_on_submit():
        abort(400)
    organisation = _organisation(organisation_id)
    if organisation.status != OrganisationStatus.APPLIED.value:
        abort(404)
    db = db_session()
    organisations.decide(db, organisation, False, who.account.id)
    db.commit()
    return redirect(url_for("caseworker.organisations_admin", refused=str(organisation.id)))
