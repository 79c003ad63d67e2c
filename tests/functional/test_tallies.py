"""The kept counts of cases per account and stage follow every change that moves them."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select, update

from portal import tallies
from portal.demo_bulk import make_demo_cases
from portal.models import Case, Compartment, CompartmentKind, Grant, StageTally, utcnow
from portal.stages import Stage
from tests.conftest import Portal


def _five_cases(portal: Portal) -> tuple[object, object, list[Case]]:
    alice = portal.account("alice@example.org")
    bob = portal.account("bob@example.org")
    with portal.app.app_context(), portal.db as db:
        make_demo_cases(db, portal.keyring, portal.settings, portal.data_dir, 5, receipts=1, seed=3)
        db.execute(update(Case).values(stage=Stage.ASSESSMENT.value))  # bulk: then recounted
        db.commit()
        cases = list(db.scalars(select(Case).order_by(Case.reference)))
    return alice.id, bob.id, cases


def test_every_case_counts_once_for_each_holder(portal: Portal) -> None:
    alice, bob, _cases = _five_cases(portal)

    with portal.db as db:
        assert tallies.stored(db) == Counter({(alice, "assessment"): 5, (bob, "assessment"): 5})
        assert tallies.stored(db) == tallies.truth(db)


def test_several_changes_in_one_flush_each_count_once(portal: Portal) -> None:
    alice, bob, cases = _five_cases(portal)
    first, second, third = (case.id for case in cases[:3])

    with portal.db as db:
        db.get(Case, first).stage = Stage.CLOSED.value  # type: ignore[union-attr]
        case_compartment = (
            select(Compartment)
            .where(Compartment.kind == CompartmentKind.CASE.value)
            .where(Compartment.retired_at.is_(None))
        )
        bobs = db.scalar(
            select(Grant)
            .join(Compartment, Compartment.id == Grant.compartment_id)
            .where(Compartment.case_id == second, Grant.account_id == bob)
            .where(Compartment.kind == CompartmentKind.CASE.value)
        )
        db.delete(bobs)
        retired = db.scalar(case_compartment.where(Compartment.case_id == third))
        assert retired is not None
        retired.retired_at = utcnow()
        # The same case moved and one of its grants deleted in the same flush.
        db.get(Case, second).stage = Stage.REVIEW.value  # type: ignore[union-attr]
        db.commit()

        kept = tallies.stored(db)
        assert kept == tallies.truth(db)
    assert kept == Counter(
        {
            (alice, "assessment"): 2,
            (alice, "closed"): 1,
            (alice, "review"): 1,
            (bob, "assessment"): 2,
            (bob, "closed"): 1,
        }
    )


def test_a_recount_puts_right_what_was_changed_behind_its_back(portal: Portal) -> None:
    alice, _bob, _cases = _five_cases(portal)
    with portal.db as db:
        connection = db.connection()
        connection.execute(update(StageTally).values(cases=99))
        assert tallies.stored(db) != tallies.truth(db)

        tallies.recount(db, [alice])
        assert tallies.stored(db, [alice]) == tallies.truth(db, [alice])
        tallies.recount(db)
        db.commit()
        assert tallies.stored(db) == tallies.truth(db)
