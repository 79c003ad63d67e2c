"""Assigning, granting and revoking access, key rotation on revocation (P3), identity requests."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import crypto
from portal import vault
from portal.models import (
    Account,
    AuditEvent,
    Case,
    Compartment,
    CompartmentKind,
    Grant,
    IdentityRequest,
    Record,
    RecordKind,
    Role,
)
from tests.conftest import PASSWORD, csrf_token, sign_in
from tests.functional.helpers import only_case_id
from tests.support.filing import file_complaint

SUPERVISOR = "super@example.org"
OUTSIDER = "outsider@example.org"


@pytest.fixture
def case_with_staff(portal, client):  # type: ignore[no-untyped-def]
    portal.account(SUPERVISOR, Role.SUPERVISOR)
    portal.account(OUTSIDER, intake=False)
    receipt = file_complaint(
        client,
        answers={"contact": {"contact_mode": "confidential", "name": "Amina Secret-Name"}},
    )
    supervisor = portal.app.test_client()
    sign_in(supervisor, SUPERVISOR)
    return supervisor, only_case_id(portal), receipt


def _post(client, case_id, path: str, **data):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/caseworker/cases")  # a page every staff account may open
    return client.post(f"/caseworker/cases/{case_id}{path}", data={"csrf_token": token, **data})


def _account(portal, email: str) -> Account:  # type: ignore[no-untyped-def]
    with portal.db as db:
        return db.scalar(select(Account).where(Account.email == email))


def test_granted_access_opens_the_case_and_revocation_rotates_its_keys(portal, case_with_staff):
    supervisor, case_id, receipt = case_with_staff
    outsider_id = _account(portal, OUTSIDER).id
    outsider = portal.app.test_client()
    sign_in(outsider, OUTSIDER)
    assert outsider.get(f"/caseworker/cases/{case_id}").status_code == 404

    assert _post(supervisor, case_id, "/access/grant", account=str(outsider_id)).status_code == 302
    assert outsider.get(f"/caseworker/cases/{case_id}").status_code == 200
    # What the outsider could keep: its own private key and the case key it was granted.
    outsider_account = _account(portal, OUTSIDER)
    outsider_key = crypto.unlock_account_key(
        outsider_account.id,
        PASSWORD,
        outsider_account.wrapped_private_key,
        outsider_account.public_key,
    )
    with portal.db as db:
        old_case = db.scalar(
            select(Compartment).where(
                Compartment.case_id == case_id,
                Compartment.kind == "case",
                Compartment.retired_at.is_(None),
            )
        )
        old_grant = db.scalar(
            select(Grant).where(
                Grant.compartment_id == old_case.id, Grant.account_id == outsider_id
            )
        )
    kept_case_key = crypto.open_grant(
        old_grant.wrap, outsider_key, old_case.id, old_case.public_key
    )

    assert _post(supervisor, case_id, "/access/revoke", account=str(outsider_id)).status_code == 302
    assert outsider.get(f"/caseworker/cases/{case_id}").status_code == 404
    with portal.db as db:
        left = db.scalars(
            select(Grant)
            .join(Compartment, Compartment.id == Grant.compartment_id)
            .where(Compartment.case_id == case_id, Grant.account_id == outsider_id)
        ).all()
        new_case = db.scalar(
            select(Compartment).where(
                Compartment.case_id == case_id,
                Compartment.kind == "case",
                Compartment.retired_at.is_(None),
            )
        )
    assert left == []
    assert new_case.id != old_case.id

    _post(supervisor, case_id, "/messages", message="After-revocation: we call you Monday")
    with portal.db as db:
        newest = db.scalars(select(Record).where(Record.kind == RecordKind.MESSAGE.value)).all()[-1]
    assert newest.compartment_id == new_case.id
    with pytest.raises(crypto.IntegrityError):
        vault.open_record(kept_case_key, newest)  # the revoked key never opens what came after

    page = supervisor.get(f"/caseworker/cases/{case_id}").get_data(as_text=True)
    assert "After-revocation: we call you Monday" in page
    assert "They beat him at the gate" in page  # older records still open for remaining holders

    reporter = portal.app.test_client()
    token = csrf_token(reporter, "/follow-up")
    reporter.post("/follow-up", data={"csrf_token": token, "receipt": receipt})
    reporter_page = reporter.get("/follow-up/case").get_data(as_text=True)
    assert "After-revocation: we call you Monday" in reporter_page  # the receipt follows rotation
    token = csrf_token(reporter, "/follow-up/case")
    reporter.post("/follow-up/reply", data={"csrf_token": token, "message": "Reply-after-rotation"})
    assert "Reply-after-rotation" in supervisor.get(f"/caseworker/cases/{case_id}").get_data(
        as_text=True
    )
    with portal.db as db:
        actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id)))
    assert {"case.access_granted", "case.access_revoked"} <= actions


def test_assigning_grants_the_case_and_records_who_is_in_charge(portal, case_with_staff):
    supervisor, case_id, _receipt = case_with_staff
    outsider_id = _account(portal, OUTSIDER).id
    assert _post(supervisor, case_id, "/access/assign", account=str(outsider_id)).status_code == 302
    with portal.db as db:
        assert db.get(Case, case_id).assigned_to_id == outsider_id
    outsider = portal.app.test_client()
    sign_in(outsider, OUTSIDER)
    assert outsider.get(f"/caseworker/cases/{case_id}").status_code == 200


def test_caseworkers_cannot_change_access_and_nobody_revokes_themselves(portal, case_with_staff):
    supervisor, case_id, _receipt = case_with_staff
    portal.account("worker@example.org")
    worker = portal.app.test_client()
    sign_in(worker, "worker@example.org")
    supervisor_id = _account(portal, SUPERVISOR).id
    assert _post(worker, case_id, "/access/revoke", account=str(supervisor_id)).status_code == 404
    assert (
        _post(supervisor, case_id, "/access/revoke", account=str(supervisor_id)).status_code == 400
    )


def test_identity_is_shown_only_after_a_supervisor_grants_the_request(portal, case_with_staff):
    supervisor, case_id, _receipt = case_with_staff
    outsider_id = _account(portal, OUTSIDER).id
    _post(supervisor, case_id, "/access/grant", account=str(outsider_id))
    outsider = portal.app.test_client()
    sign_in(outsider, OUTSIDER)
    page = outsider.get(f"/caseworker/cases/{case_id}").get_data(as_text=True)
    assert "Amina Secret-Name" not in page
    assert "locked away from this account" in page
    assert (
        supervisor.get(f"/caseworker/cases/{case_id}")
        .get_data(as_text=True)
        .count("Amina Secret-Name")
    )

    assert _post(outsider, case_id, "/identity/request").status_code == 302
    with portal.db as db:
        request = db.scalar(select(IdentityRequest))
    assert request.decision is None
    assert _post(supervisor, case_id, f"/identity/{request.id}/grant").status_code == 302
    assert "Amina Secret-Name" in outsider.get(f"/caseworker/cases/{case_id}").get_data(
        as_text=True
    )
    with portal.db as db:
        actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id)))
        identity_grant = db.scalar(
            select(Grant)
            .join(Compartment, Compartment.id == Grant.compartment_id)
            .where(
                Compartment.kind == CompartmentKind.IDENTITY.value, Grant.account_id == outsider_id
            )
        )
    assert {"identity.requested", "identity.granted"} <= actions
    assert identity_grant is not None


def test_a_refused_identity_request_keeps_the_identity_locked(portal, case_with_staff):
    supervisor, case_id, _receipt = case_with_staff
    outsider_id = _account(portal, OUTSIDER).id
    _post(supervisor, case_id, "/access/grant", account=str(outsider_id))
    outsider = portal.app.test_client()
    sign_in(outsider, OUTSIDER)
    _post(outsider, case_id, "/identity/request")
    with portal.db as db:
        request = db.scalar(select(IdentityRequest))
    _post(supervisor, case_id, f"/identity/{request.id}/refuse")
    page = outsider.get(f"/caseworker/cases/{case_id}").get_data(as_text=True)
    assert "Amina Secret-Name" not in page
    with portal.db as db:
        assert db.get(IdentityRequest, request.id).decision == "refused"


def test_a_deactivated_account_can_still_be_revoked(portal, case_with_staff):
    supervisor, case_id, _receipt = case_with_staff
    outsider_id = _account(portal, OUTSIDER).id
    _post(supervisor, case_id, "/access/grant", account=str(outsider_id))
    with portal.db as db:
        db.get(Account, outsider_id).is_active = False
        db.commit()
    assert _post(supervisor, case_id, "/access/revoke", account=str(outsider_id)).status_code == 302
    with portal.db as db:
        left = db.scalars(select(Grant).where(Grant.account_id == outsider_id)).all()
    assert left == []
