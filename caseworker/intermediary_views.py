"""Intermediaries: people of an approved organisation who file and follow complaints for the
people they help. For now they see their organisation and, as its admin, invite colleagues;
every caseworker page is 404 to them, as every page here is to anyone else."""

from __future__ import annotations

from flask import abort, render_template
from werkzeug.wrappers import Response

from portal import organisations
from portal.db import db_session
from portal.models import Organisation, Role

from . import blueprint
from .forms import SignOutForm
from .invitations import InviteForm, invitation_link, mac_key
from .session import current_staff, staff_required

INTERMEDIARY_ROLES = (Role.INTERMEDIARY.value,)
Page = Response | str | tuple[str, int]


def _organisation() -> Organisation:
    who = current_staff()
    assert who is not None and who.account.organisation_id is not None
    organisation = db_session().get(Organisation, who.account.organisation_id)
    assert organisation is not None
    return organisation


def _colleagues_page(form: InviteForm, status: int = 200, **context: object) -> tuple[str, int]:
    organisation = _organisation()
    return render_template(
        "caseworker/intermediary_colleagues.html",
        who=current_staff(),
        sign_out=SignOutForm(),
        organisation=organisation,
        colleagues=organisations.members(db_session(), organisation.id),
        form=form,
        **context,
    ), status


def _org_admin_only() -> None:
    who = current_staff()
    assert who is not None
    if not who.account.is_org_admin:
        abort(404)


@blueprint.get("/intermediary/colleagues")
@staff_required(*INTERMEDIARY_ROLES)
def intermediary_colleagues() -> Page:
    _org_admin_only()
    return _colleagues_page(InviteForm(formdata=None))


@blueprint.post("/intermediary/colleagues")
@staff_required(*INTERMEDIARY_ROLES)
def intermediary_invite() -> Page:
    _org_admin_only()
    who = current_staff()
    assert who is not None
    form = InviteForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _colleagues_page(form, 400)
    db = db_session()
    email = (form.email.data or "").strip().lower()
    _invitation, token = organisations.invite(
        db, mac_key(), _organisation(), email, as_org_admin=False, invited_by=who.account.id
    )
    db.commit()
    return _colleagues_page(
        InviteForm(formdata=None), invited_email=email, link=invitation_link(token)
    )
