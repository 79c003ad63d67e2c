"""An organisation files for two people, in real Chromium, every step a click (JavaScript off).

A civil-society organisation applies on the public form; an admin approves it and hands over
the invitation link; the organisation's officer creates the account, enrols a second factor and
files one complaint for two people with different consents (the first allows her name to go to
the company and wants her own receipt; the second allows only the account and keeps his name
from everyone). A caseworker sees both consents and refers the case to the company: the package
carries the first person's name and not the second's. Another organisation's officer reaches
none of it. The officer hands the case over with a new receipt, which opens it at /follow-up.

Every page the officer uses is checked with axe in a JavaScript twin (as the other walks do).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from portal import totp
from portal.models import Case, Company, Organisation, Referral, Role, Scope
from tests.browser.conftest import Visit
from tests.browser.test_accessibility import audit as public_audit
from tests.browser.test_referral_loop import Twin, sign_in, submit
from tests.conftest import PASSWORD, Portal

pytestmark = pytest.mark.browser

ADMIN = "admin@oversight.example"
CASEWORKER = "ines.caseworker@oversight.example"
OFFICER = "wanjiru@haki.example"
STRANGER = "someone@other-group.example"
ORGANISATION = "Haki Mashinani"
COMPANY = "Shield Ltd"
FIRST_NAME = "Neema Wairimu"
FIRST_CONTACT = "Through Haki's office in Voi"
WHAT_HAPPENED = "Guards at the Voi gate beat two women carrying water on 2 November."


@pytest.fixture
def shield(portal: Portal) -> uuid.UUID:
    with portal.db as db:
        company = Company(id=uuid.uuid4(), name=COMPANY, response_days=21, countries="KE")
        db.add(company)
        db.commit()
    portal.account(ADMIN, Role.ADMIN, intake=False)
    portal.account(CASEWORKER)
    portal.account(STRANGER, Role.INTERMEDIARY, organisation="Other Rights Group")
    return company.id


def _actor(chromium, base: str) -> Iterator[Visit]:  # type: ignore[no-untyped-def]
    visit = Visit(chromium, base, javascript=False)
    yield visit
    visit.close()


@pytest.fixture
def admin(chromium, live_server: str) -> Iterator[Visit]:  # type: ignore[no-untyped-def]
    yield from _actor(chromium, live_server)


@pytest.fixture
def officer(chromium, live_server: str) -> Iterator[Visit]:  # type: ignore[no-untyped-def]
    yield from _actor(chromium, live_server)


@pytest.fixture
def caseworker(chromium, live_server: str) -> Iterator[Visit]:  # type: ignore[no-untyped-def]
    yield from _actor(chromium, live_server)


@pytest.fixture
def stranger(chromium, live_server: str) -> Iterator[Visit]:  # type: ignore[no-untyped-def]
    yield from _actor(chromium, live_server)


@pytest.fixture
def twin(portal: Portal, chromium, live_server: str) -> Iterator[Twin]:  # type: ignore[no-untyped-def]
    checker = Twin(portal, chromium, live_server)
    yield checker
    checker.visit.close()


def fill_person(page, index: int, values: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    for name, value in values.items():
        field = f"people-{index}-{name}"
        if page.locator(f"input[type=radio][name='{field}']").count():
            page.check(f"input[name='{field}'][value='{value}']")
        else:
            page.fill(f"[name='{field}']", value)


def test_an_organisation_files_a_group_complaint_and_hands_it_over(
    portal: Portal,
    live_server: str,
    shield: uuid.UUID,
    no_js: Visit,
    admin: Visit,
    officer: Visit,
    caseworker: Visit,
    stranger: Visit,
    twin: Twin,
) -> None:
    base = live_server

    # 1. The organisation applies on the public form.
    page = no_js.page
    page.goto(f"{base}/organisations/apply")
    page.fill("#name", ORGANISATION)
    page.select_option("#country", "KE")
    if page.locator("select#kind").count():
        page.select_option("#kind", "cso")
    else:
        page.check("input[name=kind][value=cso]")
    page.fill("#contact", "Wanjiru Kamau, wanjiru@haki.example")
    page.fill("#description", "We help the neighbours of the mines around Voi.")
    submit(page, page.locator("main form button[type=submit]"))

    # 2. An admin approves it and gets the one-time invitation link.
    sign_in(admin, portal, ADMIN, "/caseworker/cases")
    page = admin.page
    page.goto(f"{base}/caseworker/admin/organisations")
    with portal.db as db:
        applied = db.scalar(select(Organisation).where(Organisation.name == ORGANISATION))
        assert applied is not None and applied.status == "applied"
    section = page.locator(f"#organisation-{applied.id}")
    section.locator("input[name=email]").fill(OFFICER)
    submit(page, section.get_by_role("button", name="Approve and create an invitation link"))
    link = page.locator("#invitation-link").inner_text().strip()
    invitation = re.search(r"/invitation/\S+", link)
    assert invitation, link

    # 3. The officer creates the account, then enrols a second factor at the first sign-in.
    page = officer.page
    page.goto(base + invitation.group(0))
    page.fill("#display_name", "Wanjiru Kamau")
    page.fill("#password", PASSWORD)
    page.fill("#password_again", PASSWORD)
    submit(page, page.get_by_role("button", name="Create my account"))
    page.fill("input[name=email]", OFFICER)
    page.fill("input[name=password]", PASSWORD)
    submit(page, page.locator("main form button[type=submit]"))
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.fill("input[name=code]", totp.code_at(secret, totp.current_step()))
    submit(page, page.get_by_role("button", name="Confirm"))
    submit(page, page.get_by_role("link", name="I have written them down: continue"))
    assert page.url == f"{base}/intermediary/"
    twin.staff_page(officer, "intermediary home (no cases)")

    # 4. A group complaint for two people with different consents.
    submit(page, page.get_by_role("button", name="File a complaint for someone"))
    assert "/report/people" in page.url
    fill_person(
        page,
        0,
        {
            "relationship": "A woman of the village we work with",
            "agreed": "asked",
            "how": "thumbprint",
            "on": "2026-11-03",
            "caseworkers": "identity",
            "name": FIRST_NAME,
            "contact": FIRST_CONTACT,
            "company": "identity",
            "bodies": "account",
            "public_reports": "yes",
            "own_receipt": "yes",
        },
    )
    submit(page, page.get_by_role("button", name="Add another person"))
    assert page.locator("input[name='people-0-name']").input_value() == FIRST_NAME
    twin.visit.page.set_viewport_size({"width": 320, "height": 800})
    twin._open(officer)
    public_audit(twin.visit.page, "people step (two people)", twin.problems)
    fill_person(
        page,
        1,
        {
            "relationship": "Her neighbour",
            "agreed": "agreed",
            "how": "spoken",
            "on": "2026-11-04",
            "caseworkers": "account",
            "company": "account",
            "bodies": "nothing",
            "public_reports": "no",
            "own_receipt": "no",
        },
    )
    submit(page, page.get_by_role("button", name="Continue"))
    assert "/report/what" in page.url, page.url
    page.fill("#what_happened", WHAT_HAPPENED)
    page.select_option("#country", "KE")
    page.select_option("#company", label=COMPANY)
    submit(page, page.locator("main form button[type=submit]").last)
    for step in ("safety", "remedy"):
        assert f"/report/{step}" in page.url, page.url
        submit(page, page.locator("main form button[type=submit]").last)
    assert "/report/evidence" in page.url, page.url
    submit(page, page.locator("button[value=continue]"))
    assert "/report/check" in page.url
    check = page.locator("main").inner_text()
    assert FIRST_NAME in check and "Not given to caseworkers" in check
    submit(page, page.get_by_role("button", name="Send the complaint"))
    receipts = page.locator("strong.receipt").all_inner_texts()
    assert len(receipts) == 1 and re.fullmatch(r"\d{4}( \d{4}){4}", receipts[0])
    with portal.db as db:
        case = db.scalar(select(Case))
        assert case is not None
        assert (case.channel, case.share_with_company, case.share_with_bodies) == (
            "intermediary",
            Scope.IDENTITY.value,
            Scope.NOTHING.value,
        )
        assert case.in_public_reports is False
    submit(page, page.get_by_role("link", name="Open the case"))
    assert page.url == f"{base}/intermediary/cases/{case.id}"
    twin.staff_page(officer, "intermediary case")

    # 5. The caseworker sees both consents and refers the case to the company.
    sign_in(caseworker, portal, CASEWORKER, "/caseworker/cases")
    page = caseworker.page
    submit(page, page.locator("table.cases a").first)
    main = page.locator("main").inner_text()
    assert f"Filed by {ORGANISATION}" in main
    assert FIRST_NAME in main and "Not given to caseworkers" in main
    assert main.count("Person 1") == 1 and main.count("Person 2") == 1
    submit(page, page.get_by_role("link", name="Refer this case"))
    submit(page, page.get_by_role("button", name=f"Refer here: {COMPANY}"))
    assert page.locator("#compose").count() == 1  # consent was recorded at filing
    page.check("#identity")
    page.fill("#cover_note", "Please answer within 21 days.")
    submit(page, page.get_by_role("button", name="Send to the company"))
    with portal.db as db:
        referral = db.scalar(select(Referral))
        assert referral is not None and (referral.status, referral.scope) == ("sent", "identity")
    sent_identity = page.locator("dl.identity").inner_text()
    assert FIRST_NAME in sent_identity and FIRST_CONTACT in sent_identity
    assert "person 2" not in sent_identity.lower()

    # 6. Another organisation's officer reaches nothing of it.
    sign_in(stranger, portal, STRANGER, "/intermediary/")
    page = stranger.page
    assert case.reference not in page.locator("main").inner_text()
    for path in (f"/intermediary/cases/{case.id}", f"/caseworker/cases/{case.id}"):
        response = page.goto(base + path)
        assert response is not None and response.status == 404, path

    # 7. The officer hands the case over; the new receipt opens it at /follow-up.
    page = officer.page
    page.goto(f"{base}/intermediary/")
    assert case.reference in page.locator("table.cases").inner_text()
    submit(page, page.get_by_role("link", name=case.reference))
    submit(page, page.get_by_role("button", name="Make a receipt for the person"))
    handed = page.locator("#receipt").inner_text().strip()
    assert re.fullmatch(r"\d{4}( \d{4}){4}", handed) and handed != receipts[0]
    person = no_js.page
    person.goto(f"{base}/follow-up")
    person.fill("input[name=receipt]", handed)
    submit(person, person.locator("main form button[type=submit]"))
    assert person.url.startswith(f"{base}/follow-up/case")
    assert person.locator("h1").inner_text() == "Your complaint"

    assert twin.all_problems() == [], "\n".join(twin.all_problems())


@pytest.mark.parametrize("lang", ("en", "ar"))
def test_the_organisation_pages_pass_axe_in_both_directions(
    portal: Portal, chromium, live_server: str, shield: uuid.UUID, lang: str
) -> None:  # type: ignore[no-untyped-def]
    """Every page an organisation uses, in English and Arabic (right to left), at a desktop
    width and at 320 pixels: its case list, a group case, the consent form with its errors, a
    hand-over receipt; the people step and the check page of a filing; and the caseworker's
    view of the consents."""
    from tests.browser.test_staff_accessibility import StaffAudit
    from tests.functional.helpers import staff_client
    from tests.functional.test_intermediary_filing import file_group

    portal.account(OFFICER, Role.INTERMEDIARY, organisation=ORGANISATION, org_admin=True)
    file_group(portal, staff_client(portal, OFFICER), shield)
    with portal.db as db:
        case = db.scalar(select(Case))
        assert case is not None
    visit = Visit(chromium, live_server, javascript=True, bypass_csp=True, locale=lang)
    audit = StaffAudit(portal, visit, lang)
    page = visit.page

    def signed_in(email: str, landing: str) -> None:
        from tests.conftest import next_totp_code

        visit.context.clear_cookies()
        page.goto(f"{live_server}/sign-in")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        submit(page, page.locator("main form button[type=submit]"))
        page.fill("input[name=code]", next_totp_code(portal.app, email))
        submit(page, page.locator("main form[action$='/second-factor'] button[type=submit]"))
        assert page.url == live_server + landing, page.url

    try:
        signed_in(OFFICER, "/intermediary/")
        audit("organisation: case list")
        page.goto(f"{live_server}/intermediary/cases/{case.id}")
        audit("organisation: group case")
        page.goto(f"{live_server}/intermediary/cases/{case.id}/consent")
        audit("organisation: consent form")
        page.fill("#people-0-relationship", "")
        submit(page, page.locator("main form button[type=submit]"), status=400)
        audit("organisation: consent form with errors")
        page.goto(f"{live_server}/intermediary/cases/{case.id}")
        submit(page, page.locator("form[action$='/hand-over'] button[type=submit]"))
        audit("organisation: hand-over receipt")
        page.goto(f"{live_server}/intermediary/")
        submit(page, page.locator("form[action$='/intermediary/file'] button[type=submit]"))
        assert "/report/people" in page.url
        lang_dir = page.locator("html").get_attribute("dir")
        assert lang_dir == ("rtl" if lang == "ar" else "ltr")
        audit("filing: people step")
        submit(page, page.locator("button[value=add]"))
        audit("filing: people step, two people")
        submit(page, page.locator("button[value=continue]"), status=400)
        audit("filing: people step with errors")
        signed_in(CASEWORKER, "/caseworker/cases")
        page.goto(f"{live_server}/caseworker/cases/{case.id}")
        audit("caseworker: case filed by an organisation")
    finally:
        visit.close()
    assert not audit.problems, "\n".join(audit.problems)
