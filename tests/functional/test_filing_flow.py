"""The public filing walked as a browser would: steps, Back and Change links, the one required
answer, the receipt, the draft and its cookie, and which answers stay readable once sent."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

import crypto
from portal import vault
from portal.models import (
    Base,
    Case,
    CaseTopic,
    Company,
    CompartmentKind,
    Draft,
    Grant,
    Record,
    RecordKind,
    utcnow,
)
from portal.uploads import STAGED_SUFFIX
from tests.functional.helpers import compartment_of, count, files_under, only_case_id, record_of
from tests.support.filing import (
    DEFAULT_ANSWERS,
    RECEIPT,
    add_files,
    answer,
    begin,
    file_complaint,
    token_from,
)

STEPS = ("who", "what", "safety", "remedy", "contact", "evidence", "check")
FORM_STEPS = STEPS[:5]
RECOVERY = crypto.WrapPurpose.RECOVERY


class Page(HTMLParser):
    """Every start tag with its attributes and its ancestors' attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict, list[dict]]] = []
        self._open: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append((tag, dict(attrs), [a for _, a in self._open]))
        if tag not in ("input", "br", "meta", "link", "img", "hr"):
            self._open.append((tag, dict(attrs)))

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        while self._open and self._open.pop()[0] != tag:
            pass

    def find(self, tag: str, **wanted: str) -> list[dict]:
        matches = [a for t, a, _ in self.tags if t == tag]
        return [a for a in matches if all(a.get(k) == v for k, v in wanted.items())]


def page_of(client, path: str) -> tuple[str, Page]:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True), Page(response.get_data(as_text=True))


def path_and_query(url: str) -> tuple[str, dict[str, list[str]]]:
    return urlsplit(url).path, parse_qs(urlsplit(url).query)


def fill_all_steps(client) -> None:  # type: ignore[no-untyped-def]
    begin(client)
    for step in FORM_STEPS:
        assert answer(client, step, DEFAULT_ANSWERS[step]).status_code == 302, step
    assert add_files(client, []).status_code == 302


def send_response(client):  # type: ignore[no-untyped-def]
    return client.post("/report/send", data={"csrf_token": token_from(client, "/report/who")})


def recovered(portal, kind: CompartmentKind, record_kind: RecordKind) -> dict:  # type: ignore[no-untyped-def]
    """The only case's record, opened with the recovery key as an administrator could."""
    case_id = only_case_id(portal)
    compartment = compartment_of(portal, case_id, kind)
    with portal.db as db:
        grant = db.scalar(
            select(Grant).where(Grant.compartment_id == compartment.id, Grant.holder == "recovery")
        )
    key = crypto.open_grant(
        grant.wrap, portal.recovery_key, compartment.id, compartment.public_key, RECOVERY
    )
    record = record_of(portal, case_id, record_kind)
    assert record.compartment_id == compartment.id
    return json.loads(vault.open_record(key, record))


def the_case(portal) -> Case:  # type: ignore[no-untyped-def]
    with portal.db as db:
        case = db.get(Case, only_case_id(portal))
    assert case is not None
    return case


def stored_values(portal, only: str | None = None) -> list[tuple[str, str, bytes]]:  # type: ignore[no-untyped-def]
    """(table, column, value as bytes) for every row of every table, or of one table."""
    with portal.db as db:
        return [
            (table.name, column, value if isinstance(value, bytes) else str(value).encode())
            for table in Base.metadata.sorted_tables
            if only in (None, table.name)
            for row in db.execute(select(table)).mappings()
            for column, value in row.items()
        ]


# Steps, Back, going back and Change


def test_each_page_says_which_step_of_eight_it_is(client):
    begin(client)
    assert "Step 1 of 8" in page_of(client, "/report")[0]
    for number, step in enumerate(STEPS, start=2):
        assert f"Step {number} of 8" in page_of(client, f"/report/{step}")[0], step


def test_back_links_lead_to_the_previous_step(client):
    begin(client)
    for previous, step in zip(("report", *(f"report/{s}" for s in STEPS)), STEPS, strict=False):
        (back,) = page_of(client, f"/report/{step}")[1].find("a", **{"class": "back"})
        assert path_and_query(back["href"])[0] == f"/{previous}", step


def test_going_back_shows_what_was_saved(client):
    begin(client)
    answer(client, "who", {"filer": "for_other", "relationship": "my cousin Amina"})
    answer(client, "what", {"what_happened": "Guards beat him", "topics": ["detention"]})
    _, who = page_of(client, "/report/who")
    checked = [a["value"] for a in who.find("input", name="filer") if "checked" in a]
    assert checked == ["for_other"]
    assert who.find("input", name="relationship")[0]["value"] == "my cousin Amina"
    html, what = page_of(client, "/report/what")
    assert re.search(r'name="what_happened"[^>]*>\s*Guards beat him</textarea>', html)
    assert [a["value"] for a in what.find("input", name="topics") if "checked" in a] == [
        "detention"
    ]


def test_a_change_link_returns_to_the_check_page_after_saving(client):
    fill_all_steps(client)
    _, check = page_of(client, "/report/check")
    hrefs = [a["href"] for a in check.find("a") if a.get("href", "").startswith("/report/safety")]
    assert path_and_query(hrefs[0])[1]["return"] == ["check"]
    _, safety = page_of(client, hrefs[0].split("#")[0])
    (form,) = safety.find("form", method="post")
    assert path_and_query(form["action"])[1]["return"] == ["check"]
    token = token_from(client, hrefs[0].split("#")[0])
    response = client.post(form["action"], data={"csrf_token": token, "fear": "They know me"})
    assert response.status_code == 302
    assert path_and_query(response.headers["Location"])[0] == "/report/check"
    assert "They know me" in page_of(client, "/report/check")[0]


def test_the_check_page_shows_every_answer_with_its_change_link(client):
    fill_all_steps(client)
    html, check = page_of(client, "/report/check")
    for text in ("They beat him at the gate", "North gate", "Acme Guards", "Use of force"):
        assert text in html
    change_links = [
        attrs["href"]
        for tag, attrs, parents in check.tags
        if tag == "a" and any(p.get("class") == "change" for p in parents)
    ]
    assert len(change_links) == len(check.find("dt")) > 10
    steps = {path_and_query(href)[0] for href in change_links}
    assert steps == {f"/report/{step}" for step in FORM_STEPS}
    assert all(path_and_query(href)[1]["return"] == ["check"] for href in change_links)


# Only "what happened" is required


def empty_form(page: Page) -> dict[str, str]:
    """What a browser sends for a step left untouched: empty text and selects, no ticks."""
    fields = [*page.find("textarea"), *page.find("select"), *page.find("input")]
    unticked = {"radio", "checkbox", "hidden"}
    return {a["name"]: "" for a in fields if a.get("type") not in unticked}


@pytest.mark.parametrize("style", ["every step sent empty", "fields left out entirely"])
def test_what_happened_alone_is_enough_to_file(portal, client, style):
    begin(client)
    for step in FORM_STEPS:
        _, page = page_of(client, f"/report/{step}")
        data = empty_form(page) if style.startswith("every") else {}
        assert style.startswith("fields") or data
        if step == "what":
            data["what_happened"] = "Only this"
        response = answer(client, step, data)
        assert response.status_code == 302, (step, response.get_data(as_text=True)[:2000])
    assert add_files(client, []).status_code == 302
    response = send_response(client)
    assert response.status_code == 200
    assert RECEIPT.search(response.get_data(as_text=True))
    answers = recovered(portal, CompartmentKind.CASE, RecordKind.ANSWERS)
    assert answers == {"what_happened": "Only this"}


def test_an_empty_value_for_a_tick_box_question_counts_as_no_answer(client):
    begin(client)
    assert answer(client, "what", {"what_happened": "x", "topics": ""}).status_code == 302
    assert answer(client, "remedy", {"remedies": "", "complained_elsewhere": ""}).status_code == 302


def test_without_what_happened_nothing_can_be_sent(portal, client):
    begin(client)
    answer(client, "who", {"filer": "self"})
    _, check = page_of(client, "/report/check")
    assert not [f for f in check.find("form") if f["action"].startswith("/report/send")]
    assert any(a["href"].startswith("/report/what") for a in check.find("a"))
    response = send_response(client)
    assert response.status_code == 302
    assert path_and_query(response.headers["Location"])[0] == "/report/what"
    assert count(portal, Case) == 0
    assert count(portal, Draft) == 1


# The receipt and finishing


def test_the_receipt_is_five_groups_of_four_digits_kept_left_to_right(client):
    fill_all_steps(client)
    html = send_response(client).get_data(as_text=True)
    ((_, attrs, parents),) = [t for t in Page(html).tags if t[1].get("id") == "receipt"]
    inside_body = [attrs, *parents[1:]]  # parents[0] is <html>, "ltr" in English anyway
    assert any(a.get("dir") == "ltr" for a in inside_body)
    shown = RECEIPT.search(html).group(1).strip()
    assert re.fullmatch(r"\d{4}( \d{4}){4}", shown)
    assert crypto.normalize_receipt(shown) == shown.replace(" ", "")


def test_finish_needs_the_written_down_box(client):
    receipt = file_complaint(client)
    token = token_from(client, "/report")
    form = {"csrf_token": token, "receipt": receipt}
    refused = client.post("/report/finish", data=form)
    assert refused.status_code == 400
    assert RECEIPT.search(refused.get_data(as_text=True)).group(1) == receipt
    assert 'id="written_down"' in refused.get_data(as_text=True)
    finished = client.post("/report/finish", data={**form, "written_down": "yes"})
    assert finished.status_code == 200
    assert "Thank you" in finished.get_data(as_text=True)
    assert 'id="receipt"' not in finished.get_data(as_text=True)


# The draft and its cookie


def cookie_attributes(response, name: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    _, *parts = [part.strip() for part in header.split(";")]
    return {key.lower(): value for key, _, value in (part.partition("=") for part in parts)}


def test_no_cookie_before_the_reporter_presses_start(client):
    assert client.get("/").headers.getlist("Set-Cookie") == []
    assert client.get_cookie("draft") is None
    report = client.get("/report")
    assert not [h for h in report.headers.getlist("Set-Cookie") if h.startswith("draft=")]


def test_the_form_cookie_of_the_first_form_is_strict_and_expires(client):
    """The start button needs a CSRF token, and so a cookie: it is HttpOnly, strict, and
    expires within a few hours instead of living as long as the browser."""
    cookies = client.get("/report").headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith("form=")
    header = cookies[0].lower()
    assert "httponly" in header and "samesite=strict" in header
    assert "expires=" in header


def test_start_sets_a_strict_httponly_draft_cookie_for_an_hour_at_most(client):
    token = token_from(client, "/report")
    response = client.post("/report", data={"csrf_token": token})
    assert response.status_code == 302
    attributes = cookie_attributes(response, "draft")
    assert "httponly" in attributes
    assert attributes["samesite"] == "Strict"
    assert 0 < int(attributes["max-age"]) <= 3600
    assert len(base64.urlsafe_b64decode(client.get_cookie("draft").value)) == 32


def test_sending_deletes_the_draft_and_clears_its_cookie(portal, client):
    fill_all_steps(client)
    assert count(portal, Draft) == 1
    response = send_response(client)
    assert response.status_code == 200
    assert cookie_attributes(response, "draft")["max-age"] == "0"
    assert client.get_cookie("draft") is None
    assert count(portal, Draft) == 0
    assert count(portal, Case) == 1


def test_an_expired_draft_is_cleared_with_its_staged_files(portal, client):
    begin(client)
    answer(client, "what", {"what_happened": "Kept for an hour only"})
    assert add_files(client, [("photo.jpg", b"\xff\xd8" * 5000)], action="add").status_code == 302
    staged = [p for p in files_under(portal.data_dir.incoming) if p.name.endswith(STAGED_SUFFIX)]
    assert len(staged) == 1
    with portal.db as db:
        db.execute(update(Draft).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.commit()

    response = client.get("/report/what")
    assert response.status_code == 200
    assert "Your answers were cleared" in response.get_data(as_text=True)
    assert "Kept for an hour only" not in response.get_data(as_text=True)
    assert count(portal, Draft) == 0
    assert not staged[0].exists()


def test_the_draft_keeps_what_was_typed_only_encrypted(portal, client):
    canary = "canary-7f3a9 Amina was taken at night"
    begin(client)
    answer(client, "what", {"what_happened": canary})
    values = stored_values(portal, "drafts")
    assert {column for _, column, _ in values} == {"id", "ciphertext", "expires_at"}
    for needle in (canary.encode(), canary.encode("utf-16-le"), b"canary-7f3a9"):
        assert [(t, c) for t, c, value in values if needle in value] == []
    token = base64.urlsafe_b64decode(client.get_cookie("draft").value)
    with portal.db as db:
        (row,) = db.scalars(select(Draft)).all()
    assert row.id == crypto.draft_lookup_id(token)
    assert canary in crypto.open_draft(token, row.ciphertext).decode()


# What stays readable once sent


@pytest.mark.parametrize(("danger", "urgent"), [("yes", True), ("no", False), ("dont_know", False)])
def test_danger_now_marks_the_case_urgent(portal, client, danger, urgent):
    file_complaint(client, answers={"safety": {"danger_now": danger}})
    assert the_case(portal).urgent is urgent


def test_topics_become_case_topic_rows(portal, client):
    file_complaint(client, answers={"what": {"topics": ["detention", "use_of_force"]}})
    with portal.db as db:
        rows = db.scalars(select(CaseTopic).where(CaseTopic.case_id == only_case_id(portal)))
        topics = {row.topic for row in rows}
    assert topics == {"detention", "use_of_force"}


def test_a_member_company_from_the_list_is_stored_as_its_id(portal, client):
    with portal.db as db:
        company = Company(name="Shield Guarding Ltd")
        db.add(company)
        db.commit()
    file_complaint(client, answers={"what": {"company": str(company.id), "company_other": ""}})
    assert the_case(portal).company_id == company.id


def test_another_company_is_named_only_inside_the_encrypted_answers(portal, client):
    file_complaint(client, answers={"what": {"company": "other", "company_other": "Zq Guards"}})
    assert the_case(portal).company_id is None
    assert [(t, c) for t, c, value in stored_values(portal) if b"Zq Guards" in value] == []
    answers = recovered(portal, CompartmentKind.CASE, RecordKind.ANSWERS)
    assert answers["company_other"] == "Zq Guards"


@pytest.mark.parametrize(("filer", "kind"), [("witness", "evidence"), ("self", "harm")])
def test_a_witness_files_evidence_and_others_file_harm(portal, client, filer, kind):
    file_complaint(client, answers={"who": {"filer": filer}})
    assert (the_case(portal).kind, the_case(portal).filer) == (kind, filer)


CONTACT = {"name": "Josephine Mbeki", "phone": "+243 81 000 0000", "preferred_contact": "phone"}


def test_a_confidential_name_is_sealed_apart_from_the_answers(portal, client):
    file_complaint(client, answers={"contact": {"contact_mode": "confidential", **CONTACT}})
    assert the_case(portal).channel == "confidential"
    identity = recovered(portal, CompartmentKind.IDENTITY, RecordKind.IDENTITY)
    assert identity == CONTACT
    answers = recovered(portal, CompartmentKind.CASE, RecordKind.ANSWERS)
    assert answers["contact_mode"] == "confidential"
    assert "Josephine" not in json.dumps(answers) and "+243" not in json.dumps(answers)


def test_an_anonymous_filing_keeps_no_identity_even_if_a_name_was_typed(portal, client):
    file_complaint(client, answers={"contact": {"contact_mode": "anonymous", **CONTACT}})
    assert the_case(portal).channel == "anonymous"
    with portal.db as db:
        kinds = set(db.scalars(select(Record.kind).where(Record.case_id == only_case_id(portal))))
    assert RecordKind.IDENTITY.value not in kinds
    answers = recovered(portal, CompartmentKind.CASE, RecordKind.ANSWERS)
    assert "Josephine" not in json.dumps(answers)
