"""The case list: filters, counts per stage, sorting and pages, on a small seeded caseload.

Thirty demo cases are made through ``portal.demo_bulk`` (two with receipts), a few of them given
known dates, and every listing is checked against the same rule computed here from the rows.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal import dashboard, tallies
from portal.demo_bulk import make_demo_cases
from portal.models import Account, Case, CaseTopic, Role, StageTally, today
from portal.stages import Stage
from tests.conftest import Portal
from tests.functional.helpers import staff_client

WORKER = "worker@example.org"
COLLEAGUE = "colleague@example.org"
OUTSIDER = "outsider@example.org"
ROW = re.compile(r'<a href="/caseworker/cases/([0-9a-f-]{36})">([A-Z0-9]{4}-[A-Z0-9]{4})</a>')
STAGE_COUNT = re.compile(r'<span data-stage="([a-z_]+)">([^<]+)</span>')
NEXT_PAGE = re.compile(r'<a rel="next" href="([^"]+)"')


@dataclass(frozen=True)
class Row:
    """What a test needs of a case to say whether a filter should keep it."""

    reference: str
    stage: str
    received_on: date
    next_due_on: date | None
    urgent: bool
    assigned_to_id: uuid.UUID | None
    language: str
    country: str | None
    company_id: uuid.UUID | None
    channel: str
    topics: frozenset[str]


@dataclass(frozen=True)
class Caseload:
    rows: list[Row]
    worker_id: uuid.UUID


@pytest.fixture
def caseload(portal: Portal) -> Caseload:
    """Thirty cases granted to WORKER and COLLEAGUE (both assignees), none to OUTSIDER."""
    worker = portal.account(WORKER)
    portal.account(COLLEAGUE)
    portal.account(OUTSIDER, intake=False)
    on = today()
    with portal.app.app_context(), portal.db as db:
        make_demo_cases(
            db, portal.keyring, portal.settings, portal.data_dir, 30, receipts=2, seed=7
        )
        ids = list(db.scalars(select(Case.id).order_by(Case.reference)))
        # Known dates, so that each due-date filter keeps some cases and leaves others.
        known = {
            ids[0]: {"stage": Stage.ASSESSMENT.value, "next_due_on": on - timedelta(days=3)},
            ids[1]: {"stage": Stage.REVIEW.value, "next_due_on": on},
            ids[2]: {"stage": Stage.CLOSED.value, "next_due_on": on - timedelta(days=9)},
            ids[3]: {"stage": Stage.REFERRED_COMPANY.value, "next_due_on": on + timedelta(days=40)},
            ids[4]: {"stage": Stage.CLOSED.value, "next_due_on": None},
            ids[5]: {"stage": Stage.RECEIVED.value, "next_due_on": dashboard.week_end(on)},
        }
        for case_id, values in known.items():
            db.execute(update(Case).where(Case.id == case_id).values(**values))
        db.commit()
        topics: dict[uuid.UUID, set[str]] = {}
        for case_id, topic in db.execute(select(CaseTopic.case_id, CaseTopic.topic)):
            topics.setdefault(case_id, set()).add(topic)
        rows = [
            Row(
                reference=case.reference,
                stage=case.stage,
                received_on=case.received_on,
                next_due_on=case.next_due_on,
                urgent=case.urgent,
                assigned_to_id=case.assigned_to_id,
                language=case.language,
                country=case.country,
                company_id=case.company_id,
                channel=case.channel,
                topics=frozenset(topics.get(case.id, set())),
            )
            for case in db.scalars(select(Case))
        ]
    assert len(rows) == 30
    return Caseload(rows=rows, worker_id=worker.id)


@pytest.fixture
def worker(portal: Portal, caseload: Caseload) -> FlaskClient:
    return staff_client(portal, WORKER)


def page(client: FlaskClient, query: str = "") -> str:
    response = client.get("/caseworker/cases" + query)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def references(html: str) -> list[str]:
    return [reference for _case_id, reference in ROW.findall(html)]


def stage_counts(html: str) -> dict[str, str]:
    return dict(STAGE_COUNT.findall(html))


def expected_counts(rows: list[Row]) -> dict[str, str]:
    return {stage.value: str(sum(row.stage == stage.value for row in rows)) for stage in Stage}


def most_common(values: list[object]) -> object:
    """The most frequent value, None left out (ties broken by text, so runs agree)."""
    present = [value for value in values if value is not None]
    return max(sorted(set(present), key=str), key=present.count)


def _late(row: Row, on: date) -> bool:
    """The overdue rule: due before ``on`` and not closed."""
    return row.next_due_on is not None and row.next_due_on < on and row.stage != Stage.CLOSED.value


# A filter: its query string (from the caseload) and the rule it stands for.
FilterCase = Callable[[Caseload], tuple[str, Callable[[Row], bool]]]


def _by_value(name: str, attribute: str) -> FilterCase:
    def make(load: Caseload) -> tuple[str, Callable[[Row], bool]]:
        value = most_common([getattr(row, attribute) for row in load.rows])
        assert value is not None
        return f"{name}={value}", lambda row: getattr(row, attribute) == value

    return make


def _topic(load: Caseload) -> tuple[str, Callable[[Row], bool]]:
    topic = most_common([topic for row in load.rows for topic in row.topics])
    return f"topic={topic}", lambda row: topic in row.topics


def _overdue(load: Caseload) -> tuple[str, Callable[[Row], bool]]:
    on = today()
    return "due=overdue", lambda row: _late(row, on)


def _this_week(load: Caseload) -> tuple[str, Callable[[Row], bool]]:
    on = today()
    end = dashboard.week_end(on)
    return (
        "due=week",
        lambda row: (
            row.next_due_on is not None
            and on <= row.next_due_on <= end
            and row.stage != Stage.CLOSED.value
        ),
    )


def _urgent(load: Caseload) -> tuple[str, Callable[[Row], bool]]:
    return "urgent=1", lambda row: row.urgent


def _mine(load: Caseload) -> tuple[str, Callable[[Row], bool]]:
    return "assigned=me", lambda row: row.assigned_to_id == load.worker_id


def _nobody(load: Caseload) -> tuple[str, Callable[[Row], bool]]:
    return "assigned=nobody", lambda row: row.assigned_to_id is None


def _stage(load: Caseload) -> tuple[str, Callable[[Row], bool]]:
    stage = most_common([row.stage for row in load.rows])
    return f"stage={stage}", lambda row: row.stage == stage


FILTERS: dict[str, FilterCase] = {
    "stage": _stage,
    "overdue": _overdue,
    "due this week": _this_week,
    "urgent": _urgent,
    "assigned to me": _mine,
    "unassigned": _nobody,
    "language": _by_value("language", "language"),
    "country": _by_value("country", "country"),
    "company": _by_value("company", "company_id"),
    "topic": _topic,
    "channel": _by_value("channel", "channel"),
}


def test_lists_every_visible_case_with_its_count_per_stage(
    worker: FlaskClient, caseload: Caseload
) -> None:
    html = page(worker)

    assert sorted(references(html)) == sorted(row.reference for row in caseload.rows)
    assert stage_counts(html) == expected_counts(caseload.rows)
    assert "30 cases" in html


@pytest.mark.parametrize("name", list(FILTERS))
def test_each_filter_keeps_exactly_the_cases_it_names(
    worker: FlaskClient, caseload: Caseload, name: str
) -> None:
    query, rule = FILTERS[name](caseload)
    kept = {row.reference for row in caseload.rows if rule(row)}
    # The filter can fail: it keeps some cases and leaves out others.
    assert kept and len(kept) < len(caseload.rows), (name, len(kept))

    html = page(worker, "?" + query)
    counted_html = page(worker, "?" + query + "&count=all")

    assert set(references(html)) == kept
    assert len(references(html)) == len(kept)
    # Fewer than a page: how many match is known exactly either way.
    assert f"{len(kept)} case" in html
    # The counts per stage are of every case, read from the kept tallies ...
    assert stage_counts(html) == expected_counts(caseload.rows)
    # ... unless the caseworker asks to count the matching ones: every filter but the stage.
    counted = caseload.rows if name == "stage" else [row for row in caseload.rows if rule(row)]
    assert stage_counts(counted_html) == expected_counts(counted)
    assert set(references(counted_html)) == kept
    if name != "stage":
        assert "These counts are of all your cases" in html
        assert "These counts are of the cases that match the filters." in counted_html


def test_filters_combine(worker: FlaskClient, caseload: Caseload) -> None:
    language_query, by_language = FILTERS["language"](caseload)
    stage = most_common([row.stage for row in caseload.rows if by_language(row)])
    kept = {row.reference for row in caseload.rows if by_language(row) and row.stage == stage}

    html = page(worker, f"?{language_query}&stage={stage}&count=all")

    assert set(references(html)) == kept
    assert stage_counts(html) == expected_counts([r for r in caseload.rows if by_language(r)])


def test_a_filter_that_matches_nothing_says_so(worker: FlaskClient, caseload: Caseload) -> None:
    absent = next(
        code for code in ("ZW", "IS", "NZ") if code not in {row.country for row in caseload.rows}
    )

    html = page(worker, f"?country={absent}")

    assert references(html) == []
    assert "No case matches these filters." in html
    assert "0 cases" in html
    assert set(stage_counts(page(worker, f"?country={absent}&count=all")).values()) == {"0"}


def test_unknown_values_are_ignored(worker: FlaskClient, caseload: Caseload) -> None:
    html = page(worker, "?stage=nonsense&language=xx&company=not-a-uuid&topic=<b>&page=-4")

    assert len(references(html)) == 30
    assert "<b>" not in html


def test_an_account_without_grants_sees_no_case(portal: Portal, caseload: Caseload) -> None:
    outsider = staff_client(portal, OUTSIDER)

    for query in ("", "?due=overdue", "?count=all", "?assigned=nobody&sort=oldest"):
        html = page(outsider, query)
        assert references(html) == []
        assert set(stage_counts(html).values()) == {"0"}
    assert "There are no cases for you yet." in page(outsider)
    for row in caseload.rows:
        assert row.reference not in page(outsider)


def test_a_company_account_may_not_open_the_list(portal: Portal, caseload: Caseload) -> None:
    portal.account("company@example.org", Role.COMPANY, intake=False)
    client = staff_client(portal, "company@example.org")

    assert client.get("/caseworker/cases").status_code == 404


def test_without_a_session_the_list_sends_to_sign_in(
    client: FlaskClient, caseload: Caseload
) -> None:
    response = client.get("/caseworker/cases?urgent=1")

    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def _expected_order(rows: list[Row], sort: str) -> list[str]:
    if sort == "oldest":
        return [r.reference for r in sorted(rows, key=lambda r: (r.received_on, r.reference))]
    if sort == "newest":
        by_reference = sorted(rows, key=lambda r: r.reference)
        return [
            r.reference for r in sorted(by_reference, key=lambda r: r.received_on, reverse=True)
        ]
    dated = sorted(
        (r for r in rows if r.next_due_on is not None), key=lambda r: (r.next_due_on, r.reference)
    )
    undated = sorted((r for r in rows if r.next_due_on is None), key=lambda r: r.reference)
    undated.sort(key=lambda r: r.received_on, reverse=True)
    return [r.reference for r in dated + undated]


@pytest.mark.parametrize("sort", ["due", "oldest", "newest"])
def test_sort_orders(worker: FlaskClient, caseload: Caseload, sort: str) -> None:
    html = page(worker, f"?sort={sort}")

    assert references(html) == _expected_order(caseload.rows, sort)


def test_due_date_order_is_the_default(worker: FlaskClient, caseload: Caseload) -> None:
    assert references(page(worker)) == _expected_order(caseload.rows, "due")


def _walk(client: FlaskClient, query: str) -> tuple[list[str], list[str]]:
    """Follow "Next page" from the first page; return the references and the URLs visited."""
    seen: list[str] = []
    urls = ["/caseworker/cases" + query]
    while True:
        response = client.get(urls[-1])
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        seen += references(html)
        found = NEXT_PAGE.search(html)
        if not found:
            return seen, urls
        urls.append(found.group(1).replace("&amp;", "&"))
        assert len(urls) < 50


@pytest.mark.parametrize("sort", ["due", "oldest", "newest"])
def test_pages_keep_the_filters_and_the_order(
    worker: FlaskClient, caseload: Caseload, monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    monkeypatch.setattr(dashboard, "PAGE_SIZE", 4)
    language_query, by_language = FILTERS["language"](caseload)
    kept = [row for row in caseload.rows if by_language(row)]
    assert len(kept) > 4

    seen, urls = _walk(worker, f"?{language_query}&sort={sort}")

    assert seen == _expected_order(kept, sort)
    assert len(urls) == -(-len(kept) // 4)
    for url in urls[1:]:
        args = parse_qs(urlsplit(url).query)
        assert f"language={args['language'][0]}" == language_query
        assert args.get("sort", ["due"]) == [sort]


def test_the_due_date_order_pages_across_cases_without_a_due_date(
    worker: FlaskClient, caseload: Caseload, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "PAGE_SIZE", 3)
    dated = sum(row.next_due_on is not None for row in caseload.rows)
    assert 0 < dated < 30

    seen, _urls = _walk(worker, "")

    assert seen == _expected_order(caseload.rows, "due")
    # A page wholly past the dated cases (reached by its number) starts at the right one.
    last_dated_page = -(-dated // 3)
    html = page(worker, f"?page={last_dated_page + 1}")
    start = last_dated_page * 3
    assert references(html) == _expected_order(caseload.rows, "due")[start : start + 3]


def test_a_page_past_the_end_shows_the_last_one(worker: FlaskClient, caseload: Caseload) -> None:
    html = page(worker, "?page=7")

    assert len(references(html)) == 30


def test_page_links_keep_the_language(
    worker: FlaskClient, caseload: Caseload, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "PAGE_SIZE", 10)

    html = page(worker, "?lang=fr&urgent=1&sort=oldest")
    html_all = page(worker, "?lang=fr")

    found = NEXT_PAGE.search(html_all)
    assert found
    args = parse_qs(urlsplit(found.group(1).replace("&amp;", "&")).query)
    assert args["lang"] == ["fr"]
    assert '<input type="hidden" name="lang" value="fr">' in html


def test_overdue_dates_are_highlighted(worker: FlaskClient, caseload: Caseload) -> None:
    html = page(worker)
    on = today()

    for row in caseload.rows:
        cells = re.search(rf">{row.reference}</a>.*?</tr>", html, re.S)
        assert cells, row.reference
        assert ('class="overdue"' in cells.group(0)) is _late(row, on), row


def test_with_more_matches_than_a_page_the_total_is_a_lower_bound_until_the_last_page(
    worker: FlaskClient, caseload: Caseload, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "PAGE_SIZE", 4)
    query, rule = FILTERS["unassigned"](caseload)
    kept = [row for row in caseload.rows if rule(row)]
    assert len(kept) > 8, len(kept)
    last = -(-len(kept) // 4)

    first = page(worker, "?" + query)
    final = page(worker, f"?{query}&page={last}")
    counted = page(worker, f"?{query}&count=all")

    assert "More than 4 cases" in first
    assert "Page 1 of" not in first and "Page 1" in first
    assert f"{len(kept)} cases" in final
    assert f"{len(kept)} cases" in counted
    assert f"Page 1 of {last}" in counted


def test_the_counts_come_from_the_kept_tallies(
    portal: Portal, worker: FlaskClient, caseload: Caseload
) -> None:
    """The counts shown are the stored tallies (not a count at view time): prove it by
    changing a tally behind the portal's back, then putting it right with a recount."""
    with portal.db as db:
        db.execute(
            update(StageTally)
            .where(StageTally.account_id == caseload.worker_id, StageTally.stage == "closed")
            .values(cases=StageTally.cases + 1000)
        )
        db.commit()
    shown = stage_counts(page(worker))["closed"]
    with portal.db as db:
        tallies.recount(db)
        db.commit()

    assert int(shown.replace(",", "")) == int(expected_counts(caseload.rows)["closed"]) + 1000
    assert stage_counts(page(worker)) == expected_counts(caseload.rows)


def test_the_form_is_plain_html_with_a_label_for_every_field(
    worker: FlaskClient, caseload: Caseload
) -> None:
    html = page(worker, "?urgent=1&language=es&sort=newest")

    form = re.search(r'<form method="get" action="/caseworker/cases".*?</form>', html, re.S)
    assert form
    fields = re.findall(r'<(?:select|input) [^>]*id="([^"]+)"', form.group(0))
    assert {"filter-stage", "filter-due", "filter-urgent", "filter-assigned"} <= set(fields)
    for field_id in fields:
        assert f'<label for="{field_id}">' in form.group(0), field_id
    assert 'id="filter-urgent" name="urgent" value="1" checked' in form.group(0)
    assert '<option value="es" selected>' in form.group(0)
    assert '<option value="newest" selected>' in form.group(0)
    assert "<script" not in html


def test_the_list_names_the_assignee(
    portal: Portal, worker: FlaskClient, caseload: Caseload
) -> None:
    html = page(worker, "?assigned=me")
    with portal.db as db:
        colleague = db.scalar(select(Account).where(Account.email == COLLEAGUE))
    assert colleague is not None
    theirs = [row for row in caseload.rows if row.assigned_to_id == colleague.id]

    assert "<td>Me</td>" in html
    if theirs:
        assert colleague.display_name in page(worker, "?sort=oldest&count=all")
