"""Many demo cases at once, sealed the same way as a public filing but without receipts.

Filing a real complaint costs one Argon2id run for its receipt (about a quarter of a second), so
a hundred thousand demo cases cannot all have one. The first few are filed through
:func:`portal.intake.file_complaint` (receipt included, so the follow-up pages can be tried);
the rest are built from the same blocks — compartments made by :func:`portal.vault.new_compartment`
(granted to the intake team and sealed to the recovery key), the answers sealed with
:func:`portal.vault.seal`, topics as ``CaseTopic`` rows — with no receipt lock, in batches of a
few hundred cases with one commit each.

Their clear metadata is spread the way a real caseload would be: received over the last two
years, older cases further along, deadlines that are sometimes missed, a few urgent ones, and
the languages, countries, companies, topics and channels of the demo complaints.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import random
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from multiprocessing.queues import Queue
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto import format_receipt

from . import demo_data, intake, notify
from .config import Settings
from .datadir import DataDir
from .db import Database
from .keyring import Keyring
from .models import (
    Account,
    AuthorRole,
    Case,
    CaseTopic,
    Channel,
    Company,
    CompartmentKind,
    ComplaintKind,
    Consent,
    Filer,
    Outcome,
    RecordKind,
    Role,
    today,
)
from .stages import Stage
from .topics import TOPICS
from .vault import installation, new_compartment, seal

# Cases filed with a real receipt before the bulk ones (each costs one Argon2id run).
RECEIPT_CASES = 5
BATCH_SIZE = 500
# From this many bulk cases on, one process per core (two here) shares the work.
PARALLEL_FROM = 5_000
HISTORY_DAYS = 730

# Demo member companies beyond the three of ``demo_data``.
BULK_COMPANIES = (
    "Atlas Perimeter Group",
    "Baobab Guarding Ltd",
    "Cordillera Protección S.A.",
    "Delta Shield Maritime",
    "Harbour Watch Services",
    "Lusophone Segurança Lda",
    "Nile Escort Security",
    "Sahel Static Guards",
    "Tamarind Risk Partners",
)

# Days allowed in each open stage for the demo deadlines.
_DEADLINE_DAYS = {
    Stage.RECEIVED: 7,
    Stage.ACKNOWLEDGED: 14,
    Stage.ASSESSMENT: 30,
    Stage.REFERRED_COMPANY: 60,
    Stage.REFERRED_ALTERNATIVE: 90,
    Stage.REVIEW: 20,
    Stage.REMEDY_AGREED: 30,
    Stage.REMEDY_MONITORING: 90,
}
_FINISHED = (Stage.CLOSED, Stage.NOT_ELIGIBLE)

# Where a case of a given age (in days, up to the bound) usually is.
_STAGES_BY_AGE: tuple[tuple[int, tuple[tuple[Stage, int], ...]], ...] = (
    (7, ((Stage.RECEIVED, 55), (Stage.ACKNOWLEDGED, 40), (Stage.ASSESSMENT, 5))),
    (
        45,
        (
            (Stage.RECEIVED, 6),
            (Stage.ACKNOWLEDGED, 24),
            (Stage.ASSESSMENT, 45),
            (Stage.NOT_ELIGIBLE, 12),
            (Stage.REFERRED_COMPANY, 10),
            (Stage.REFERRED_ALTERNATIVE, 3),
        ),
    ),
    (
        180,
        (
            (Stage.ACKNOWLEDGED, 3),
            (Stage.ASSESSMENT, 12),
            (Stage.NOT_ELIGIBLE, 15),
            (Stage.REFERRED_COMPANY, 28),
            (Stage.REFERRED_ALTERNATIVE, 8),
            (Stage.REVIEW, 14),
            (Stage.REMEDY_AGREED, 6),
            (Stage.REMEDY_MONITORING, 4),
            (Stage.CLOSED, 10),
        ),
    ),
    (
        HISTORY_DAYS + 1,
        (
            (Stage.ASSESSMENT, 2),
            (Stage.NOT_ELIGIBLE, 14),
            (Stage.REFERRED_COMPANY, 8),
            (Stage.REFERRED_ALTERNATIVE, 4),
            (Stage.REVIEW, 6),
            (Stage.REMEDY_AGREED, 5),
            (Stage.REMEDY_MONITORING, 11),
            (Stage.CLOSED, 50),
        ),
    ),
)

_LANGUAGES = (("en", 34), ("fr", 20), ("es", 20), ("ar", 11), ("sw", 9), ("pt", 6))
_COUNTRIES = {
    "en": ("NG", "KE", "UG", "IQ", "AF", "ZA", "PH", "GH", "SL", "LR"),
    "fr": ("CD", "CM", "CI", "ML", "SN", "HT", "BF", "NE"),
    "es": ("CO", "PE", "GT", "HN", "MX", "BO", "EC"),
    "ar": ("IQ", "LY", "YE", "SD", "SY", "EG"),
    "sw": ("KE", "TZ", "UG", "CD"),
    "pt": ("MZ", "AO", "BR", "GW"),
}
_CHANNELS = (
    (Channel.ANONYMOUS, 64),
    (Channel.CONFIDENTIAL, 28),
    (Channel.INTERMEDIARY, 5),
    (Channel.STAFF_RECORDED, 3),
)
_FILERS = ((Filer.SELF, 68), (Filer.FOR_OTHER, 21), (Filer.WITNESS, 11))
_TOPIC_WEIGHTS = {
    "use_of_force": 18,
    "working_conditions": 16,
    "detention": 10,
    "discrimination": 8,
    "weapons": 6,
    "training": 5,
    "vetting": 4,
    "sexual_violence": 5,
    "forced_labour": 5,
    "child_labour": 3,
    "torture": 3,
    "trafficking": 2,
    "management": 4,
    "incident_reporting": 4,
    "grievance_mechanism": 4,
    "other": 3,
}
_STORIES = {
    "en": (
        "Guards at the gate beat a worker who asked for his unpaid wages.",
        "Security staff searched women at the checkpoint in front of everyone.",
        "The guards fired shots over the heads of people walking to the market.",
        "We were locked in the compound overnight without water after a protest.",
    ),
    "fr": (
        "Des agents ont frappé un vendeur devant le marché sans raison.",
        "Les gardes nous empêchent de passer sur le chemin de l'école.",
        "On nous a retenus toute une nuit dans un conteneur au port.",
    ),
    "es": (
        "Los vigilantes nos obligan a trabajar turnos de dieciséis horas.",
        "Un guardia amenazó a mi hermano con su arma en el campamento.",
        "Nos quitaron los teléfonos y borraron las fotos que tomamos.",
    ),
    "ar": (
        "احتجزنا الحراس عند نقطة التفتيش لساعات دون سبب.",
        "ضرب أحد الحراس عاملاً طالب بأجره.",
    ),
    "sw": (
        "Walinzi walimpiga mfanyakazi aliyeomba mshahara wake.",
        "Walinzi walitutishia tulipopita karibu na uzio wa shamba.",
    ),
    "pt": (
        "Os seguranças agrediram um vendedor na entrada da mina.",
        "Fomos impedidos de sair do alojamento durante a noite.",
    ),
}
_PEOPLE = ("1", "2-5", "6-20", "21+")
_NAMES = ("A. Mensah", "Marie K.", "Luis P.", "Fatima H.", "Juma O.", "Ana S.", "Omar T.")


@dataclass(frozen=True)
class BulkResult:
    """What a bulk run made, and how long it took."""

    made: int
    receipts: list[str]
    seconds: float


@dataclass(frozen=True)
class _Profile:
    """The clear metadata and sealed content of one generated case."""

    case: Case
    topics: tuple[str, ...]
    answers: dict[str, Any]
    identity: dict[str, Any] | None


def ensure_bulk_companies(db: Session) -> list[uuid.UUID]:
    """Every demo member company (created if missing), as ids."""
    demo_data.ensure_companies(db)
    for name in BULK_COMPANIES:
        if db.scalar(select(Company.id).where(Company.name == name)) is None:
            db.add(Company(name=name))
    db.commit()
    names = (*demo_data.DEMO_COMPANIES, *BULK_COMPANIES)
    return list(db.scalars(select(Company.id).where(Company.name.in_(names))))


def _weighted(rng: random.Random, choices: Sequence[tuple[Any, int]]) -> Any:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights)[0]


def _stage_for_age(rng: random.Random, age: int) -> Stage:
    for bound, weights in _STAGES_BY_AGE:
        if age < bound:
            return Stage(_weighted(rng, weights))
    raise AssertionError(age)


def _references(db: Session, count: int, taken: set[str]) -> list[str]:
    """``count`` new references in the format of ``intake.new_reference``, checked in one query."""
    alphabet = intake._REFERENCE_ALPHABET
    while True:
        fresh: set[str] = set()
        while len(fresh) < count:
            raw = "".join(secrets.choice(alphabet) for _ in range(8))
            reference = f"{raw[:4]}-{raw[4:]}"
            if reference not in taken:
                fresh.add(reference)
        clash = set(db.scalars(select(Case.reference).where(Case.reference.in_(fresh))))
        if not clash:
            taken.update(fresh)
            return sorted(fresh)
        taken.update(clash)


class _Generator:
    """Draws realistic case profiles from a seeded random source."""

    def __init__(
        self,
        rng: random.Random,
        languages: Sequence[str],
        companies: Sequence[uuid.UUID],
        assignees: Sequence[uuid.UUID],
        on: date,
    ) -> None:
        self.rng = rng
        self.languages = [(code, weight) for code, weight in _LANGUAGES if code in languages]
        if not self.languages:
            self.languages = [(code, 1) for code in languages]
        self.companies = list(companies)
        self.assignees = list(assignees)
        self.today = on
        self.topics = [
            (topic, weight) for topic, weight in _TOPIC_WEIGHTS.items() if topic in TOPICS
        ]

    def profile(self, reference: str) -> _Profile:
        rng = self.rng
        # More recent cases than old ones: the caseload grows.
        age = int(HISTORY_DAYS * rng.random() ** 1.4)
        received = self.today - timedelta(days=age)
        stage = _stage_for_age(rng, age)
        language = str(_weighted(rng, self.languages))
        country = rng.choice(_COUNTRIES.get(language, _COUNTRIES["en"]))
        channel = Channel(_weighted(rng, _CHANNELS))
        filer = Filer(_weighted(rng, _FILERS))
        company_id = rng.choice(self.companies) if self.companies and rng.random() < 0.85 else None
        urgent = rng.random() < 0.08
        topics = tuple(
            sorted({str(_weighted(rng, self.topics)) for _ in range(rng.choice((1, 1, 2, 3)))})
        )
        if stage is Stage.RECEIVED:
            changed = received
        else:
            # A case moves to its present stage some time after it came in, often recently.
            span = min(age, int(_DEADLINE_DAYS.get(stage, 60) * 1.6))
            changed = self.today - timedelta(days=rng.randint(0, max(span, 0)))
            changed = max(changed, received)
        due = None if stage in _FINISHED else changed + timedelta(days=_DEADLINE_DAYS[stage])
        assigned = (
            rng.choice(self.assignees)
            if self.assignees and stage is not Stage.RECEIVED and rng.random() < 0.7
            else None
        )
        confidential = channel is Channel.CONFIDENTIAL
        consent = (
            (Consent(rng.choice(("yes", "no"))), Consent(rng.choice(("yes", "no"))))
            if confidential
            else (Consent.UNASKED, Consent.UNASKED)
        )
        outcome = None
        if stage is Stage.CLOSED:
            outcome = rng.choice(list(Outcome)).value
        elif stage is Stage.NOT_ELIGIBLE:
            outcome = Outcome.NOT_ELIGIBLE.value
        case = Case(
            id=uuid.uuid4(),
            reference=reference,
            received_on=received,
            stage=stage.value,
            stage_changed_on=changed,
            next_due_on=due,
            language=language,
            channel=channel.value,
            country=country,
            urgent=urgent,
            kind=(ComplaintKind.EVIDENCE if filer is Filer.WITNESS else ComplaintKind.HARM).value,
            filer=filer.value,
            company_id=company_id,
            identity_to_company=consent[0].value,
            identity_to_bodies=consent[1].value,
            outcome=outcome,
            assigned_to_id=assigned,
        )
        answers: dict[str, Any] = {
            "filer": filer.value,
            "what_happened": rng.choice(_STORIES.get(language, _STORIES["en"])),
            "topics": list(topics),
            "when_month": str(received.month),
            "when_year": received.year,
            "country": country,
            "company": str(company_id) if company_id else "dont_know",
            "people_affected": rng.choice(_PEOPLE),
            "danger_now": "yes" if urgent else "no",
            "contact_mode": "confidential" if confidential else "anonymous",
        }
        identity = None
        if confidential:
            identity = {
                "name": rng.choice(_NAMES),
                "phone": f"+000 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                "preferred_contact": "phone",
            }
        return _Profile(case=case, topics=topics, answers=answers, identity=identity)


def _store(
    db: Session,
    keyring: Keyring,
    holders: Sequence[Account],
    recovery_public_key: bytes,
    profile: _Profile,
) -> None:
    """Add one case, its compartments and its sealed records to the session (no flush)."""
    case = profile.case
    db.add(case)
    db.add_all(CaseTopic(case_id=case.id, topic=topic) for topic in profile.topics)
    compartments = {
        kind: new_compartment(db, keyring, case.id, kind, holders, recovery_public_key)
        for kind in (CompartmentKind.CASE, CompartmentKind.IDENTITY, CompartmentKind.STAFF)
    }
    case_compartment, case_key = compartments[CompartmentKind.CASE]
    seal(
        db,
        keyring,
        case_compartment,
        RecordKind.ANSWERS,
        intake._json(profile.answers),
        AuthorRole.REPORTER,
        private_key=case_key,
    )
    if profile.identity:
        identity_compartment, identity_key = compartments[CompartmentKind.IDENTITY]
        record = seal(
            db,
            keyring,
            identity_compartment,
            RecordKind.IDENTITY,
            intake._json(profile.identity),
            AuthorRole.REPORTER,
            private_key=identity_key,
        )
        record.sequence = 2  # after the answers, as a public filing numbers them


def _bulk(
    db: Session,
    keyring: Keyring,
    settings: Settings,
    count: int,
    seed: int | None,
    batch_size: int,
    progress: Callable[[int], None],
) -> None:
    """Make ``count`` cases without receipts, one commit per batch; report each batch made."""
    recovery_public_key = installation(db, keyring).recovery_public_key
    holders = intake.intake_team(db)
    assignees = [
        account.id
        for account in holders
        if account.role in (Role.CASEWORKER.value, Role.SUPERVISOR.value)
    ]
    generator = _Generator(
        # Demo data, not secrets.
        random.Random(seed),  # noqa: S311  # nosec B311
        settings.languages,
        ensure_bulk_companies(db),
        assignees,
        today(),
    )
    taken: set[str] = set()
    remaining = count
    while remaining > 0:
        size = min(batch_size, remaining)
        try:
            # Nothing in a batch is read back before its commit: no flush until then.
            with db.no_autoflush:
                for reference in _references(db, size, taken):
                    profile = generator.profile(reference)
                    _store(db, keyring, holders, recovery_public_key, profile)
            db.commit()
        except IntegrityError:
            # Another process took one of these references meanwhile: make the batch again.
            db.rollback()
            continue
        remaining -= size
        progress(size)


def _worker(
    settings: Settings, count: int, seed: int | None, batch_size: int, done: Queue[int]
) -> None:
    """One process of a parallel run: its own engine, its share of the cases."""
    database = Database(settings.database_url)
    keyring = Keyring(DataDir(settings.data_dir).server_mac_key())
    try:
        with Session(database.engine) as db:
            _bulk(db, keyring, settings, count, seed, batch_size, done.put)
    finally:
        database.dispose()


def _in_parallel(
    settings: Settings,
    count: int,
    workers: int,
    seed: int | None,
    batch_size: int,
    progress: Callable[[int], None],
) -> None:
    """Share ``count`` cases among ``workers`` processes; each writes its own batches.

    Sealing is most of the work and runs on every core; the database takes one writer at a
    time (SQLite), which each process is for the moment of its commit only.
    """
    context = multiprocessing.get_context("spawn")
    done: Queue[int] = context.Queue()
    shares = [count // workers + (1 if index < count % workers else 0) for index in range(workers)]
    processes = [
        context.Process(
            target=_worker,
            args=(settings, share, None if seed is None else seed * 1000 + index, batch_size, done),
        )
        for index, share in enumerate(shares)
    ]
    for process in processes:
        process.start()
    made = 0
    while made < count and any(process.is_alive() for process in processes):
        try:
            made += done.get(timeout=1)
        except queue.Empty:
            continue
        progress(made)
    for process in processes:
        process.join()
    while made < count:  # batches reported just before a process ended
        try:
            made += done.get(timeout=1)
        except queue.Empty:
            break
        progress(made)
    failed = [process.exitcode for process in processes if process.exitcode != 0]
    if failed or made != count:
        raise RuntimeError(f"demo case workers failed (exit codes {failed}, {made} of {count})")


def make_demo_cases(
    db: Session,
    keyring: Keyring,
    settings: Settings,
    data_dir: DataDir,
    count: int,
    *,
    receipts: int = RECEIPT_CASES,
    batch_size: int = BATCH_SIZE,
    seed: int | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> BulkResult:
    """Make ``count`` demo cases: the first ``receipts`` filed with a receipt, the rest in bulk.

    Every case is granted to the current intake team and sealed to the recovery key, exactly as
    a public filing is. Large runs use one process per core (``workers`` says how many; one
    below ``PARALLEL_FROM`` cases). ``progress`` is called with the number made so far after
    each batch.
    """
    started = time.perf_counter()
    made_receipts: list[str] = []
    with_receipt = min(count, receipts)
    with notify.paused():  # demo data: nobody is to be emailed about it
        for index in range(with_receipt):
            filed = intake.file_complaint(
                db, keyring, settings, data_dir, demo_data.complaint(db, index)
            )
            made_receipts.append(format_receipt(filed.receipt))
    remaining = count - with_receipt
    if remaining > 0:
        ensure_bulk_companies(db)  # before any worker, which would race to create them
        if workers is None:
            workers = min(2, os.cpu_count() or 1) if remaining >= PARALLEL_FROM else 1
        made = [with_receipt]

        def report(batch: int) -> None:
            made[0] += batch
            if progress is not None:
                progress(made[0])

        if workers > 1:
            _in_parallel(
                settings,
                remaining,
                workers,
                seed,
                batch_size,
                lambda total: progress(with_receipt + total) if progress else None,
            )
        else:
            _bulk(db, keyring, settings, remaining, seed, batch_size, report)
        # Fresh statistics, so the planner knows which filters are selective (SQLite keeps none
        # until asked; PostgreSQL would gather them later by itself).
        db.execute(text("ANALYZE"))
        db.commit()
    return BulkResult(made=count, receipts=made_receipts, seconds=time.perf_counter() - started)
