"""Supervisors assign cases and grant or revoke access; anyone may ask to see an identity."""

from __future__ import annotations

import uuid

from flask import Response, abort, current_app, redirect, request, url_for
from sqlalchemy import select

from portal.access import case_for
from portal.db import db_session
from portal.models import Account
from portal.sharing import (
    WORKING_ROLES,
    SharingError,
    assign,
    decide_identity,
    grant,
    request_identity,
    revoke,
)

from . import blueprint
from .roles import CASE_ROLES, SUPERVISING_ROLES
from .session import current_staff, staff_required


def _target_account(action: str) -> Account:
    try:
        account_id = uuid.UUID(request.form.get("account", ""))
    except ValueError:
        abort(400)
    account = db_session().get(Account, account_id)
    if account is None:
        abort(400)
    # A deactivated account can still be revoked (a leaver's keys are taken back).
    if action != "revoke" and (account.role not in WORKING_ROLES or not account.is_active):
        abort(400)
    return account


def _act(case_id: uuid.UUID, action: str) -> Response:
    who = current_staff()
    assert who is not None
    db = db_session()
    if case_for(db, who.account, case_id) is None:
        abort(404)
    keyring = current_app.extensions["portal_keyring"]
    account = _target_account(action)
    try:
        {"grant": grant, "assign": assign, "revoke": revoke}[action](
            db, keyring, who, case_id, account
        )
    except SharingError:
        db.rollback()
        abort(400)
    db.commit()
    return redirect(url_for("caseworker.case", case_id=case_id, access=action) + "#access")


@blueprint.post("/caseworker/cases/<uuid:case_id>/access/<any(grant, assign, revoke):action>")
@staff_required(*SUPERVISING_ROLES)
def change_access(case_id: uuid.UUID, action: str) -> Response:
    return _act(case_id, action)


@blueprint.post("/caseworker/cases/<uuid:case_id>/identity/request")
@staff_required(*CASE_ROLES)
def ask_identity(case_id: uuid.UUID) -> Response:
    who = current_staff()
    assert who is not None
    db = db_session()
    if case_for(db, who.account, case_id) is None:
        abort(404)
    request_identity(db, who, case_id)
    db.commit()
    return redirect(url_for("caseworker.case", case_id=case_id, asked=1) + "#identity")


@blueprint.post(
    "/caseworker/cases/<uuid:case_id>/identity/<uuid:request_id>/<any(grant, refuse):decision>"
)
@staff_required(*SUPERVISING_ROLES)
def answer_identity(case_id: uuid.UUID, request_id: uuid.UUID, decision: str) -> Response:
    who = current_staff()
    assert who is not None
    db = db_session()
    if case_for(db, who.account, case_id) is None:
        abort(404)
    try:
        decided = decide_identity(
            db, current_app.extensions["portal_keyring"], who, request_id, decision == "grant"
        )
    except SharingError:
        db.rollback()
        abort(400)
    if decided.case_id != case_id:
        db.rollback()
        abort(404)
    db.commit()
    return redirect(url_for("caseworker.case", case_id=case_id) + "#identity")


def staff_choices(exclude: set[uuid.UUID]) -> list[tuple[str, str]]:
    """Active staff accounts, for the assign and grant lists."""
    accounts = db_session().scalars(
        select(Account)
        .where(Account.is_active.is_(True), Account.role.in_(WORKING_ROLES))
        .order_by(Account.display_name)
    )
    return [(str(a.id), f"{a.display_name} ({a.email})") for a in accounts if a.id not in exclude]
