"""Intermediary organisations: the public application, the admin's decision, invitation links
that open accounts (each with its own key pair, then the second factor at first sign-in), org
admins inviting colleagues, and the CLI path. Nobody but an intermediary reaches /intermediary/,
and an intermediary reaches no caseworker page."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.models import Account, AuditEvent, Invitation, Organisation, Role, utcnow
from tests.cli.test_cli import run
from tests.conftest import PASSWORD, Portal, csrf_token, sign_in
from tests.functional.helpers import staff_client

ADMIN = "admin@example.org"
APPLY = "/organisations/apply"
ADMIN_PAGE = "/caseworker/admin/organisations"
LINK = re.compile(
    r'<code id="invitation-link" dir="ltr">http://127\.0\.0\.1:5000(/invitation/[^<]+)</code>'
)


@pytest.fixture
def admin(portal: Portal) -> FlaskClient:
    portal.account(ADMIN, Role.ADMIN)
    return staff_client(portal, ADMIN)


def application(token: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "name": "Haki Mashinani",
        "country": "KE",
        "kind": "cso",
        "contact": "Wanjiru, info@haki.example",
        "description": "We help guards' neighbours around the mines file complaints.",
        **changes,
    }


def events(portal: Portal, action: str) -> list[AuditEvent]:
    with portal.db as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def organisation(portal: Portal, name: str = "Haki Mashinani") -> Organisation:
    with portal.db as db:
        found = db.scalar(select(Organisation).where(Organisation.name == name))
    assert found is not None, name
    return found


def apply(client: FlaskClient, **changes: str):  # type: ignore[no-untyped-def]
    return client.post(APPLY, data=application(csrf_token(client, APPLY), **changes))


def approve(admin: FlaskClient, organisation_id: uuid.UUID, email: str) -> str:
    """Approve and return the invitation path shown (once) on the answer."""
    token = csrf_token(admin, ADMIN_PAGE)
    response = admin.post(
        f"{ADMIN_PAGE}/{organisation_id}/approve", data={"csrf_token": token, "email": email}
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    found = LINK.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:3000]
    return found.group(1)


def accept(client: FlaskClient, path: str, name: str = "Wanjiru Kamau", **changes: str):  # type: ignore[no-untyped-def]
    form = {
        "csrf_token": csrf_token(client, path),
        "display_name": name,
        "password": PASSWORD,
        "password_again": PASSWORD,
        **changes,
    }
    return client.post(path, data=form)


# --- applying ---------------------------------------------------------------------------------


def test_an_application_with_errors_is_refused_with_every_value_kept(portal, client):
    page = client.get(APPLY)
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.get_data(as_text=True)

    response = apply(client, name="", kind="", contact="Wanjiru <b>, info@haki.example")

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'class="error-summary"' in html
    assert "Enter the name of the organisation." in html
    assert "Choose what kind of organisation it is." in html
    assert "Wanjiru &lt;b&gt;, info@haki.example" in html  # kept, and escaped
    assert "We help guards&#39; neighbours around the mines" in html
    assert re.search(r'<option selected value="KE">|<option value="KE" selected>', html), html
    with portal.db as db:
        assert db.scalars(select(Organisation)).all() == []


def test_an_application_is_stored_audited_and_thanked_without_any_network_detail(portal, client):
    response = client.post(
        APPLY,
        data=application(csrf_token(client, APPLY)),
        environ_base={"REMOTE_ADDR": "198.51.100.77"},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )

    assert response.status_code == 302
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200
    assert "Thank you" in thanks.get_data(as_text=True)
    found = organisation(portal)
    assert (found.country, found.kind, found.status) == ("KE", "cso", "applied")
    assert found.contact == "Wanjiru, info@haki.example"
    assert [event.detail for event in events(portal, "organisation.applied")] == [str(found.id)]
    with portal.db as db:
        for table in ("organisations", "audit_events"):
            rows = db.execute(select(Organisation.__table__.metadata.tables[table])).all()
            assert "198.51.100.77" not in repr(rows) and "203.0.113.9" not in repr(rows)


def test_a_second_application_with_the_same_name_answers_like_a_new_one_and_changes_nothing(
    portal, client
):
    """Nobody learns from the form which organisations have applied or work with the portal."""
    first = apply(client)

    again = apply(client, name="  haki   MASHINANI ", contact="someone else")

    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert organisation(portal).contact == "Wanjiru, info@haki.example"
    assert len(events(portal, "organisation.applied")) == 1
    assert len(events(portal, "organisation.applied_again")) == 1


# --- the admin's decision, the invitation, the first sign-in ----------------------------------


def test_approval_gives_a_one_time_link_that_opens_an_org_admin_account(portal, client, admin):
    assert apply(client).status_code == 302
    found = organisation(portal)
    listing = admin.get(ADMIN_PAGE).get_data(as_text=True)
    assert "Haki Mashinani" in listing and "Waiting for a decision" in listing
    assert "We help guards&#39; neighbours" in listing and "Kenya" in listing
    assert f'href="{ADMIN_PAGE}"' in listing  # in the admin navigation

    path = approve(admin, found.id, "Wanjiru@Haki.example")

    assert organisation(portal).status == "approved"
    assert "invitation-link" not in admin.get(ADMIN_PAGE).get_data(as_text=True)  # once only
    with portal.db as db:
        (invitation,) = db.scalars(select(Invitation)).all()
    token = path.rsplit("/", 1)[1]
    assert token.encode() not in invitation.token_hash and len(invitation.token_hash) == 32
    assert invitation.as_org_admin and invitation.email == "wanjiru@haki.example"
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    assert [e.detail for e in events(portal, "organisation.approved")] == [str(found.id)]
    assert [e.detail for e in events(portal, "invitation.created")] == [str(invitation.id)]

    person = portal.app.test_client()
    form_page = person.get(path)
    assert form_page.status_code == 200
    assert "wanjiru@haki.example" in form_page.get_data(as_text=True)
    weak = accept(person, path, password="short", password_again="short")
    assert weak.status_code == 400 and "at least 12 characters" in weak.get_data(as_text=True)
    mismatch = accept(person, path, password_again=PASSWORD + "x")
    assert mismatch.status_code == 400
    assert "The two passwords are not the same." in mismatch.get_data(as_text=True)

    accepted = accept(person, path)

    assert accepted.status_code == 302
    assert accepted.headers["Location"].startswith("/sign-in?notice=account-created")
    assert "Your account is ready" in person.get(accepted.headers["Location"]).get_data(
        as_text=True
    )
    with portal.db as db:
        account = db.scalar(select(Account).where(Account.email == "wanjiru@haki.example"))
        used = db.get(Invitation, invitation.id)
    assert account is not None and used is not None and used.used_at is not None
    assert (account.role, account.organisation_id, account.is_org_admin) == (
        "intermediary",
        found.id,
        True,
    )
    assert not account.in_intake_team and account.totp_secret is None
    assert account.display_name == "Wanjiru Kamau" and len(account.public_key) == 32
    assert [e.actor_account_id for e in events(portal, "invitation.accepted")] == [account.id]
    assert person.get(path).status_code == 404  # used

    sign_in(person, "wanjiru@haki.example")  # enrols the second factor on the way

    home = person.get("/intermediary/")
    html = home.get_data(as_text=True)
    assert home.status_code == 200
    assert "Haki Mashinani" in html and "No cases yet." in html
    assert 'href="/intermediary/colleagues"' in html
    assert 'href="/caseworker/cases"' not in html
    again = portal.app.test_client()
    sign_in(again, "wanjiru@haki.example")  # second time: the code, then /intermediary/


def test_the_recovery_codes_page_continues_to_the_intermediary_landing(portal, client, admin):
    assert apply(client).status_code == 302
    path = approve(admin, organisation(portal).id, "wanjiru@haki.example")
    person = portal.app.test_client()
    assert accept(person, path).status_code == 302
    token = csrf_token(person, "/sign-in")
    person.post(
        "/sign-in",
        data={"csrf_token": token, "email": "wanjiru@haki.example", "password": PASSWORD},
    )
    page = person.get("/sign-in/enrol").get_data(as_text=True)
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)</code>', page)
    assert secret
    from portal import totp

    code = totp.code_at(secret.group(1).replace(" ", ""), totp.current_step())
    done = person.post(
        "/sign-in/enrol", data={"csrf_token": csrf_token(person, "/sign-in/enrol"), "code": code}
    )
    assert 'href="/intermediary/"' in done.get_data(as_text=True)


def test_a_refused_application_is_audited_and_gets_no_link(portal, client, admin):
    assert apply(client).status_code == 302
    found = organisation(portal)
    token = csrf_token(admin, ADMIN_PAGE)

    assert admin.post(f"{ADMIN_PAGE}/{found.id}/refuse", data={}).status_code == 400
    response = admin.post(f"{ADMIN_PAGE}/{found.id}/refuse", data={"csrf_token": token})

    assert response.status_code == 302
    assert "was refused" in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert organisation(portal).status == "refused"
    assert [e.detail for e in events(portal, "organisation.refused")] == [str(found.id)]
    with portal.db as db:
        assert db.scalars(select(Invitation)).all() == []
    # Refused, it may apply again.
    assert apply(client, contact="new contact").status_code == 302
    assert organisation(portal).status == "applied"


def test_approval_needs_a_valid_email_and_only_admins_may_decide(portal, client, admin):
    assert apply(client).status_code == 302
    found = organisation(portal)
    token = csrf_token(admin, ADMIN_PAGE)

    bad = admin.post(f"{ADMIN_PAGE}/{found.id}/approve", data={"csrf_token": token, "email": "x"})

    assert bad.status_code == 400
    assert "Enter an email address like name@example.org." in bad.get_data(as_text=True)
    assert organisation(portal).status == "applied"
    portal.account("cw@example.org")
    caseworker = staff_client(portal, "cw@example.org")
    assert caseworker.get(ADMIN_PAGE).status_code == 404
    cw_token = csrf_token(caseworker, "/caseworker/account")
    answer = caseworker.post(
        f"{ADMIN_PAGE}/{found.id}/approve", data={"csrf_token": cw_token, "email": "a@b.example"}
    )
    assert answer.status_code == 404
    assert organisation(portal).status == "applied"


# --- tokens -----------------------------------------------------------------------------------


def test_unknown_used_and_expired_tokens_all_get_the_same_404(portal, client, admin):
    assert apply(client).status_code == 302
    found = organisation(portal)
    expired = approve(admin, found.id, "late@haki.example")
    used = LINK.search(
        admin.post(
            f"{ADMIN_PAGE}/{found.id}/invite",
            data={"csrf_token": csrf_token(admin, ADMIN_PAGE), "email": "first@haki.example"},
        ).get_data(as_text=True)
    )
    assert used
    with portal.db as db:
        invitation = db.scalar(select(Invitation).where(Invitation.email == "late@haki.example"))
        assert invitation is not None
        invitation.expires_at = utcnow() - timedelta(seconds=1)
        db.commit()
    person = portal.app.test_client()
    assert accept(person, used.group(1)).status_code == 302

    paths = (expired, used.group(1), "/invitation/" + "A" * 43, "/invitation/x")
    answers = [person.get(path) for path in paths]

    assert [answer.status_code for answer in answers] == [404] * 4
    # The same page each time (but for the links back to the path asked for).
    bodies = {
        a.get_data(as_text=True).replace(p, "PATH") for a, p in zip(answers, paths, strict=True)
    }
    assert len(bodies) == 1


# --- colleagues -------------------------------------------------------------------------------


def test_an_org_admin_invites_colleagues_who_cannot_invite_in_turn(portal):
    portal.account("lead@haki.example", Role.INTERMEDIARY, organisation="Haki", org_admin=True)
    portal.account("other@rights.example", Role.INTERMEDIARY, organisation="Rights Watch")
    lead = staff_client(portal, "lead@haki.example")
    page = lead.get("/intermediary/colleagues")
    assert page.status_code == 200
    assert "lead@haki.example" in page.get_data(as_text=True)
    assert "other@rights.example" not in page.get_data(as_text=True)
    token = csrf_token(lead, "/intermediary/colleagues")

    taken = lead.post(
        "/intermediary/colleagues", data={"csrf_token": token, "email": "other@rights.example"}
    )
    response = lead.post(
        "/intermediary/colleagues", data={"csrf_token": token, "email": "Colleague@Haki.example"}
    )

    assert taken.status_code == 400
    assert "already exists" in taken.get_data(as_text=True)
    assert response.status_code == 200
    found = LINK.search(response.get_data(as_text=True))
    assert found
    colleague = portal.app.test_client()
    assert accept(colleague, found.group(1), name="Otieno").status_code == 302
    with portal.db as db:
        made = db.scalar(select(Account).where(Account.email == "colleague@haki.example"))
        lead_account = db.scalar(select(Account).where(Account.email == "lead@haki.example"))
    assert made is not None and lead_account is not None
    assert made.organisation_id == lead_account.organisation_id and not made.is_org_admin
    sign_in(colleague, "colleague@haki.example")
    assert colleague.get("/intermediary/").status_code == 200
    assert 'href="/intermediary/colleagues"' not in colleague.get("/intermediary/").get_data(
        as_text=True
    )
    assert colleague.get("/intermediary/colleagues").status_code == 404
    # Another organisation's account (not its admin) sees no colleagues page at all.
    other = staff_client(portal, "other@rights.example")
    assert other.get("/intermediary/colleagues").status_code == 404
    assert "Haki" not in other.get("/intermediary/").get_data(as_text=True)


def test_another_organisations_admin_sees_only_its_own_colleagues(portal):
    portal.account("lead@haki.example", Role.INTERMEDIARY, organisation="Haki", org_admin=True)
    portal.account("lead@rights.example", Role.INTERMEDIARY, organisation="Rights", org_admin=True)
    other = staff_client(portal, "lead@rights.example")

    html = other.get("/intermediary/colleagues").get_data(as_text=True)

    assert "lead@rights.example" in html and "lead@haki.example" not in html


# --- who may go where -------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.COMPANY, Role.ADMIN])
def test_only_intermediaries_reach_intermediary_pages(portal, role):
    portal.account("someone@example.org", role)
    visitor = staff_client(portal, "someone@example.org")

    assert visitor.get("/intermediary/").status_code == 404
    assert visitor.get("/intermediary/colleagues").status_code == 404


def test_intermediaries_get_404_on_caseworker_pages_and_land_on_their_own(portal):
    portal.account("cso@example.org", Role.INTERMEDIARY, org_admin=True)
    cso = portal.app.test_client()
    token = csrf_token(cso, "/sign-in")
    cso.post(
        "/sign-in", data={"csrf_token": token, "email": "cso@example.org", "password": PASSWORD}
    )
    from tests.conftest import next_totp_code

    step = cso.post(
        "/sign-in/second-factor",
        data={
            "csrf_token": csrf_token(cso, "/sign-in/second-factor"),
            "code": next_totp_code(portal.app, "cso@example.org"),
        },
    )

    assert step.headers["Location"] == "/intermediary/"
    assert cso.get("/caseworker/cases").status_code == 404
    assert cso.get(ADMIN_PAGE).status_code == 404
    nav = cso.get("/intermediary/").get_data(as_text=True)
    assert 'href="/intermediary/"' in nav and 'href="/caseworker/cases"' not in nav
    assert cso.get("/intermediary/", follow_redirects=False).status_code == 200
    assert cso.get("/sign-in/second-factor").headers["Location"] == "/intermediary/"


# --- the CLI ----------------------------------------------------------------------------------


def test_the_cli_creates_an_intermediary_of_an_organisation_approving_it_if_new(
    portal, tmp_path: Path
):
    def create(email: str, *options: str):  # type: ignore[no-untyped-def]
        return run(
            portal.app,
            "account",
            "create",
            "--email",
            email,
            "--name",
            "Amina Diallo",
            "--password-stdin",
            *options,
            input=PASSWORD + "\n",
        )

    first = create(
        "a@haki.example", "--role", "intermediary", "--organisation", "Haki", "--org-admin"
    )
    second = create("b@haki.example", "--role", "intermediary", "--organisation", " haki ")
    missing = create("c@haki.example", "--role", "intermediary")
    wrong = create("d@haki.example", "--role", "caseworker", "--organisation", "Haki")

    assert first.exit_code == 0, first.output
    assert "of Haki (organisation approved now)" in first.output
    assert second.exit_code == 0, second.output
    assert "approved now" not in second.output
    assert missing.exit_code != 0 and "--organisation" in missing.output
    assert wrong.exit_code != 0 and "--organisation" in wrong.output
    found = organisation(portal, "Haki")
    assert found.status == "approved"
    with portal.db as db:
        made = db.scalars(
            select(Account).where(Account.role == "intermediary").order_by(Account.email)
        ).all()
    assert [(a.email, a.organisation_id, a.is_org_admin, a.in_intake_team) for a in made] == [
        ("a@haki.example", found.id, True, False),
        ("b@haki.example", found.id, False, False),
    ]
    client = portal.app.test_client()
    sign_in(client, "a@haki.example")
    assert client.get("/intermediary/").status_code == 200
