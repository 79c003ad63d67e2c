"""Statistics and the public figures page, on a small caseload counted by hand.

Fourteen cases are written straight into the database with their clear metadata (no
compartments, nothing sealed: statistics never decrypt): twelve received in 2024, one in late
2023 and one in early 2025, with the stage moves, referrals, remedies, answers and reprisals
below. Every figure for 2024 is checked against the number worked out by hand in a comment.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import uuid
from datetime import date, datetime, time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import statistics
from portal.models import (
    AuditEvent,
    Case,
    CaseTopic,
    Commitment,
    Company,
    Compartment,
    Procedure,
    Record,
    Referral,
    Remedy,
    RemedyFeedback,
    Reprisal,
    Role,
    SiteOption,
    StageEvent,
)
from portal.statistics import Cell, Period, State
from tests.conftest import Portal, csrf_token
from tests.functional.helpers import staff_client

ADMIN = "admin@example.org"
SUPERVISOR = "supervisor@example.org"
WORKER = "worker@example.org"
OFFICER = "officer@alpha.example"
YEAR = Period(date(2024, 1, 1), date(2024, 12, 31))
GAMMA = "=Gamma <Patrol> & Co"  # a former member, named to try the CSV and the escaping

# name: (received_on, kind, company, country, channel, language, topics)
CASES = {
    "X0": (date(2023, 12, 28), "harm", "alpha", "KE", "anonymous", "en", ["use_of_force"]),
    "C1": (date(2024, 1, 10), "harm", "alpha", "KE", "anonymous", "sw", ["use_of_force"]),
    "C2": (
        date(2024, 1, 15),
        "evidence",
        "alpha",
        "KE",
        "confidential",
        "en",
        ["use_of_force", "weapons"],
    ),
    "C3": (date(2024, 2, 3), "harm", "alpha", "KE", "anonymous", "sw", ["detention"]),
    "C4": (date(2024, 2, 20), "harm", "beta", "IQ", "anonymous", "ar", ["use_of_force"]),
    "C5": (
        date(2024, 3, 5),
        "evidence",
        "beta",
        "IQ",
        "intermediary",
        "ar",
        ["working_conditions"],
    ),
    "C6": (date(2024, 3, 6), "harm", "gamma", "KE", "anonymous", "en", ["use_of_force"]),
    "C7": (date(2024, 3, 7), "harm", None, "KE", "anonymous", "sw", ["use_of_force"]),
    "C8": (date(2024, 5, 1), "harm", "alpha", "KE", "staff_recorded", "en", ["detention"]),
    "C9": (date(2024, 6, 12), "evidence", "alpha", "MZ", "anonymous", "pt", ["weapons"]),
    "C10": (date(2024, 6, 13), "harm", "alpha", "KE", "anonymous", "sw", ["use_of_force"]),
    "C11": (date(2024, 9, 9), "harm", "beta", None, "confidential", "fr", []),
    "C12": (date(2024, 12, 30), "harm", "alpha", "KE", "anonymous", "en", ["use_of_force"]),
    "X1": (date(2025, 1, 2), "harm", "alpha", "KE", "anonymous", "en", ["use_of_force"]),
}
# Moves to "acknowledged" (C10 twice: the first one counts) and to "closed".
ACKNOWLEDGED = {
    "X0": [date(2024, 1, 2)],
    "C1": [date(2024, 1, 12)],
    "C2": [date(2024, 1, 25)],
    "C3": [date(2024, 2, 10)],
    "C4": [date(2024, 2, 28)],
    "C5": [date(2024, 3, 6)],
    "C6": [date(2024, 3, 8)],
    "C8": [date(2024, 5, 1)],
    "C9": [date(2024, 6, 15)],
    "C10": [date(2024, 7, 30), date(2024, 6, 14)],
    "C11": [date(2024, 9, 20)],
    "C12": [date(2025, 1, 6)],
}
CLOSED = {
    "X0": date(2024, 2, 27),
    "C1": date(2024, 4, 10),
    "C3": date(2024, 3, 15),
    "C4": date(2024, 6, 1),
    "C6": date(2025, 2, 1),
    "C8": date(2024, 5, 1),
}
# (case, to, status, sent_on, answered_on, closed_on)
REFERRALS = [
    ("X0", "alpha", "answered", date(2024, 1, 20), date(2024, 2, 19), None),
    ("C1", "alpha", "answered", date(2024, 2, 1), date(2024, 2, 21), None),
    ("C2", "alpha", "closed", date(2024, 2, 10), None, date(2024, 3, 11)),
    ("C2", "ncp", "answered", date(2024, 3, 1), date(2024, 4, 30), None),
    ("C3", "alpha", "sent", date(2024, 3, 1), None, None),
    ("C4", "beta", "answered", date(2024, 3, 15), date(2024, 3, 25), None),
    ("C5", "nhri", "answered", date(2024, 4, 1), date(2024, 5, 1), None),
    ("C6", "ncp", "answered", date(2024, 12, 20), date(2025, 1, 15), None),
    ("C8", "alpha", "answered", date(2024, 5, 20), date(2024, 6, 4), None),
    ("C9", "alpha", "answered", date(2024, 7, 1), date(2024, 7, 8), None),
    ("C10", "alpha", "answered", date(2024, 7, 1), date(2024, 7, 31), None),
    ("C11", "beta", "ready", None, None, None),
    ("C12", "alpha", "sent", date(2025, 1, 10), None, None),
]
# remedy: (case, created_on, statuses of its commitments)
REMEDIES = {
    "M1": ("C1", date(2024, 3, 1), ["verified", "implemented", "proposed"]),
    "M2": ("C4", date(2024, 4, 1), ["verified", "not_implemented", "in_progress"]),
    "M3": ("X0", date(2023, 12, 30), ["verified"]),
    "M4": ("C8", date(2024, 7, 1), ["agreed"]),
}
# (remedy, commitment index, round, happened, satisfied, answered_on)
FEEDBACK = [
    ("M1", 0, "closure", "yes", "yes", date(2024, 5, 1)),
    ("M1", 0, "later", "yes", "partly", date(2024, 11, 1)),
    ("M1", 1, "closure", "partly", "no", date(2024, 5, 1)),
    ("M2", 0, "closure", "yes", "yes", date(2024, 6, 15)),
    ("M2", 1, "closure", "no", "no", date(2024, 6, 15)),
    ("M2", 0, "later", "yes", "yes", date(2024, 12, 15)),
    ("M3", 0, "closure", "yes", "yes", date(2024, 1, 15)),
    ("M2", 2, "closure", "yes", "yes", date(2025, 1, 5)),
]
REPRISALS = [
    ("X0", date(2023, 12, 31)),
    ("C1", date(2024, 3, 2)),
    ("C1", date(2024, 3, 10)),
    ("C2", date(2024, 3, 11)),
    ("C4", date(2024, 3, 20)),
    ("C5", date(2024, 3, 25)),
    ("C9", date(2024, 7, 4)),
]


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10, 30))


def _sealed(db, case_id: uuid.UUID, compartment_id: uuid.UUID) -> uuid.UUID:  # type: ignore[no-untyped-def]
    """A record standing in for the sealed details (statistics never open it)."""
    record = Record(
        id=uuid.uuid4(),
        case_id=case_id,
        compartment_id=compartment_id,
        kind="commitment",
        author_role="staff",
        ciphertext=b"sealed elsewhere",
    )
    db.add(record)
    db.flush()  # no relationships: the record must be in before what points to it
    return record.id


@pytest.fixture
def caseload(portal: Portal) -> None:
    with portal.db as db:
        companies = {
            "alpha": Company(id=uuid.uuid4(), name="Alpha Guards", membership="member"),
            "beta": Company(id=uuid.uuid4(), name="Beta Security", membership="transitional"),
            "gamma": Company(id=uuid.uuid4(), name=GAMMA, membership="former"),
        }
        procedures = {
            "ncp": Procedure(id=uuid.uuid4(), key="ncp-test", kind="ncp", name="NCP"),
            "nhri": Procedure(id=uuid.uuid4(), key="nhri-test", kind="nhri", name="NHRI"),
        }
        db.add_all([*companies.values(), *procedures.values()])
        db.flush()
        cases: dict[str, Case] = {}
        for number, (name, row) in enumerate(CASES.items()):
            received_on, kind, company, country, channel, language, topics = row
            cases[name] = Case(
                id=uuid.uuid4(),
                reference=f"STAT-{number:04d}",
                received_on=received_on,
                stage_changed_on=received_on,
                kind=kind,
                company_id=companies[company].id if company else None,
                country=country,
                channel=channel,
                language=language,
            )
            db.add(cases[name])
            db.flush()
            db.add_all(CaseTopic(case_id=cases[name].id, topic=topic) for topic in topics)
        for name, days in ACKNOWLEDGED.items():
            for day in days:
                db.add(
                    StageEvent(
                        case_id=cases[name].id,
                        from_stage="received",
                        to_stage="acknowledged",
                        occurred_at=_at(day),
                    )
                )
        for name, day in CLOSED.items():
            db.add(
                StageEvent(
                    case_id=cases[name].id,
                    from_stage="assessment",
                    to_stage="closed",
                    occurred_at=_at(day),
                )
            )
        for name, to, status, sent_on, answered_on, closed_on in REFERRALS:
            db.add(
                Referral(
                    case_id=cases[name].id,
                    company_id=companies[to].id if to in companies else None,
                    procedure_id=procedures[to].id if to in procedures else None,
                    status=status,
                    sent_on=sent_on,
                    answered_on=answered_on,
                    closed_on=closed_on,
                )
            )
        commitments: dict[str, list[uuid.UUID]] = {}
        for remedy_name, (name, created_on, statuses) in REMEDIES.items():
            case_id = cases[name].id
            compartment = Compartment(
                id=uuid.uuid4(),
                case_id=case_id,
                kind="staff",
                public_key=bytes(32),
                public_key_mac=bytes(32),
            )
            db.add(compartment)
            db.flush()
            remedy = Remedy(
                id=uuid.uuid4(),
                case_id=case_id,
                category="compensation",
                record_id=_sealed(db, case_id, compartment.id),
                created_on=created_on,
            )
            db.add(remedy)
            commitments[remedy_name] = []
            for status in statuses:
                commitment = Commitment(
                    id=uuid.uuid4(),
                    remedy_id=remedy.id,
                    case_id=case_id,
                    status=status,
                    record_id=_sealed(db, case_id, compartment.id),
                )
                db.add(commitment)
                commitments[remedy_name].append(commitment.id)
            db.flush()
        for remedy_name, index, round_, happened, satisfied, answered_on in FEEDBACK:
            db.add(
                RemedyFeedback(
                    case_id=cases[REMEDIES[remedy_name][0]].id,
                    commitment_id=commitments[remedy_name][index],
                    round=round_,
                    happened=happened,
                    satisfied=satisfied,
                    answered_on=answered_on,
                )
            )
        for name, reported_on in REPRISALS:
            db.add(Reprisal(case_id=cases[name].id, reported_on=reported_on))
        db.commit()


def figures_for(portal: Portal, period: Period = YEAR) -> statistics.Figures:
    with portal.app.test_request_context(), portal.db as db:
        return statistics.figures(db, portal.settings, period)


def values(cells: list[Cell]) -> list[float | None]:
    return [cell.value for cell in cells]


def rows(breakdown: statistics.Breakdown) -> dict[str | None, float | None]:
    return {row.key: row.count.value for row in breakdown.rows}


# --- The figures, against the hand count -------------------------------------------------------


def test_cases_received_per_month(portal: Portal, caseload: None) -> None:
    received = figures_for(portal).received
    assert [month.month for month in received.months] == [date(2024, m, 1) for m in range(1, 13)]
    # Jan C1 C2; Feb C3 C4; Mar C5 C6 C7; May C8; Jun C9 C10; Sep C11; Dec C12 (X0, X1 outside)
    assert values([m.total for m in received.months]) == [2, 2, 3, 0, 1, 2, 0, 0, 1, 0, 0, 1]
    # evidence: C2 (Jan), C5 (Mar), C9 (Jun)
    assert values([m.code_violation for m in received.months]) == [1, 0, 1, 0, 0, 1] + [0] * 6
    # member/transitional: all but C6 (former) and C7 (none) in March
    assert values([m.member_companies for m in received.months]) == [
        2,
        2,
        1,
        0,
        1,
        2,
        0,
        0,
        1,
        0,
        0,
        1,
    ]
    assert received.total.value == 12  # C1..C12
    assert received.code_violation.value == 3  # C2 C5 C9
    assert received.member_companies.value == 10  # 12 - C6 - C7


def test_cases_by_topic_country_company_channel_and_language(
    portal: Portal, caseload: None
) -> None:
    figures = figures_for(portal)
    # use_of_force C1 C2 C4 C6 C7 C10 C12; weapons C2 C9; detention C3 C8; working C5
    assert rows(figures.by_topic) == {
        "use_of_force": 7,
        "detention": 2,
        "weapons": 2,
        "working_conditions": 1,
    }
    assert figures.by_topic.total is None  # a case may have several topics
    # KE C1 C2 C3 C6 C7 C8 C10 C12; IQ C4 C5; MZ C9; none C11
    assert rows(figures.by_country) == {"KE": 8, "IQ": 2, "MZ": 1, None: 1}
    # Alpha C1 C2 C3 C8 C9 C10 C12; Beta C4 C5 C11; Gamma C6; none C7
    assert rows(figures.by_company) == {"Alpha Guards": 7, "Beta Security": 3, GAMMA: 1, None: 1}
    assert rows(figures.by_channel) == {
        "anonymous": 8,  # C1 C3 C4 C6 C7 C9 C10 C12
        "confidential": 2,  # C2 C11
        "intermediary": 1,  # C5
        "staff_recorded": 1,  # C8
    }
    # sw C1 C3 C7 C10; en C2 C6 C8 C12; ar C4 C5; pt C9; fr C11
    assert rows(figures.by_language) == {"sw": 4, "en": 4, "ar": 2, "fr": 1, "pt": 1}
    for breakdown in (figures.by_country, figures.by_company, figures.by_channel):
        assert breakdown.total == Cell(12)
    assert [row.key for row in figures.by_company.rows] == [
        "Alpha Guards",
        "Beta Security",
        GAMMA,
        None,
    ]


def test_acknowledgement_and_the_median_days(portal: Portal, caseload: None) -> None:
    figures = figures_for(portal)
    assert figures.acknowledge_within_days == 7  # the default deadline of "received"
    # First acknowledgements in 2024, days from receipt:
    # X0 5, C1 2, C2 10, C3 7, C4 8 (leap year), C5 1, C6 2, C8 0, C9 3, C10 1, C11 11
    # (C7 never, C12 in 2025). On time (<= 7): X0 C1 C3 C5 C6 C8 C9 C10 = 8 of 11.
    on_time = figures.acknowledged_on_time
    assert (on_time.part, on_time.rest, on_time.whole) == (Cell(8), Cell(3), Cell(11))
    assert on_time.fraction.value == pytest.approx(8 / 11)
    # sorted 0 1 1 2 2 [3] 5 7 8 10 11
    assert figures.to_acknowledge == statistics.Duration(Cell(11), Cell(3))
    # First referrals sent in 2024: X0 23 (Dec 28 -> Jan 20), C1 22, C2 26, C3 27, C4 24,
    # C5 27, C6 289 (Mar 6 -> Dec 20), C8 19, C9 19, C10 18 (C12's is in 2025, C11's unsent)
    # sorted 18 19 19 22 [23 24] 26 27 27 289 -> 23.5
    assert figures.to_refer == statistics.Duration(Cell(10), Cell(23.5))
    # Closed in 2024: X0 61 (Dec 28 -> Feb 27), C1 91, C3 41, C4 102, C8 0; sorted 0 41 [61] 91 102
    assert figures.to_close == statistics.Duration(Cell(5), Cell(61))


def test_referrals_by_destination(portal: Portal, caseload: None) -> None:
    referrals = figures_for(portal).referrals
    got = {
        (row.kind, row.key): (row.referrals.value, row.answered.value, row.median_days.value)
        for row in referrals.rows
    }
    assert got == {
        # X0 30, C1 20, C2 30 (closed, no answer), C3 none, C8 15, C9 7, C10 30
        # sorted 7 15 [20 30] 30 30 -> 25
        ("company", "Alpha Guards"): (7, 6, 25),
        ("company", "Beta Security"): (1, 1, 10),  # C4: Mar 15 -> Mar 25
        ("procedure", "ncp"): (2, 2, 43),  # C2 60 (Mar 1 -> Apr 30), C6 26 -> (60 + 26) / 2
        ("procedure", "nhri"): (1, 1, 30),  # C5: Apr 1 -> May 1
    }
    assert referrals.total == Cell(11)  # 7 + 1 + 2 + 1 (C11 unsent, C12 in 2025)


def test_commitments_satisfaction_and_reprisals(portal: Portal, caseload: None) -> None:
    figures = figures_for(portal)
    # Remedies agreed in 2024: M1 (verified, implemented; proposed not counted), M2 (verified,
    # not implemented, in progress), M4 (agreed): 2 verified of 6
    verified = figures.commitments_verified
    assert (verified.part, verified.whole) == (Cell(2), Cell(6))
    assert verified.fraction.value == pytest.approx(2 / 6)
    # Answers given in 2024 (the 2025 one left out): happened yes yes partly yes no yes yes
    assert figures.happened == statistics.Answers(Cell(5), Cell(1), Cell(1), Cell(7))
    # satisfied: yes partly no yes no yes yes
    assert figures.satisfied == statistics.Answers(Cell(4), Cell(1), Cell(2), Cell(7))
    # Reprisals: five in March, one in July (the 2023 one left out)
    counts = [month.count.value for month in figures.reprisals.months]
    assert counts == [0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert figures.reprisals.total == Cell(6)


def test_the_period_bounds_every_figure(portal: Portal, caseload: None) -> None:
    march = figures_for(portal, Period(date(2024, 3, 1), date(2024, 3, 31)))
    assert march.received.total == Cell(3)  # C5 C6 C7
    assert march.to_acknowledge.cases == Cell(2)  # C5 (Mar 6), C6 (Mar 8)
    assert march.to_close.cases == Cell(1)  # C3 (Mar 15)
    assert march.referrals.total == Cell(3)  # C2 to the NCP, C3, C4
    assert march.reprisals.total == Cell(5)


# --- The period asked for ------------------------------------------------------------------------


def test_a_period_is_read_from_the_query_string_with_sane_defaults() -> None:
    on = date(2026, 5, 17)
    assert Period.from_args({}, on) == Period(date(2025, 6, 1), date(2026, 5, 17))
    assert Period.from_args({"from": "2024-01-01", "to": "2024-12-31"}, on) == YEAR
    assert Period.from_args({"to": "2024-12-31"}, on) == Period(
        date(2024, 1, 1), date(2024, 12, 31)
    )
    assert Period.from_args({"from": "2026-01-01"}, on) == Period(date(2026, 1, 1), on)
    for bad in (
        {"from": "2024-13-01"},
        {"from": "yesterday"},
        {"from": "20240101"},
        {"from": "2024-12-31", "to": "2024-01-01"},
        {"from": "1990-01-01", "to": "2024-01-01"},
        {"from": "9999-01-01", "to": "9999-12-31"},
        {"from": "٢٠٢٤-٠١-٠١"},
    ):
        period = Period.from_args(bad, on)
        assert period.fallback, bad
        assert (period.start, period.end) == (date(2025, 6, 1), on)
    assert Period.last_12_complete_months(on) == Period(date(2025, 5, 1), date(2026, 4, 30))


# --- Suppression ---------------------------------------------------------------------------------

FEWER = Cell(None, State.FEWER)
WITHHELD = Cell(None, State.WITHHELD)


def test_small_counts_become_fewer_than_five_and_zero_stays_zero() -> None:
    assert statistics.protect([0, 1, 4, 5, 40], total=False) == [
        Cell(0),
        FEWER,
        FEWER,
        Cell(5),
        Cell(40),
    ]


def test_a_lone_hidden_cell_takes_the_next_smallest_with_it() -> None:
    # 12 + 7 + 3 + 0 = 22: with 22, 12 and 0 published, the 3 would be 22 - 12 - 0 - 7
    assert statistics.protect([12, 7, 3, 0]) == [Cell(12), WITHHELD, FEWER, Cell(0)]
    # Several hidden cells whose sum leaves one split (1 + 1 = 52 - 50) also take one more
    assert statistics.protect([1, 1, 50]) == [FEWER, FEWER, WITHHELD]
    assert statistics.protect([4, 4, 9, 30]) == [FEWER, FEWER, WITHHELD, Cell(30)]
    # 2 + 1 + 1 = 4 has three splits: nothing more to hide
    assert statistics.protect([2, 1, 1, 8]) == [FEWER, FEWER, FEWER, Cell(8)]
    # No published total: nothing to work back from
    assert statistics.protect([12, 3], total=False) == [Cell(12), FEWER]


def test_the_public_figures_are_suppressed(portal: Portal, caseload: None) -> None:
    raw = figures_for(portal)
    public = statistics.suppress(raw)
    assert public.suppressed and not raw.suppressed
    assert public.received.total == Cell(12)
    assert public.received.code_violation == FEWER  # 3
    assert public.received.member_companies == Cell(10)
    assert all(not month.total.shown or month.total.value == 0 for month in public.received.months)
    # Companies under 5 are never named: Beta (3) and Gamma (1) counted together as 4
    companies = [(row.key, row.other, row.count) for row in public.by_company.rows]
    assert companies == [
        ("Alpha Guards", False, Cell(7)),
        (None, False, FEWER),
        (None, True, FEWER),
    ]
    assert [(row.key, row.count) for row in public.by_country.rows] == [
        ("KE", Cell(8)),
        ("IQ", FEWER),
        ("MZ", FEWER),
        (None, FEWER),
    ]
    # Rates and medians from fewer than 5 are withheld; from 5 or more, shown
    assert public.to_close == statistics.Duration(Cell(5), Cell(61))
    assert public.acknowledged_on_time.whole == Cell(11)
    assert public.acknowledged_on_time.fraction.value == pytest.approx(8 / 11)
    assert public.acknowledged_on_time.rest == WITHHELD  # the rate is published, not the 3 late
    referrals = {(row.kind, row.key, row.other): row for row in public.referrals.rows}
    assert referrals[("company", "Alpha Guards", False)].median_days == Cell(25)
    folded = referrals[("company", "", True)]  # Beta's one referral, not named
    assert (folded.referrals, folded.median_days) == (FEWER, WITHHELD)
    assert referrals[("procedure", "ncp", False)].median_days == WITHHELD  # from 2 answers
    # happened: yes 5, partly 1, no 1 of 7: 1 + 1 = 7 - 5 would show both, so 5 is withheld
    assert public.happened == statistics.Answers(WITHHELD, FEWER, FEWER, Cell(7))
    # reprisals: 5 in March, 1 in July, 6 in all: the July 1 would be 6 - 5, so March goes too
    months = {month.month.month: month.count for month in public.reprisals.months}
    assert (months[3], months[7], months[1], public.reprisals.total) == (
        WITHHELD,
        FEWER,
        Cell(0),
        Cell(6),
    )
    with pytest.raises(ValueError):
        statistics.suppress(public)


# --- The staff page, its CSV and the switch -----------------------------------------------------


def section(html: str, section_id: str) -> dict[str, list[str]]:
    """The rows of a section's table: plain label -> its cells."""
    found = re.search(rf'<h2 id="{section_id}(?:-heading)?">(.*?)</section>', html, re.S)
    assert found, section_id
    table = {}
    for label, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', found.group(1)):
        plain = re.sub(r"<[^>]+>", "", label)
        table[plain] = re.findall(r'<td class="number">(.*?)</td>', cells)
    return table


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, re.S)


def assert_accessible_charts(html: str) -> None:
    charts = svgs(html)
    assert charts
    for chart in charts:
        opening = chart[: chart.index(">")]
        assert 'role="img"' in opening
        chart_id = re.search(r'aria-labelledby="([\w-]+)-title \1-desc"', opening).group(1)
        assert f'<title id="{chart_id}-title">' in chart
        assert re.search(rf'<desc id="{chart_id}-desc">[^<]+</desc>', chart)
        assert "<script" not in chart and " style=" not in chart
    assert "<script>" not in html and " style=" not in html


@pytest.fixture
def people(portal: Portal) -> None:
    portal.account(ADMIN, Role.ADMIN)
    portal.account(SUPERVISOR, Role.SUPERVISOR)
    portal.account(WORKER)
    portal.account(OFFICER, Role.COMPANY, company="Alpha Guards")


def test_supervisors_read_every_figure_unsuppressed(
    portal: Portal, caseload: None, people: None
) -> None:
    supervisor = staff_client(portal, SUPERVISOR)
    response = supervisor.get("/caseworker/statistics?from=2024-01-01&to=2024-12-31&lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert section(html, "companies") == {
        "Alpha Guards": ["7"],
        "Beta Security": ["3"],
        "=Gamma &lt;Patrol&gt; &amp; Co": ["1"],
        "No company named": ["1"],
        "All": ["12"],
    }
    assert section(html, "acknowledged") == {
        "Complaints acknowledged": ["11"],
        "On time": ["8"],
        "Late": ["3"],
        "Share on time": ["73%"],
    }
    assert section(html, "durations")["From receipt to closing"] == ["5", "61"]
    assert section(html, "received")["All months"] == ["12", "3", "10"]
    assert "<Patrol>" not in html
    assert_accessible_charts(html)
    assert "Switch the public page on" not in html  # only admins switch it
    assert "fewer than 5" not in html


def test_bad_dates_fall_back_to_the_last_12_months_and_say_so(portal: Portal, people: None) -> None:
    supervisor = staff_client(portal, SUPERVISOR)
    html = supervisor.get("/caseworker/statistics?from=31/12/2024&lang=en").get_data(as_text=True)
    assert "We could not use the dates you chose" in html


def test_the_csv_holds_the_figures(portal: Portal, caseload: None, people: None) -> None:
    supervisor = staff_client(portal, SUPERVISOR)
    response = supervisor.get("/caseworker/statistics.csv?from=2024-01-01&to=2024-12-31")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert lines[0] == ["figure", "item", "measure", "value"]
    assert ["period", "", "from", "2024-01-01"] in lines
    assert ["cases_received", "2024-03", "total", "3"] in lines
    assert ["cases_received", "all", "member_companies", "10"] in lines
    assert ["cases_by_company", "'=Gamma <Patrol> & Co", "cases", "1"] in lines
    assert ["cases_by_company", "", "cases", "1"] in lines  # no company named
    assert ["cases_by_country", "KE", "cases", "8"] in lines
    assert ["acknowledged_on_time", "", "percent", "72.7"] in lines
    assert ["days_to_refer", "", "median_days", "23.5"] in lines
    assert ["referrals", "procedure:ncp", "median_days_to_answer", "43"] in lines
    assert ["commitments_verified", "", "percent", "33.3"] in lines
    assert ["satisfied", "no", "answers", "2"] in lines
    assert ["reprisals_reported", "2024-03", "reports", "5"] in lines


def test_caseworkers_and_companies_get_no_statistics(
    portal: Portal, caseload: None, people: None
) -> None:
    for email in (WORKER, OFFICER):
        client = staff_client(portal, email)
        for path in ("/caseworker/statistics", "/caseworker/statistics.csv"):
            assert client.get(path).status_code == 404, (email, path)
    assert portal.app.test_client().get("/caseworker/statistics").status_code == 302


def switch(client: FlaskClient, state: str) -> int:
    token = csrf_token(client, "/caseworker/statistics")
    return client.post(
        "/caseworker/statistics/transparency", data={"csrf_token": token, "state": state}
    ).status_code


def test_only_admins_switch_the_public_page(portal: Portal, caseload: None, people: None) -> None:
    public = portal.app.test_client()
    assert public.get("/transparency").status_code == 404  # off until an admin puts it on
    supervisor = staff_client(portal, SUPERVISOR)
    assert switch(supervisor, "on") == 404
    admin = staff_client(portal, ADMIN)
    no_token = admin.post("/caseworker/statistics/transparency", data={"state": "on"})
    assert no_token.status_code == 400
    assert switch(admin, "maybe") == 400
    assert public.get("/transparency").status_code == 404
    assert 'href="/transparency' not in public.get("/").get_data(as_text=True)
    assert switch(admin, "on") == 302
    assert public.get("/transparency").status_code == 200
    # Once on, every public page's footer links to it.
    assert 'href="/transparency?lang=en">Figures</a>' in public.get("/?lang=en").get_data(
        as_text=True
    )
    page = admin.get("/caseworker/statistics?lang=en").get_data(as_text=True)
    assert "The public figures page is on." in page
    assert switch(admin, "off") == 302
    assert public.get("/transparency").status_code == 404
    with portal.db as db:
        details = db.scalars(
            select(AuditEvent.detail)
            .where(AuditEvent.action == "transparency.switched")
            .order_by(AuditEvent.id)
        ).all()
        assert details == ["on", "off"]
        assert db.get(SiteOption, "transparency_public").value == "off"


# --- The public page ----------------------------------------------------------------------------


def publish(portal: Portal) -> None:
    with portal.db as db:
        db.merge(SiteOption(name="transparency_public", value="on"))
        db.commit()


def test_the_public_page_shows_only_suppressed_figures(
    portal: Portal, caseload: None, client: FlaskClient
) -> None:
    publish(portal)
    response = client.get("/transparency?year=2024&lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "From January 1, 2024 to December 31, 2024." in html
    assert section(html, "companies") == {
        "Alpha Guards": ["7"],
        "No company named": ["fewer than 5"],
        "Other companies (fewer than 5 each)": ["fewer than 5"],
        "All": ["12"],
    }
    assert "Beta Security" not in html and "Gamma" not in html
    assert section(html, "happened") == {
        "Yes": ["not shown"],
        "Partly": ["fewer than 5"],
        "No": ["fewer than 5"],
        "All": ["7"],
    }
    assert section(html, "acknowledged") == {
        "Complaints acknowledged": ["11"],
        "Share on time": ["73%"],
    }
    assert section(html, "durations") == {
        "From receipt to acknowledgement": ["11", "3"],
        "From receipt to the first referral": ["10", "23.5"],
        "From receipt to closing": ["5", "61"],
    }
    referrals = section(html, "referrals")
    assert referrals["Alpha Guards"] == ["7", "6", "25"]
    assert referrals["OECD National Contact Point"] == ["fewer than 5", "fewer than 5", "not shown"]
    assert section(html, "languages")["All"] == ["12"]
    assert set(cell for label, (cell,) in section(html, "languages").items() if label != "All") == {
        "fewer than 5"
    }
    reprisals = section(html, "reprisals")
    assert (reprisals["March 2024"], reprisals["July 2024"]) == (["not shown"], ["fewer than 5"])
    assert_accessible_charts(html)
    # Without a year: the last 12 whole months, and the years that can be chosen
    html = client.get("/transparency?lang=en").get_data(as_text=True)
    assert 'href="/transparency?year=2024&amp;lang=en"' in html
    assert client.get("/transparency?year=1999&lang=en").status_code == 200  # the default


def test_the_public_page_reads_right_to_left_in_arabic(
    portal: Portal, caseload: None, client: FlaskClient
) -> None:
    publish(portal)
    html = client.get("/transparency?year=2024&lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert all('direction="rtl"' in chart for chart in svgs(html))
    assert_accessible_charts(html)


def test_the_public_page_is_tiny(portal: Portal, caseload: None, client: FlaskClient) -> None:
    publish(portal)
    for lang in ("en", "ar", "sw"):
        html = client.get(f"/transparency?year=2024&lang={lang}").get_data(as_text=True)
        assets = sum(
            len(gzip.compress(client.get(path).data, 6))
            for path in re.findall(r'(?:href|src)="(/assets/[^"]+)"', html)
        )
        assert len(gzip.compress(html.encode(), 6)) + assets <= 14_000, lang


VNU = Path(__file__).resolve().parents[1] / "tools/node_modules/vnu-jar/build/dist/vnu.jar"


def test_the_statistics_pages_are_valid_html(
    portal: Portal, caseload: None, people: None, client: FlaskClient, tmp_path: Path
) -> None:
    java = shutil.which("java")
    if not (java and VNU.exists()):
        if os.environ.get("CI") or os.environ.get("PORTAL_REQUIRE_BROWSER"):
            pytest.fail("java and vnu-jar are needed (make test installs them)")
        pytest.skip("java and vnu-jar are needed (make test installs them)")
    publish(portal)
    supervisor = staff_client(portal, ADMIN)
    pages = {
        f"public-{lang}.html": client.get(f"/transparency?year=2024&lang={lang}")
        for lang in ("en", "ar")
    }
    pages["staff.html"] = supervisor.get("/caseworker/statistics?from=2024-01-01&to=2024-12-31")
    for name, response in pages.items():
        (tmp_path / name).write_bytes(response.data)
    result = subprocess.run(
        [
            java,
            "-jar",
            str(VNU),
            "--errors-only",
            "--format",
            "json",
            *map(str, tmp_path.glob("*.html")),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    assert not messages, [(Path(m.get("url", "")).name, m.get("message")) for m in messages][:10]
