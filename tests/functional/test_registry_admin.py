"""The registry admin pages: companies and alternative procedures listed, added, edited, marked
as verified, downloaded as CSV and imported back; for admins only, every change audited."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import registry
from portal.models import AuditEvent, Company, Membership, Procedure, Role, today
from tests.conftest import Portal, csrf_token
from tests.functional.helpers import staff_client
from tests.support.filing import begin

ADMIN = "admin@example.org"
COMPANIES = "/caseworker/admin/companies"
PROCEDURES = "/caseworker/admin/procedures"


@pytest.fixture
def admin(portal: Portal) -> FlaskClient:
    portal.account(ADMIN, Role.ADMIN)
    return staff_client(portal, ADMIN)


def add_company(portal: Portal, name: str, **fields: object) -> Company:
    with portal.db as db:
        company = Company(name=name, **fields)
        db.add(company)
        db.commit()
        return company


def add_procedure(portal: Portal, key: str, name: str, **fields: object) -> Procedure:
    with portal.db as db:
        procedure = Procedure(key=key, name=name, **{"kind": "ncp", **fields})
        db.add(procedure)
        db.commit()
        return procedure


def companies(portal: Portal) -> dict[str, Company]:
    with portal.db as db:
        return {company.name: company for company in db.scalars(select(Company))}


def procedures(portal: Portal) -> dict[str, Procedure]:
    with portal.db as db:
        return {procedure.key: procedure for procedure in db.scalars(select(Procedure))}


def events(portal: Portal, action: str) -> list[AuditEvent]:
    with portal.db as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def company_form(token: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "name": "Ndovu Protection Services",
        "membership": "member",
        "countries": "ke, tz",
        "grievance_contact": "grievance@ndovu.example\n+254 700 000 000",
        "response_days": "30",
        **changes,
    }


def procedure_form(token: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "name": "NCP Kenya",
        "key": "ncp-kenya",
        "kind": "ncp",
        "countries": "KE",
        "languages": "en sw",
        "accepts_anonymous": "confidential",
        "identity_required": "y",
        "time_limit": "",
        "indicative_timeline": "About a year",
        "contact": "https://ncp.example",
        "notes": "",
        "last_verified": "",
        "active": "y",
        **changes,
    }
    return {name: value for name, value in form.items() if value is not None}


def upload(client: FlaskClient, path: str, token: str | None, content: bytes):  # type: ignore[no-untyped-def]
    data: dict[str, object] = {"csv_file": (io.BytesIO(content), "registry.csv")}
    if token is not None:
        data["csrf_token"] = token
    return client.post(path, data=data, content_type="multipart/form-data")


def field_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def is_checked(html: str, field_id: str) -> bool:
    tag = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', html)
    assert tag, field_id
    return " checked" in tag.group(0)


# --- companies --------------------------------------------------------------------------------


def test_the_admin_lists_companies_with_their_details_and_officer_counts(portal, admin):
    add_company(portal, "Kivu Guards", membership="suspended", countries="CD", response_days=45)
    portal.account("officer@example.org", Role.COMPANY, company="Kivu Guards")
    add_company(portal, "Lone Security <b>", membership="not_member", grievance_contact="<i>x</i>")

    response = admin.get(COMPANIES)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    row = re.search(r'<th scope="row"><bdi>Kivu Guards</bdi></th>(.*?)</tr>', html, re.S)
    assert row, html
    cells = [cell.strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]
    # membership, countries, grievance contact, response days, officer accounts, edit link
    assert cells[:2] == ["Suspended member", "CD"]
    assert cells[3:5] == ["45", "1"]
    assert "Not a member" in html
    assert "Lone Security &lt;b&gt;" in html and "&lt;i&gt;x&lt;/i&gt;" in html
    assert "<b>" not in html and "<i>x" not in html
    assert 'href="/caseworker/admin/companies.csv"' in html
    assert 'href="/caseworker/admin/companies/' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'href="/caseworker/admin/companies"' in html  # in the staff navigation


def test_an_added_company_is_saved_audited_and_offered_on_the_public_form(portal, admin, client):
    token = csrf_token(admin, COMPANIES)

    response = admin.post(f"{COMPANIES}/new", data=company_form(token))

    saved = companies(portal)["Ndovu Protection Services"]
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#company-{saved.id}")
    assert (saved.membership, saved.countries, saved.response_days) == ("member", "KE TZ", 30)
    assert saved.grievance_contact == "grievance@ndovu.example\n+254 700 000 000"
    assert "Ndovu Protection Services was saved." in admin.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    [event] = events(portal, "registry.company_saved")
    assert event.detail == str(saved.id)
    assert event.actor_account_id is not None
    begin(client)
    assert "Ndovu Protection Services" in client.get("/report/what").get_data(as_text=True)


def test_an_edit_changes_the_company_and_the_public_list_follows_it(portal, admin, client):
    company = add_company(portal, "Old Name Guards", membership="member")
    begin(client)
    assert "Old Name Guards" in client.get("/report/what").get_data(as_text=True)
    page = admin.get(f"{COMPANIES}/{company.id}")
    assert page.status_code == 200
    assert field_value(page.get_data(as_text=True), "name") == "Old Name Guards"
    token = csrf_token(admin, f"{COMPANIES}/{company.id}")

    response = admin.post(
        f"{COMPANIES}/{company.id}",
        data=company_form(token, name="New  Name Guards", response_days="", countries=""),
    )

    assert response.status_code == 302
    edited = companies(portal)["New Name Guards"]
    assert edited.id == company.id and edited.response_days is None and edited.countries == ""
    form = client.get("/report/what").get_data(as_text=True)
    assert "New Name Guards" in form and "Old Name Guards" not in form
    # A company that was never a member is not offered to reporters.
    token = csrf_token(admin, f"{COMPANIES}/{company.id}")
    admin.post(
        f"{COMPANIES}/{company.id}",
        data=company_form(token, name="New Name Guards", membership=Membership.NOT_MEMBER.value),
    )
    assert "New Name Guards" not in client.get("/report/what").get_data(as_text=True)
    assert [e.detail for e in events(portal, "registry.company_saved")] == [str(company.id)] * 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "  "}, "Enter the company"),
        ({"name": "kivu   GUARDS"}, "There is already a company with this name: Kivu Guards."),
        ({"countries": "KE Kenya 12"}, "These are not two-letter country codes: KENYA 12."),
        ({"response_days": "0"}, "Enter a whole number of days from 1 to 3650"),
        ({"response_days": "3651"}, "Enter a whole number of days from 1 to 3650"),
        ({"response_days": "two weeks"}, "Enter a whole number of days from 1 to 3650"),
        ({"name": "x" * 201}, "Use at most 200 characters."),
    ],
)
def test_a_bad_company_is_refused_with_the_error_and_keeps_what_was_typed(
    portal, admin, changes, message
):
    add_company(portal, "Kivu Guards")
    other = add_company(portal, "Other Guards")
    token = csrf_token(admin, COMPANIES)
    typed = company_form(token, grievance_contact="Call <Amani> & ask", **changes)

    for url in (f"{COMPANIES}/new", f"{COMPANIES}/{other.id}"):
        response = admin.post(url, data=typed)

        html = response.get_data(as_text=True)
        assert response.status_code == 400, url
        assert 'class="error-summary"' in html and message in html, url
        assert "<title>Error:" in html
        assert field_value(html, "name") == typed["name"].replace("'", "&#39;")
        assert field_value(html, "countries") == typed["countries"]
        assert field_value(html, "response_days") == typed["response_days"]
        assert "Call &lt;Amani&gt; &amp; ask</textarea>" in html
        assert re.search(r'aria-describedby="[^"]*-error"', html)
    assert set(companies(portal)) == {"Kivu Guards", "Other Guards"}
    assert events(portal, "registry.company_saved") == []


def test_what_was_typed_is_escaped_in_the_error_messages(portal, admin):
    add_company(portal, "<i>Kivu</i>")
    token = csrf_token(admin, COMPANIES)

    response = admin.post(
        f"{COMPANIES}/new", data=company_form(token, name="<I>KIVU</I>", countries="<b>")
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "this name: &lt;i&gt;Kivu&lt;/i&gt;." in html
    assert "country codes: &lt;B&gt;." in html
    assert "<i>" not in html and "<I>" not in html and "<B>" not in html


def test_a_company_can_keep_its_own_name_in_another_case(portal, admin):
    company = add_company(portal, "Kivu Guards")
    token = csrf_token(admin, f"{COMPANIES}/{company.id}")

    response = admin.post(f"{COMPANIES}/{company.id}", data=company_form(token, name="KIVU GUARDS"))

    assert response.status_code == 302
    assert set(companies(portal)) == {"KIVU GUARDS"}


def test_the_company_csv_downloads_and_round_trips_through_the_import_page(portal, admin):
    add_company(portal, "=Formula Guards", countries="KE", response_days=14)
    add_company(portal, "Plain Guards", membership="former", grievance_contact='a, "b"\nc')
    before = companies(portal)

    download = admin.get(f"{COMPANIES}.csv")

    assert download.status_code == 200
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert download.headers["Content-Disposition"] == "attachment; filename=companies.csv"
    text = download.get_data(as_text=True)
    assert text.startswith(",".join(registry.COMPANY_COLUMNS))
    assert "'=Formula Guards" in text
    edited = text.replace("Plain Guards,former", "Plain Guards,member") + "New Co,member,TZ,,\r\n"
    token = csrf_token(admin, COMPANIES)

    response = upload(admin, f"{COMPANIES}/import", token, edited.encode("utf-8"))

    assert response.status_code == 302
    notice = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 added, 2 updated" in notice
    after = companies(portal)
    assert set(after) == {"=Formula Guards", "Plain Guards", "New Co"}
    assert after["Plain Guards"].membership == "member"
    assert after["Plain Guards"].grievance_contact == before["Plain Guards"].grievance_contact
    assert after["=Formula Guards"].id == before["=Formula Guards"].id
    assert [e.detail for e in events(portal, "registry.imported")] == ["companies"]


def test_a_bad_company_csv_lists_each_line_and_changes_nothing(portal, admin):
    add_company(portal, "Kivu Guards", membership="member")
    text = (
        ",".join(registry.COMPANY_COLUMNS)
        + "\r\nKivu Guards,former,CD,,"
        + "\r\n,member,KE,,"
        + "\r\nThird <Co>,perhaps,KENYA,,forever\r\n"
    )
    token = csrf_token(admin, COMPANIES)

    response = upload(admin, f"{COMPANIES}/import", token, text.encode("utf-8"))

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Line 3:" in html and "Line 4:" in html and "Line 2:" not in html
    assert "KENYA" in html and "Nothing was changed" in html
    assert "<Co>" not in html
    assert companies(portal)["Kivu Guards"].membership == "member"
    assert set(companies(portal)) == {"Kivu Guards"}
    assert events(portal, "registry.imported") == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Choose a CSV file to import."),
        (b"name,membership\r\n\xff\xfe broken", "The file is not UTF-8 text."),
        (b"x" * (registry.MAX_BYTES + 1), "The file is too large."),
        (b"name,membership\r\n", "These columns are missing"),
    ],
)
def test_an_unreadable_file_is_refused_with_a_reason(portal, admin, content, message):
    token = csrf_token(admin, COMPANIES)
    if content is None:
        response = admin.post(
            f"{COMPANIES}/import", data={"csrf_token": token}, content_type="multipart/form-data"
        )
    else:
        response = upload(admin, f"{COMPANIES}/import", token, content)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert companies(portal) == {}


# --- procedures -------------------------------------------------------------------------------


def test_the_admin_lists_procedures_by_kind_with_their_verification(portal, admin):
    add_procedure(portal, "zz-un", "A UN body", kind="un_procedure", accepts_anonymous="yes")
    add_procedure(
        portal,
        "ncp-ke",
        "NCP Kenya",
        countries="KE",
        languages="en sw",
        accepts_anonymous="confidential",
        identity_required=False,
        last_verified=today(),
        active=False,
    )

    html = admin.get(PROCEDURES).get_data(as_text=True)

    assert html.index("NCP Kenya") < html.index("A UN body")  # the NCPs come first
    assert "OECD National Contact Point" in html and "UN special procedure" in html
    assert "Only with a name, kept confidential" in html and "Any country" in html
    assert html.count('<strong class="tag">Not verified</strong>') == 1
    assert 'href="/caseworker/admin/procedures.csv"' in html
    assert html.count("Mark as verified today</button>") == 2


def test_a_procedure_is_added_edited_and_audited(portal, admin):
    token = csrf_token(admin, PROCEDURES)

    added = admin.post(f"{PROCEDURES}/new", data=procedure_form(token, languages="EN, sw fr"))

    assert added.status_code == 302
    procedure = procedures(portal)["ncp-kenya"]
    assert (procedure.countries, procedure.languages) == ("KE", "en sw fr")
    assert procedure.identity_required and procedure.active and procedure.last_verified is None
    page = admin.get(f"{PROCEDURES}/{procedure.id}").get_data(as_text=True)
    assert is_checked(page, "active") and is_checked(page, "identity_required")
    form = procedure_form(
        csrf_token(admin, f"{PROCEDURES}/{procedure.id}"),
        countries="",
        identity_required=None,  # unticked boxes are not sent
        active=None,
        last_verified="2025-03-31",
        accepts_anonymous="yes",
    )

    edited = admin.post(f"{PROCEDURES}/{procedure.id}", data=form)

    assert edited.status_code == 302
    after = procedures(portal)["ncp-kenya"]
    assert (after.countries, after.identity_required, after.active) == ("*", False, False)
    assert after.last_verified is not None and after.last_verified.isoformat() == "2025-03-31"
    assert after.accepts_anonymous == "yes"
    details = [e.detail for e in events(portal, "registry.procedure_saved")]
    assert details == [str(procedure.id)] * 2


def test_a_bad_procedure_is_refused_and_keeps_what_was_typed(portal, admin):
    add_procedure(portal, "cao", "CAO")
    token = csrf_token(admin, PROCEDURES)
    form = procedure_form(
        token,
        key="CAO",
        countries="KE XYZ",
        languages="english",
        last_verified="31/03/2025",
        notes="Ask for <Maria>",
        active=None,
    )

    response = admin.post(f"{PROCEDURES}/new", data=form)

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in (
        "Another procedure has this key: CAO.",
        "These are not two-letter country codes: XYZ.",
        "These are not language codes: english.",
        "Enter a date like 2025-03-31.",
    ):
        assert message in html, message
    assert field_value(html, "key") == "CAO"
    assert field_value(html, "countries") == "KE XYZ"
    assert field_value(html, "last_verified") == "31/03/2025"
    assert "Ask for &lt;Maria&gt;</textarea>" in html
    assert not is_checked(html, "active") and is_checked(html, "identity_required")
    assert set(procedures(portal)) == {"cao"}
    bad_key = admin.post(f"{PROCEDURES}/new", data=procedure_form(token, key="Bad key!"))
    assert bad_key.status_code == 400
    assert "The key may hold only small letters, digits and hyphens." in bad_key.get_data(
        as_text=True
    )
    assert events(portal, "registry.procedure_saved") == []


def test_mark_as_verified_sets_todays_date_and_is_audited(portal, admin):
    procedure = add_procedure(portal, "cao", "CAO")
    token = csrf_token(admin, PROCEDURES)

    response = admin.post(f"{PROCEDURES}/{procedure.id}/verified", data={"csrf_token": token})

    assert response.status_code == 302
    assert procedures(portal)["cao"].last_verified == today()
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "CAO was marked as verified today." in page
    assert "Not verified" not in page
    [event] = events(portal, "registry.procedure_verified")
    assert event.detail == str(procedure.id)
    missing = admin.post(f"{PROCEDURES}/{uuid.uuid4()}/verified", data={"csrf_token": token})
    assert missing.status_code == 404


def test_the_procedure_csv_round_trips_and_a_bad_one_changes_nothing(portal, admin):
    with portal.app.app_context(), portal.db as db:
        registry.load_starter_catalogue(db)
        db.commit()
    before = admin.get(f"{PROCEDURES}.csv")
    assert before.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert before.headers["Content-Disposition"] == "attachment; filename=procedures.csv"
    token = csrf_token(admin, PROCEDURES)

    response = upload(admin, f"{PROCEDURES}/import", token, before.data)

    assert response.status_code == 302
    count = len(procedures(portal))
    assert f"0 added, {count} updated" in admin.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert admin.get(f"{PROCEDURES}.csv").data == before.data
    broken = before.data.replace(b",ncp,", b",court,", 1) + b"new-one,ncp,,,,,,,,,,,\r\n"

    refused = upload(admin, f"{PROCEDURES}/import", token, broken)

    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Nothing was changed" in html
    lines = {int(n) for n in re.findall(r"Line (\d+):", html)}
    assert len(lines) == 2 and max(lines) == before.data.count(b"\r\n") + 1
    assert admin.get(f"{PROCEDURES}.csv").data == before.data
    assert [e.detail for e in events(portal, "registry.imported")] == ["procedures"]


# --- who may -----------------------------------------------------------------------------------


def registry_urls(company_id: uuid.UUID, procedure_id: uuid.UUID) -> list[tuple[str, str]]:
    return [
        ("GET", COMPANIES),
        ("GET", f"{COMPANIES}.csv"),
        ("GET", f"{COMPANIES}/{company_id}"),
        ("POST", f"{COMPANIES}/{company_id}"),
        ("POST", f"{COMPANIES}/new"),
        ("POST", f"{COMPANIES}/import"),
        ("GET", PROCEDURES),
        ("GET", f"{PROCEDURES}.csv"),
        ("GET", f"{PROCEDURES}/{procedure_id}"),
        ("POST", f"{PROCEDURES}/{procedure_id}"),
        ("POST", f"{PROCEDURES}/new"),
        ("POST", f"{PROCEDURES}/{procedure_id}/verified"),
        ("POST", f"{PROCEDURES}/import"),
    ]


def test_only_admins_reach_the_registry_pages(portal, client):
    company = add_company(portal, "Kivu Guards")
    procedure = add_procedure(portal, "cao", "CAO")
    portal.account("cw@example.org", Role.CASEWORKER)
    portal.account("sup@example.org", Role.SUPERVISOR)

    def form(token: str) -> dict[str, object]:
        """Everything any of the pages would take, with a valid token."""
        csv_text = ",".join(registry.COMPANY_COLUMNS) + "\r\nIntruder Co,member,,,\r\n"
        return {
            **company_form(token, name="Intruder Co"),
            **procedure_form(token, key="intruder"),
            "csv_file": (io.BytesIO(csv_text.encode()), "x.csv"),
        }

    for email in ("cw@example.org", "sup@example.org"):
        visitor = staff_client(portal, email)
        token = csrf_token(visitor, "/caseworker/account")
        assert "/caseworker/admin/companies" not in visitor.get("/caseworker/account").get_data(
            as_text=True
        )
        for method, url in registry_urls(company.id, procedure.id):
            if method == "GET":
                response = visitor.get(url)
            else:
                response = visitor.post(url, data=form(token), content_type="multipart/form-data")
            assert response.status_code == 404, (email, method, url, response.status_code)
    token = csrf_token(client, "/report")  # a valid token: it is the session that is missing
    for method, url in registry_urls(company.id, procedure.id):
        response = client.get(url) if method == "GET" else client.post(url, data=form(token))
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"] == "/sign-in"
    assert set(companies(portal)) == {"Kivu Guards"}
    assert set(procedures(portal)) == {"cao"} and procedures(portal)["cao"].last_verified is None


def test_a_change_without_a_csrf_token_is_refused_and_changes_nothing(portal, admin):
    company = add_company(portal, "Kivu Guards")
    procedure = add_procedure(portal, "cao", "CAO")
    csv_text = ",".join(registry.COMPANY_COLUMNS) + "\r\nIntruder Co,member,,,\r\n"
    posts = [
        (f"{COMPANIES}/new", company_form("", name="Intruder Co")),
        (f"{COMPANIES}/{company.id}", company_form("", name="Intruder Co")),
        (f"{PROCEDURES}/new", procedure_form("", key="intruder")),
        (f"{PROCEDURES}/{procedure.id}", procedure_form("", name="Intruder")),
        (f"{PROCEDURES}/{procedure.id}/verified", {}),
    ]
    for url, data in posts:
        data.pop("csrf_token", None)
        assert admin.post(url, data=data).status_code == 400, url
    for url in (f"{COMPANIES}/import", f"{PROCEDURES}/import"):
        assert upload(admin, url, None, csv_text.encode()).status_code == 400, url
    assert set(companies(portal)) == {"Kivu Guards"}
    after = procedures(portal)
    assert set(after) == {"cao"} and after["cao"].name == "CAO"
    assert after["cao"].last_verified is None
    with portal.db as db:
        actions = set(db.scalars(select(AuditEvent.action)))
    assert not {a for a in actions if a.startswith("registry.")}
