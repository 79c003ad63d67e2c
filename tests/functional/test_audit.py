"""The audit trail: a hash chain over real actions, kept whole by concurrent writers, and the
admin page that reads it."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, delete, select, update
from sqlalchemy.orm import Session

from portal.audit import (
    GENESIS,
    HEAD_ID,
    Problem,
    UnchainedWriteError,
    event_hash,
    verify_chain,
)
from portal.models import AuditEvent, AuditHead, Case, Role
from tests.conftest import Portal
from tests.functional.helpers import only_case_id, staff_client
from tests.support.filing import file_complaint

FILE_LINK = re.compile(r'href="(/caseworker/cases/[0-9a-f-]{36}/files/[0-9a-f-]{36})"')
ROW = re.compile(r'<tr id="event-(\d+)">')
AUDIT_PAGE = "/caseworker/admin/audit"


def audit_key(portal: Portal) -> bytes:
    key: bytes | None = portal.app.extensions["portal_db"].audit_key
    assert key is not None
    return key


def events(portal: Portal) -> list[AuditEvent]:
    with portal.db as db:
        return list(db.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def head(portal: Portal) -> AuditHead | None:
    with portal.db as db:
        return db.get(AuditHead, HEAD_ID)


def verify(portal: Portal):  # type: ignore[no-untyped-def]
    with portal.db as db:
        return verify_chain(db, audit_key(portal))


def empty_log(portal: Portal) -> None:
    """Start from no event and no head (Core statements: the ORM refuses to delete events)."""
    with portal.db as db:
        db.execute(delete(AuditEvent.__table__))
        db.execute(delete(AuditHead.__table__))
        db.commit()


def add_events(portal: Portal, count: int, action: str = "test.event") -> None:
    with portal.db as db:
        for index in range(count):
            db.add(AuditEvent(action=action, detail=f"n{index}"))
        db.commit()


def assert_linked(chain: list[AuditEvent], key: bytes) -> None:
    """Recompute every link independently of ``verify_chain``."""
    previous = GENESIS
    for sequence, audit_event in enumerate(chain, start=1):
        assert audit_event.prev_hash == previous, audit_event.id
        assert audit_event.hash == event_hash(
            key,
            prev_hash=previous,
            sequence=sequence,
            occurred_at=audit_event.occurred_at,
            actor_account_id=audit_event.actor_account_id,
            action=audit_event.action,
            case_id=audit_event.case_id,
            detail=audit_event.detail,
        ), audit_event.id
        previous = audit_event.hash


# The chain over real actions


def test_real_actions_are_chained_and_carry_no_content(portal, client):
    account = portal.account("cw@example.org")  # in the intake team: granted every new case
    photo = b"\x89PNG evidence bytes " * 50
    file_complaint(client, text="They beat him at the gate", files=[("gate.png", photo)])
    staff = staff_client(portal, "cw@example.org")
    case_id = only_case_id(portal)
    page = staff.get(f"/caseworker/cases/{case_id}")
    assert page.status_code == 200
    download = staff.get(FILE_LINK.search(page.get_data(as_text=True)).group(1))
    assert download.status_code == 200

    chain = events(portal)
    actions = [e.action for e in chain]
    for expected in (
        "account.created",
        "case.received",
        "account.signed_in",
        "case.opened",
        "file.downloaded",
    ):
        assert expected in actions, actions
    assert actions.index("case.received") < actions.index("case.opened")
    assert actions.index("case.opened") < actions.index("file.downloaded")
    by_action = {e.action: e for e in chain}
    assert by_action["case.opened"].actor_account_id == account.id
    assert by_action["case.opened"].case_id == case_id
    assert by_action["file.downloaded"].case_id == case_id

    assert_linked(chain, audit_key(portal))
    report = verify(portal)
    assert report.intact, report.describe()
    assert report.events == len(chain)
    end = head(portal)
    assert end is not None
    assert end.count == len(chain)
    assert end.hash == chain[-1].hash
    # Who, what, which case, when: never what the reporter wrote or what the file was called.
    for audit_event in chain:
        for value in (audit_event.action, audit_event.detail or ""):
            assert "beat" not in value and "gate" not in value


def test_the_chain_key_is_the_server_mac_key_of_the_app(portal):
    assert audit_key(portal) == portal.data_dir.server_mac_key()
    add_events(portal, 2)
    chain = events(portal)
    with portal.db as db:
        assert not verify_chain(db, bytes(32)).intact  # another key does not verify it
    assert_linked(chain, audit_key(portal))


# The hook covers every session of the app, and only those


def test_request_sessions_and_plain_sessions_are_both_chained(portal):
    database = portal.app.extensions["portal_db"]
    with database.sessions() as db:  # the sessionmaker of request code
        db.add(AuditEvent(action="test.sessionmaker"))
        db.commit()
    with Session(database.engine) as db:  # what CLI code opens
        db.add(AuditEvent(action="test.plain"))
        db.commit()
    with database.engine.connect() as connection, Session(bind=connection) as db:
        db.add(AuditEvent(action="test.on-connection"))
        db.commit()
    chain = events(portal)
    assert [e.action for e in chain[-3:]] == [
        "test.sessionmaker",
        "test.plain",
        "test.on-connection",
    ]
    assert all(e.hash is not None for e in chain)
    assert verify(portal).intact


def test_an_engine_without_the_chain_key_cannot_write_events(portal, database_url):
    stranger = create_engine(database_url)
    try:
        with Session(stranger) as db:
            db.add(AuditEvent(action="test.unchained"))
            with pytest.raises(UnchainedWriteError):
                db.commit()
    finally:
        stranger.dispose()
    assert "test.unchained" not in [e.action for e in events(portal)]


def test_events_are_never_changed_or_deleted_through_the_orm(portal):
    add_events(portal, 2)
    with portal.db as db:
        first = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()
        first.action = "test.rewritten"
        with pytest.raises(UnchainedWriteError):
            db.commit()
    with portal.db as db:
        first = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()
        db.delete(first)
        with pytest.raises(UnchainedWriteError):
            db.commit()
    assert "test.rewritten" not in [e.action for e in events(portal)]
    assert verify(portal).intact


def test_events_of_one_flush_chain_in_the_order_they_were_added(portal):
    empty_log(portal)
    with portal.db as db:
        for index in range(30):
            db.add(AuditEvent(action="test.order", detail=str(index)))
        db.flush()
        db.add(AuditEvent(action="test.order", detail="30"))  # a second flush, same transaction
        db.commit()
    chain = events(portal)
    assert [e.detail for e in chain] == [str(index) for index in range(31)]
    assert chain[0].prev_hash == GENESIS
    assert_linked(chain, audit_key(portal))
    assert head(portal).count == 31


def test_the_head_is_made_lazily_and_a_rollback_leaves_the_chain_as_it_was(portal):
    empty_log(portal)
    assert head(portal) is None
    assert verify(portal).intact
    add_events(portal, 3)
    before = head(portal)
    assert before is not None and before.count == 3
    with portal.db as db:
        db.add(AuditEvent(action="test.rolled-back"))
        db.flush()
        db.rollback()
    after = head(portal)
    assert (after.count, after.hash) == (before.count, before.hash)
    add_events(portal, 1)
    assert verify(portal).intact
    assert verify(portal).events == 4


def test_times_and_empty_fields_hash_as_they_are_stored(portal):
    empty_log(portal)
    aware = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=5)))
    actor = portal.account("someone@example.org").id
    with portal.db as db:
        db.add(AuditEvent(action="test.aware", occurred_at=aware, actor_account_id=actor))
        db.add(AuditEvent(action="test.empty", detail="", case_id=uuid.uuid4()))
        db.add(AuditEvent(action="test.none", detail=None))
        db.commit()
    report = verify(portal)
    assert report.intact, report.describe()
    assert report.events == 4  # with account.created


def test_two_concurrent_writers_never_fork_the_chain(portal):
    """Two threads commit many events at once, starting with no head row at all."""
    empty_log(portal)
    engine = portal.app.extensions["portal_db"].engine
    commits, per_commit = 60, 5
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            barrier.wait()
            for batch in range(commits):
                with Session(engine) as db:
                    for index in range(per_commit):
                        db.add(AuditEvent(action=f"test.{name}", detail=f"{batch}.{index}"))
                    db.commit()
        except BaseException as exc:  # reported in the main thread
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures

    total = 2 * commits * per_commit
    chain = events(portal)
    assert len(chain) == total
    assert len({e.prev_hash for e in chain}) == total  # no two events share a predecessor
    assert_linked(chain, audit_key(portal))
    report = verify(portal)
    assert report.intact, report.describe()
    assert report.events == total
    assert head(portal).count == total
    # Each writer's batches stay whole: a commit's events are consecutive in the chain.
    for start in range(0, total, per_commit):
        assert len({e.action for e in chain[start : start + per_commit]}) == 1


def test_a_second_writer_waits_for_the_first_to_commit(portal):
    """The head stays locked from a writer's flush to its commit; the next one chains after."""
    add_events(portal, 1)
    engine = portal.app.extensions["portal_db"].engine
    started, finished = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def second_writer() -> None:
        try:
            with Session(engine) as db:
                db.add(AuditEvent(action="test.second"))
                started.set()
                db.commit()
        except BaseException as exc:  # reported in the main thread
            failures.append(exc)
        finally:
            finished.set()

    with Session(engine) as first:
        first.add(AuditEvent(action="test.first"))
        first.flush()  # holds the head from here to its commit
        thread = threading.Thread(target=second_writer)
        thread.start()
        started.wait()
        finished.wait(0.3)  # give the second writer time to reach the head (not a deadline)
        assert not finished.is_set(), "the second writer did not wait for the head"
        first.commit()
    thread.join()
    assert not failures, failures
    assert [e.action for e in events(portal)][-2:] == ["test.first", "test.second"]
    report = verify(portal)
    assert report.intact, report.describe()


# The admin page


def test_the_admin_reads_the_log_newest_first_under_an_intact_banner(portal, client):
    file_complaint(client)
    portal.account("admin@example.org", Role.ADMIN)
    admin = staff_client(portal, "admin@example.org")
    page = admin.get(AUDIT_PAGE)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "The audit chain is intact" in body
    shown = [int(n) for n in ROW.findall(body)]
    ids = [e.id for e in events(portal) if e.action != "audit.viewed"]
    assert shown == sorted(ids, reverse=True)
    assert "case.received" in body and "account.signed_in" in body
    assert "admin@example.org" in body
    # Reading the log is itself logged, and the chain still holds.
    assert events(portal)[-1].action == "audit.viewed"
    assert verify(portal).intact


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.SUPERVISOR])
def test_the_log_is_not_there_for_other_roles(portal, role):
    portal.account("staff@example.org", role)
    staff = staff_client(portal, "staff@example.org")
    assert staff.get(AUDIT_PAGE).status_code == 404


def test_the_log_sends_a_stranger_to_sign_in(portal, client):
    response = client.get(AUDIT_PAGE)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/sign-in")


def test_the_banner_names_the_first_broken_event(portal):
    portal.account("admin@example.org", Role.ADMIN)
    admin = staff_client(portal, "admin@example.org")
    add_events(portal, 3)
    target = events(portal)[-2]
    with portal.db as db:
        db.execute(
            update(AuditEvent.__table__)
            .where(AuditEvent.__table__.c.id == target.id)
            .values(action="case.nothing_to_see")
        )
        db.commit()
    body = admin.get(AUDIT_PAGE).get_data(as_text=True)
    assert f"The audit chain is broken at event {target.id}:" in body
    assert "The audit chain is intact" not in body
    assert verify(portal).problem is Problem.ALTERED


def _shown(admin, query: str) -> list[int]:  # type: ignore[no-untyped-def]
    response = admin.get(f"{AUDIT_PAGE}?{query}")
    assert response.status_code == 200, query
    return [int(n) for n in ROW.findall(response.get_data(as_text=True))]


def test_filters_by_action_account_case_and_dates(portal, client):
    worker = portal.account("cw@example.org")
    file_complaint(client)
    file_complaint(client)
    portal.account("admin@example.org", Role.ADMIN)
    admin = staff_client(portal, "admin@example.org")
    staff = staff_client(portal, "cw@example.org")
    with portal.db as db:
        cases = list(db.execute(select(Case.id, Case.reference).order_by(Case.reference)))
    opened, _other = cases
    assert staff.get(f"/caseworker/cases/{opened.id}").status_code == 200
    chain = [e for e in events(portal) if e.action != "audit.viewed"]

    received = [e.id for e in chain if e.action == "case.received"]
    assert sorted(_shown(admin, "action=case.received")) == sorted(received)
    assert len(received) == 2

    by_worker = [e.id for e in chain if e.actor_account_id == worker.id]
    assert by_worker and sorted(_shown(admin, f"account={worker.id}")) == sorted(by_worker)
    assert _shown(admin, f"account={uuid.uuid4()}") == []
    assert _shown(admin, "account=not-a-uuid") == []

    on_case = [e.id for e in chain if e.case_id == opened.id]
    assert {e.action for e in chain if e.case_id == opened.id} == {"case.received", "case.opened"}
    assert sorted(_shown(admin, f"case={opened.reference.lower()}")) == sorted(on_case)
    assert sorted(_shown(admin, f"case={opened.reference}&action=case.opened")) == [
        e.id for e in chain if e.case_id == opened.id and e.action == "case.opened"
    ]

    # Dates come from what is stored, never from the clock.
    days = sorted({e.occurred_at.date() for e in chain})
    first, last = days[0], days[-1]
    before, after = first - timedelta(days=1), last + timedelta(days=1)
    assert _shown(admin, f"date_to={before.isoformat()}") == []
    assert _shown(admin, f"date_from={after.isoformat()}") == []
    on_first = [e.id for e in chain if e.occurred_at.date() == first]
    shown = _shown(admin, f"date_from={first.isoformat()}&date_to={first.isoformat()}")
    assert set(on_first) <= set(shown)
    assert all(e.occurred_at.date() == first for e in events(portal) if e.id in shown)

    bad = admin.get(f"{AUDIT_PAGE}?date_from=31/03/2025")
    assert bad.status_code == 200
    assert "Enter a date like 2025-03-31." in bad.get_data(as_text=True)


def test_pages_of_fifty(portal):
    portal.account("admin@example.org", Role.ADMIN)
    admin = staff_client(portal, "admin@example.org")
    add_events(portal, 120, action="test.many")
    ids = [e.id for e in events(portal) if e.action == "test.many"]
    newest_first = sorted(ids, reverse=True)
    first = _shown(admin, "action=test.many")
    second = _shown(admin, "action=test.many&page=2")
    third = _shown(admin, "action=test.many&page=3")
    assert first == newest_first[:50]
    assert second == newest_first[50:100]
    assert third == newest_first[100:]
    assert _shown(admin, "action=test.many&page=99") == third  # past the end: the last page
    body = admin.get(f"{AUDIT_PAGE}?action=test.many&page=2").get_data(as_text=True)
    assert "Page 2 of 3" in body
    assert 'href="/caseworker/admin/audit?action=test.many&amp;page=3"' in body
    assert 'href="/caseworker/admin/audit?action=test.many&amp;page=1"' in body
