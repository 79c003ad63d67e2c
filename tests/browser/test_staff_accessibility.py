"""WCAG 2.x AA with axe-core on every staff page, in English and in Arabic (right to left), at a
desktop width and at 320 CSS pixels, signed in through the real two steps (password, then TOTP).

Staff pick their language with the browser's Accept-Language (the signed-in pages carry no
language menu), so each language gets a browser context with that locale and one signed-in
session for all its pages. At 320 pixels nothing may stick out sideways (the reflow criterion,
and 200% zoom); only a `.table-wrap`, which holds a wide table, may scroll inside itself.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from caseworker import admin_audit
from portal import dashboard, registry, totp
from portal.config import RTL_LANGUAGES
from portal.models import Company, Procedure, Role
from tests.browser.conftest import Visit
from tests.browser.test_accessibility import AXE, WCAG_TAGS
from tests.conftest import PASSWORD, csrf_token, next_totp_code, sign_in
from tests.functional.helpers import account_by_email, case_ids, only_case_id
from tests.support.filing import file_complaint

pytestmark = pytest.mark.browser

STAFF_LANGUAGES = ("en", "ar")
WIDTHS = (("desktop", 1280), ("320px", 320))
HEIGHT = 800
ADMIN = "amal.haddad@example.org"  # signs in through the browser; enrols at first sign-in
SUPERVISOR = "sam.okafor@example.org"  # in the intake team: holds the case and shares it
LEAVER = "lee.mwangi@example.org"  # a caseworker the admin can give access to, then deactivate
COMPLAINT = {
    "en": "Guards at the north gate beat my brother and took his phone.",
    "ar": "ضرب الحراس عند البوابة الشمالية أخي وأخذوا هاتفه.",
}
# Anything that reaches past the viewport's sides, unless a .table-wrap scrolls it (what sits in
# one is clipped by it only if its containing block is inside it: an absolutely positioned box
# can escape), and any box that overflows sideways but a .table-wrap, a form control or text
# hidden for all but screen readers.
OVERFLOW_SCRIPT = """() => {
  const width = document.documentElement.clientWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.className && typeof el.className === 'string'
       ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const positioned = (el) => getComputedStyle(el).position;
  const scrolledByWrap = (el) => {
    const wrap = el.parentElement && el.parentElement.closest('.table-wrap');
    let box = el;
    while (wrap && box && box !== wrap) {
      if (positioned(box) === 'fixed') return false;
      if (positioned(box) !== 'absolute') { box = box.parentElement; continue; }
      let holder = box.parentElement;  // the containing block: the nearest positioned box
      while (holder && positioned(holder) === 'static') holder = holder.parentElement;
      if (!holder || !wrap.contains(holder)) return false;
      box = holder;
    }
    return Boolean(wrap) && box === wrap;
  };
  const found = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (scrolledByWrap(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.left < -1 || box.right > width + 1) {
      found.push(`${name(el)} spans ${Math.round(box.left)}..${Math.round(box.right)}px`);
    }
    const style = getComputedStyle(el);
    const control = ['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName);
    const meant = el.classList.contains('table-wrap') || el.classList.contains('visually-hidden');
    if (!control && !meant && style.overflowX !== 'visible'
        && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${name(el)} hides or scrolls content ${el.scrollWidth}px wide`
        + ` in ${el.clientWidth}px`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, found};
}"""


class StaffAudit:
    """Runs axe and the reflow check on the page as it stands, at each width; collects problems."""

    def __init__(self, portal, visit: Visit, lang: str) -> None:  # type: ignore[no-untyped-def]
        self.portal = portal
        self.visit = visit
        self.page = visit.page
        self.lang = lang
        self.direction = "rtl" if lang in RTL_LANGUAGES else "ltr"
        self.problems: list[str] = []
        self.audited: list[str] = []
        self.statuses: list[tuple[str, int]] = []
        self.page.on("response", self._record_status)

    def _record_status(self, response) -> None:  # type: ignore[no-untyped-def]
        if response.request.resource_type == "document":
            self.statuses.append((response.url, response.status))

    def __call__(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        self.audited.append(name)
        html = page.locator("html")
        shown = (html.get_attribute("lang"), html.get_attribute("dir"))
        if shown != (self.lang, self.direction):
            self.problems.append(f"{name}: shown as lang/dir {shown}, not {self.lang}")
        for label, width in WIDTHS:
            where = f"[{self.lang} {label}] {name}"
            page.set_viewport_size({"width": width, "height": HEIGHT})
            page.evaluate("window.scrollTo(0, 0)")
            results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
            for violation in results.response["violations"]:
                targets = [node["target"] for node in violation["nodes"]]
                self.problems.append(
                    f"{where}: {violation['id']} ({violation['impact']}) "
                    f"{violation['help']}: {targets}"
                )
            if width == 320:
                layout: dict[str, Any] = page.evaluate(OVERFLOW_SCRIPT)
                if layout["scrollWidth"] > layout["width"]:
                    self.problems.append(
                        f"{where}: scrolls sideways (content is {layout['scrollWidth']}px wide)"
                    )
                self.problems += [f"{where}: {item}" for item in layout["found"]]
        page.set_viewport_size({"width": WIDTHS[0][1], "height": HEIGHT})

    def visit_path(self, path: str, name: str) -> None:
        response = self.page.goto(self.visit.base + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        self(name)

    def press(  # type: ignore[no-untyped-def]
        self, control, name: str, expected_path: str, status: int = 200
    ) -> None:
        """Press a button or follow a link, check where it led, and audit that page; a refused
        form comes back with 400 and its error summary."""
        with self.page.expect_navigation() as navigation:
            control.click()
        path = self.page.url.removeprefix(self.visit.base).split("?")[0].split("#")[0]
        assert (path, navigation.value.status) == (expected_path, status), (name, self.page.url)
        if status == 400:
            assert self.page.locator(".error-summary").count() == 1, name
        self(name)


def prepare_cases(portal, lang: str) -> uuid.UUID:  # type: ignore[no-untyped-def]
    """Two complaints held by the intake supervisor, who gives the admin access to both (not to
    the identity, so the admin's page offers to ask for it). Returns the first one: urgent,
    confidential, with an attachment."""
    portal.account(SUPERVISOR, Role.SUPERVISOR)
    portal.account(LEAVER, Role.CASEWORKER, intake=False)
    admin = portal.account(ADMIN, Role.ADMIN, enrolled=False)
    reporter = portal.app.test_client()
    file_complaint(
        reporter,
        text=COMPLAINT[lang],
        files=[("gate-photo.jpg", b"\xff\xd8 a photo of the gate")],
        answers={
            "safety": {"danger_now": "yes"},
            "contact": {"contact_mode": "confidential", "name": "Amina Secret-Name"},
        },
        lang=lang,
    )
    case_id = only_case_id(portal)
    file_complaint(portal.app.test_client(), text=COMPLAINT[lang], lang=lang)
    supervisor = portal.app.test_client()
    sign_in(supervisor, SUPERVISOR)
    token = csrf_token(supervisor, "/caseworker/cases")
    for held in case_ids(portal):
        granted = supervisor.post(
            f"/caseworker/cases/{held}/access/grant",
            data={"csrf_token": token, "account": str(admin.id)},
        )
        assert granted.status_code == 302, granted.status_code
    return case_id


def wrong_code(secret: str) -> str:
    """Six digits that no step inside the accepted window gives."""
    step = totp.current_step()
    window = {totp.code_at(secret, step + offset) for offset in range(-2, 3)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in window)


def sign_in_pages(audit: StaffAudit) -> None:
    """Sign-in, its error and notice, enrolment and its error, the recovery codes, then signing
    out and in again through the second-factor page and its error."""
    page = audit.page
    audit.visit_path("/sign-in", "sign-in")
    audit.visit_path("/sign-in?notice=expired", "sign-in (expired notice)")
    audit.press(page.locator("main form button[type=submit]"), "sign-in (empty)", "/sign-in", 400)
    page.fill("#email", ADMIN)
    page.fill("#password", PASSWORD)
    audit.press(page.locator("main form button[type=submit]"), "enrol", "/sign-in/enrol")
    assert page.locator(".qr svg").count() == 1
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.fill("#code", wrong_code(secret))
    audit.press(
        page.locator("main form button[type=submit]"), "enrol (wrong)", "/sign-in/enrol", 400
    )
    page.fill("#code", totp.code_at(secret, totp.current_step()))
    audit.press(page.locator("main form button[type=submit]"), "recovery codes", "/sign-in/enrol")
    assert page.locator(".recovery-codes li").count() == 10
    audit.press(page.locator("main a[href$='/caseworker/cases']"), "cases", "/caseworker/cases")

    with page.expect_navigation():
        page.locator("form.sign-out button").click()
    page.fill("#email", ADMIN)
    page.fill("#password", PASSWORD)
    second_factor = "/sign-in/second-factor"
    button = page.locator("main form[action$='/second-factor'] button")
    audit.press(page.locator("main form button[type=submit]"), "second factor", second_factor)
    page.fill("#code", wrong_code(secret))
    audit.press(button, "second factor (wrong)", second_factor, 400)
    page.fill("#code", next_totp_code(audit.portal.app, ADMIN))
    with page.expect_navigation():
        button.click()
    assert page.url.endswith("/caseworker/cases"), page.url


def case_list_pages(audit: StaffAudit) -> None:
    """The list and its pager (a page holds one case here), filtered, counted, and empty."""
    page = audit.page
    assert page.locator("table.cases tbody tr").count() == 1  # as signed in: page 1 of 2
    audit.press(page.locator("a[rel=next]"), "cases (page 2)", "/caseworker/cases")
    assert page.locator("a[rel=prev]").count() == 1
    page.select_option("#filter-stage", "received")
    page.check("#filter-urgent")
    page.select_option("#filter-sort", "oldest")
    audit.press(page.locator("form.filters button"), "cases (filtered)", "/caseworker/cases")
    assert page.locator("table.cases tbody tr").count() == 1
    count = page.locator("a[href*='count=all']")
    audit.press(count, "cases (filtered, counted)", "/caseworker/cases")
    audit.visit_path("/caseworker/cases?urgent=1&page=3", "cases (past the last page)")
    assert page.locator("table.cases").count() == 0
    audit.visit_path("/caseworker/cases?stage=closed&channel=anonymous", "cases (none match)")


def case_pages(audit: StaffAudit, case_id: uuid.UUID) -> None:
    """The case page and each of its forms, empty (the error state) and filled in."""
    page = audit.page
    path = f"/caseworker/cases/{case_id}"
    audit.visit_path(path, "case")
    assert page.locator("#access").count() == 1  # the admin supervises: the access section
    assert page.locator("form[action$='/identity/request']").count() == 1
    assert page.locator("ul.attachments li").count() == 1
    with page.expect_navigation():
        page.locator("a[href*='template=']").first.click()
    audit("case (message from a template)")

    def form(action: str):  # type: ignore[no-untyped-def]
        return page.locator(f"main form[action$='{action}'] button[type=submit]")

    page.goto(audit.visit.base + path)  # the forms empty again
    audit.press(form("/messages"), "case (empty message)", f"{path}/messages", 400)
    page.fill("#message", "Thank you. We are reading what you sent.")
    audit.press(form("/messages"), "case (message sent)", path)
    audit.press(form("/notes"), "case (empty note)", f"{path}/notes", 400)
    page.fill("#note", "Spoke to the regional office.")
    audit.press(form("/notes"), "case (note saved)", path)
    audit.press(form("/move"), "case (move without a message)", f"{path}/move", 400)
    page.fill("#reporter_message", "We have received your complaint.")
    audit.press(form("/move"), "case (moved)", path)
    assert page.locator("ol.timeline li").count() == 1
    audit.press(form("/identity/request"), "case (identity asked)", path)
    assert page.locator("#identity-requests").count() == 1
    page.select_option("#grant-account", str(account_by_email(audit.portal, LEAVER).id))
    audit.press(form("/access/grant"), "case (access given)", path)
    audit.press(form("/access/assign"), "case (assigned)", path)


def account_and_admin_pages(audit: StaffAudit) -> None:
    page = audit.page
    audit.visit_path("/caseworker/account", "account")
    password_form = page.locator("main form[action$='/account/password'] button")
    audit.press(
        password_form, "account (empty password change)", "/caseworker/account/password", 400
    )
    page.check("#digest-yes")
    notifications = page.locator("main form[action$='/account/notifications'] button")
    audit.press(notifications, "account (emails saved)", "/caseworker/account")

    audit.visit_path("/caseworker/admin/accounts", "accounts")
    deactivate = page.locator("main form[action$='/deactivate'] button")
    assert deactivate.count() == 2  # the supervisor and the leaver, never the admin itself
    leaver_id = account_by_email(audit.portal, LEAVER).id
    leaver = page.locator(f"main form[action$='/{leaver_id}/deactivate'] button")
    audit.press(leaver, "accounts (deactivated)", "/caseworker/admin/accounts")

    audit.visit_path("/caseworker/admin/audit", "audit log")
    assert page.locator("a[rel=next]").count() == 1
    audit.press(page.locator("a[rel=next]"), "audit log (page 2)", "/caseworker/admin/audit")
    page.select_option("#action", "account.signed_in")
    audit.press(page.locator("main form button"), "audit log (filtered)", "/caseworker/admin/audit")
    assert page.locator("table.audit-log tbody tr").count() >= 2
    audit.visit_path("/caseworker/admin/audit?date_from=31-03-2025", "audit log (bad date)")
    assert page.locator(".error-summary").count() == 1
    audit.visit_path("/caseworker/admin/templates", "message templates")
    audit.visit_path("/caseworker/statistics", "statistics")
    audit.visit_path("/caseworker/statistics?from=2026-13-01", "statistics (bad period)")

    registry_pages(audit)

    record = page.locator("form[action$='/caseworker/record'] button")
    audit.press(record, "record a complaint", "/report/who")


def registry_pages(audit: StaffAudit) -> None:
    """The two registries (the starter catalogue and a company), the add form refused, an edit
    page of each, and a procedure marked as verified."""
    page = audit.page
    with audit.portal.app.app_context(), audit.portal.db as db:
        registry.load_starter_catalogue(db)
        company = Company(
            name="Kivu Guards",
            countries="CD RW",
            grievance_contact="grievance@kivu.example\n+243 000 000 000",
            response_days=30,
        )
        db.add(company)
        db.commit()
        procedure = db.scalars(select(Procedure).order_by(Procedure.key)).first()
    assert procedure is not None
    companies = "/caseworker/admin/companies"
    audit.visit_path(companies, "companies")
    add = page.locator(f"main form[action$='{companies}/new'] button")
    audit.press(add, "companies (added without a name)", f"{companies}/new", 400)
    audit.visit_path(f"{companies}/{company.id}", "company (edit)")

    procedures = "/caseworker/admin/procedures"
    audit.visit_path(procedures, "procedures")
    assert page.locator("table.registry strong.tag").count() >= 30  # none verified yet
    verify = page.locator(f"main form[action$='/{procedure.id}/verified'] button")
    audit.press(verify, "procedures (one verified)", procedures)
    audit.visit_path(f"{procedures}/{procedure.id}", "procedure (edit)")


@pytest.mark.parametrize("lang", STAFF_LANGUAGES)
def test_every_staff_page_passes_axe_and_reflows(portal, chromium, live_server, monkeypatch, lang):
    # Short pages, so that two cases and a few dozen events show every pager.
    monkeypatch.setattr(dashboard, "PAGE_SIZE", 1)
    monkeypatch.setattr(admin_audit, "PAGE_SIZE", 10)
    case_id = prepare_cases(portal, lang)
    visit = Visit(chromium, live_server, javascript=True, bypass_csp=True, locale=lang)
    audit = StaffAudit(portal, visit, lang)
    try:
        sign_in_pages(audit)
        case_list_pages(audit)
        case_pages(audit, case_id)
        account_and_admin_pages(audit)
    finally:
        visit.close()
    failed = [(url, status) for url, status in audit.statuses if status not in (200, 302, 303, 400)]
    assert not failed, failed
    assert len(audit.audited) >= 30, audit.audited
    problems = audit.problems + visit.header_problems()
    problems += [f"request to another host: {url}" for url in visit.foreign_requests()]
    assert not problems, "\n".join(problems)
