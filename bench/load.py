"""Load: many reporters filing at once, each with a 1 MB attachment, against gunicorn.

    python -m bench.load                                  # 50 reporters, SQLite then PostgreSQL
    python -m bench.load --reporters 20 --database sqlite

For each database: a new data dir (and for PostgreSQL a throwaway cluster on loopback), ``flask
setup``, one intake caseworker (so every case is granted to someone and mailed about, as in a
real installation, to an SMTP sink on loopback), and gunicorn with 4 workers at production
settings (production Argon2id: nothing is lowered). Then:

- the baseline: a few filings one after the other, nothing else running;
- the load: N reporters (threads) start together, each walking the whole filing over HTTP as a
  browser does (start, who, what, safety, remedy, contact, evidence with 1 MB of random bytes,
  check, send; forms URL-encoded as a browser sends them, multipart only for the upload) and
  keeping its receipt;
- the check: every receipt must open its case through ``/follow-up`` (2 at a time: each check
  is an Argon2id run too), and the database must hold exactly one case per receipt.

Receipt checks are throttled by the portal (``portal.config.Settings``: ``follow_up_per_client``
= 5 tries a minute per client address, ``follow_up_rate``/``follow_up_burst`` = 4 a second, 8
at once, per process); none of these has a ``PORTAL_`` variable. The servers run as behind one
reverse proxy (``PORTAL_PROXY_HOPS=1``, a production setting) and each reporter comes from an
address of its own in ``X-Forwarded-For``, as real reporters do; otherwise all the checks would
come from 127.0.0.1 and 50 of them would need about ten minutes at 5 a minute. A check answered
429 anyway is retried after a pause and counted as throttled, never as lost.

Printed per database: filings, errors, lost receipts, wall time, throughput, p50/p95 latency of
the final send and of the whole walk, the Argon2id bound (cores / one production derivation,
measured in-process) and throughput as a share of it, and the CPU time each filing cost in the
servers, the database and this load generator (which runs on the same cores).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, select, table

from crypto import PRODUCTION, derive_key, new_salt
from tests.support.filing import DEFAULT_ANSWERS
from tests.support.http import Client, Reply
from tests.support.server import ServerProcess, run_cli
from tests.support.smtp import running_sink
from tests.support.throwaway_pg import ThrowawayCluster

WORKERS = 4
ATTACHMENT_BYTES = 1000 * 1000  # 1 MB
GOAL = 0.8  # of the Argon2id bound
CHECK_CONCURRENCY = 2
BASELINE_RUNS = 3
DATABASES = ("sqlite", "postgresql")
STEPS = ("who", "what", "safety", "remedy", "contact")
EMAIL = "intake@example.org"
PASSWORD = "load bench, forty-two lanterns"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
RECEIPT = re.compile(r'id="receipt">([0-9 ]+)<')
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class WalkError(Exception):
    """A reporter's filing did not end with a receipt."""


@dataclass
class Outcome:
    """One reporter's filing."""

    index: int
    receipt: str | None = None
    send_seconds: float | None = None
    walk_seconds: float | None = None
    error: str | None = None


@dataclass
class CpuSeconds:
    """CPU time spent during the load (all cores together)."""

    server: float
    database: float
    client: float
    machine_busy: float  # every process, ours or not
    machine_idle: float


@dataclass
class LoadResult:
    database: str
    reporters: int
    outcomes: list[Outcome]
    wall_seconds: float
    baseline: list[Outcome] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    check_errors: list[str] = field(default_factory=list)
    throttled: int = 0
    check_seconds: float = 0.0
    cases_stored: int = 0
    receipt_locks: int = 0
    mails: int = 0
    cpu: CpuSeconds | None = None

    @property
    def receipts(self) -> list[str]:
        return [o.receipt for o in self.baseline + self.outcomes if o.receipt]

    @property
    def errors(self) -> list[str]:
        failed = [o for o in self.baseline + self.outcomes if o.error]
        return [f"reporter {o.index}: {o.error}" for o in failed] + self.check_errors

    @property
    def filed(self) -> int:
        return sum(1 for o in self.outcomes if o.receipt)

    @property
    def throughput(self) -> float:
        return self.filed / self.wall_seconds


def address(index: int) -> str:
    """A reporter's own address, as a reverse proxy would pass it on."""
    return f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


def _client(base: str, index: int) -> Client:
    client = Client(base)
    client.opener.addheaders.append(("X-Forwarded-For", address(index)))
    return client


def _page(reply: Reply, what: str, marker: str | None = None) -> str:
    """The CSRF token of a page that must have come back (after any redirect) with 200."""
    if reply.status != 200:
        raise WalkError(f"{what}: HTTP {reply.status}")
    if marker is not None and marker not in reply.text:
        raise WalkError(f"{what}: not the expected page (no {marker!r})")
    match = CSRF.search(reply.text)
    if match is None:
        raise WalkError(f"{what}: no CSRF token")
    return match.group(1)


def file_one(base: str, index: int, attachment: bytes) -> Outcome:
    """Walk the whole filing as a browser does; never raises."""
    outcome = Outcome(index)
    started = time.perf_counter()
    try:
        client = _client(base, index)
        token = _page(client.get("/report"), "GET /report")
        token = _page(client.submit("/report", {"csrf_token": token}), "POST /report")
        for step in STEPS:
            fields: dict[str, str | list[str]] = {"csrf_token": token}
            for name, value in DEFAULT_ANSWERS[step].items():
                fields[name] = value if isinstance(value, list) else str(value)
            if step == "what":
                fields["what_happened"] = f"Load reporter {index}: they beat him at the gate"
            token = _page(client.submit(f"/report/{step}", fields), f"POST /report/{step}")
        files = [("attachments", f"photo-{index}.jpg", attachment, "image/jpeg")]
        reply = client.post("/report/evidence", {"csrf_token": token, "action": "continue"}, files)
        token = _page(reply, "POST /report/evidence", 'action="/report/send')
        sending = time.perf_counter()
        reply = client.submit("/report/send", {"csrf_token": token})
        done = time.perf_counter()
        if reply.status != 200:
            raise WalkError(f"POST /report/send: HTTP {reply.status}")
        match = RECEIPT.search(reply.text)
        if match is None:
            raise WalkError("POST /report/send: no receipt on the page")
        outcome.receipt = match.group(1)
        outcome.send_seconds = done - sending
        outcome.walk_seconds = done - started
    except Exception as exc:  # a failed filing is a figure, not a crash
        outcome.error = str(exc) if isinstance(exc, WalkError) else repr(exc)
    return outcome


def run_reporters(base: str, reporters: int, first_index: int = 0) -> tuple[list[Outcome], float]:
    """``reporters`` filings started together; their outcomes and the wall time of them all."""
    attachments = [os.urandom(ATTACHMENT_BYTES) for _ in range(reporters)]
    outcomes: list[Outcome | None] = [None] * reporters
    go = threading.Event()

    def reporter(slot: int) -> None:
        go.wait()
        outcomes[slot] = file_one(base, first_index + slot, attachments[slot])

    threads = [threading.Thread(target=reporter, args=(slot,)) for slot in range(reporters)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    go.set()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    done = [
        o if o is not None else Outcome(first_index + slot, error="the thread gave no outcome")
        for slot, o in enumerate(outcomes)
    ]
    return done, wall


def check_receipt(base: str, index: int, receipt: str) -> tuple[str, int]:
    """("opened" | "lost" | an error, 429 retries): does this receipt open its case?"""
    client = _client(base, index)
    throttled = 0
    try:
        while True:
            token = _page(client.get("/follow-up"), "GET /follow-up")
            reply = client.submit("/follow-up", {"csrf_token": token, "receipt": receipt})
            if reply.status == 429 and throttled < 20:
                throttled += 1
                time.sleep(5)
                continue
            if reply.status == 200 and "Your complaint" in reply.text:
                return "opened", throttled
            if "We found no complaint with this receipt number." in reply.text:
                return "lost", throttled
            return f"receipt check: HTTP {reply.status}", throttled
    except Exception as exc:
        return f"receipt check: {exc!r}", throttled


def check_receipts(base: str, outcomes: Sequence[Outcome], result: LoadResult) -> None:
    started = time.perf_counter()
    with ThreadPoolExecutor(CHECK_CONCURRENCY) as pool:
        futures = [
            (o.receipt, pool.submit(check_receipt, base, o.index, o.receipt))
            for o in outcomes
            if o.receipt
        ]
        for receipt, future in futures:
            verdict, throttled = future.result()
            result.throttled += throttled
            if verdict == "lost":
                result.lost.append(receipt)
            elif verdict != "opened":
                result.check_errors.append(f"{receipt}: {verdict}")
    result.check_seconds = time.perf_counter() - started


def _count_rows(url: str, name: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(table(name))) or 0)
    finally:
        engine.dispose()


def _process_cpu(pid: int) -> tuple[int, int, float] | None:
    """(parent pid, process group, user+system CPU seconds) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[2]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _cpu_by_pid(group: int | None = None, parent: int | None = None) -> dict[int, float]:
    """CPU seconds of every process in ``group``, or ``parent`` and its children."""
    seen = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        info = _process_cpu(int(entry))
        if info is None:
            continue
        ppid, pgrp, seconds = info
        if (group is not None and pgrp == group) or (
            parent is not None and (int(entry) == parent or ppid == parent)
        ):
            seen[int(entry)] = seconds
    return seen


def _machine_cpu() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot, all cores."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS, idle / CLOCK_TICKS


def _delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


@dataclass
class Portal:
    database: str
    url: str
    server: ServerProcess
    postmaster: int | None
    mails: int = 0


@contextlib.contextmanager
def portal(database: str, root: Path, workers: int = WORKERS) -> Iterator[Portal]:
    """A set-up portal on ``database`` served by gunicorn at production settings."""
    if database not in DATABASES:
        raise ValueError(database)
    root.mkdir(parents=True, exist_ok=True)
    data_dir = root / "data"
    log = root / "portal.log"
    cluster = ThrowawayCluster() if database == "postgresql" else None
    with running_sink() as sink, contextlib.ExitStack() as stack:
        if cluster is not None:
            url = cluster.start()
            stack.callback(cluster.remove)
        else:
            url = f"sqlite:///{data_dir / 'portal.sqlite3'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
        env.update(
            PORTAL_DATA_DIR=str(data_dir),
            PORTAL_DATABASE_URL=url,
            PORTAL_PROXY_HOPS="1",
            PORTAL_SMTP_PORT=str(sink.port),
        )
        run_cli(env, log, "setup", "--recovery-file", str(root / "recovery.txt"))
        run_cli(
            env,
            log,
            "account",
            "create",
            "--role",
            "caseworker",
            "--email",
            EMAIL,
            "--name",
            "Intake Caseworker",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        server = ServerProcess("gunicorn", env, log, workers=workers)
        stack.callback(server.stop)
        postmaster = None
        if cluster is not None:
            pid_file = cluster.dir / "data" / "postmaster.pid"
            postmaster = int(pid_file.read_text().split()[0])
        handle = Portal(database, url, server, postmaster)
        try:
            yield handle
        finally:
            handle.mails = len(sink.messages)


def run(database: str, reporters: int, root: Path, baseline_runs: int = 0) -> LoadResult:
    """Baseline (optional), load, then every receipt checked; nothing asserted here."""
    with portal(database, root) as site:
        base = site.server.url
        baseline = [
            file_one(base, 100_000 + i, os.urandom(ATTACHMENT_BYTES)) for i in range(baseline_runs)
        ]
        server_before = _cpu_by_pid(group=site.server.process.pid)
        db_before = _cpu_by_pid(parent=site.postmaster) if site.postmaster else {}
        client_before = time.process_time()
        busy_before, idle_before = _machine_cpu()
        outcomes, wall = run_reporters(base, reporters)
        busy_after, idle_after = _machine_cpu()
        cpu = CpuSeconds(
            server=_delta(server_before, _cpu_by_pid(group=site.server.process.pid)),
            database=_delta(db_before, _cpu_by_pid(parent=site.postmaster))
            if site.postmaster
            else 0.0,
            client=time.process_time() - client_before,
            machine_busy=busy_after - busy_before,
            machine_idle=idle_after - idle_before,
        )
        result = LoadResult(database, reporters, outcomes, wall, baseline=baseline, cpu=cpu)
        check_receipts(base, baseline + outcomes, result)
        result.cases_stored = _count_rows(site.url, "cases")
        result.receipt_locks = _count_rows(site.url, "receipt_locks")
    result.mails = site.mails
    return result


def argon2_seconds(runs: int = 5) -> float:
    """One production Argon2id derivation, in-process, median of ``runs``."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        derive_key(b"load benchmark", new_salt(), PRODUCTION)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def cores() -> int:
    return len(os.sched_getaffinity(0))


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def report(result: LoadResult, bound: float) -> None:
    sends = [o.send_seconds for o in result.outcomes if o.send_seconds is not None]
    walks = [o.walk_seconds for o in result.outcomes if o.walk_seconds is not None]
    base_sends = [o.send_seconds for o in result.baseline if o.send_seconds is not None]
    base_walks = [o.walk_seconds for o in result.baseline if o.walk_seconds is not None]
    print(f"{result.database}: {result.reporters} reporters, gunicorn {WORKERS} workers")
    if base_sends:
        print(
            f"  baseline, one at a time ({len(base_sends)}): send median "
            f"{statistics.median(base_sends):.3f} s, whole walk median "
            f"{statistics.median(base_walks):.3f} s"
        )
    print(
        f"  filings {result.filed}/{result.reporters}, errors {len(result.errors)}, "
        f"lost {len(result.lost)} (cases stored {result.cases_stored}, receipt locks "
        f"{result.receipt_locks}, receipts {len(result.receipts)}, mails {result.mails})"
    )
    for error in result.errors[:10]:
        print(f"    {error}")
    print(f"  wall time {result.wall_seconds:.1f} s, throughput {result.throughput:.2f} filings/s")
    if sends:
        print(
            f"  send latency p50 {percentile(sends, 0.5):.2f} s, p95 "
            f"{percentile(sends, 0.95):.2f} s; whole walk p50 {percentile(walks, 0.5):.2f} s, "
            f"p95 {percentile(walks, 0.95):.2f} s"
        )
    ratio = result.throughput / bound
    verdict = "meets" if ratio >= GOAL else "MISSES"
    print(
        f"  Argon2id bound {bound:.2f} filings/s: ratio {ratio:.0%} ({verdict} the {GOAL:.0%} goal)"
    )
    if result.cpu is not None and result.filed:
        per = 1 / result.filed
        cpu = result.cpu
        print(
            f"  CPU per filing: servers {cpu.server * per:.3f} s, database "
            f"{cpu.database * per:.3f} s, load generator {cpu.client * per:.3f} s "
            f"(total {(cpu.server + cpu.database + cpu.client) * per:.3f} s on {cores()} cores)"
        )
        ours = cpu.server + cpu.database + cpu.client
        ceiling = cores() * result.filed / ours
        print(
            f"  CPU-bound ceiling, had the machine been ours alone: {ceiling:.2f} filings/s "
            f"({ceiling / bound:.0%} of the bound)"
        )
        print(
            f"  machine during the load: {ours:.1f} s CPU ours, "
            f"{max(0.0, cpu.machine_busy - ours):.1f} s other processes, "
            f"{cpu.machine_idle:.1f} s idle (of {cores() * result.wall_seconds:.1f} s)"
        )
    print(
        f"  receipt checks: {len(result.receipts)} in {result.check_seconds:.1f} s, "
        f"{CHECK_CONCURRENCY} at a time, {result.throttled} answered 429 and retried"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reporters", type=int, default=50)
    parser.add_argument("--database", choices=(*DATABASES, "both"), default="both")
    parser.add_argument("--baseline", type=int, default=BASELINE_RUNS, help="filings alone first")
    args = parser.parse_args(argv)
    seconds = argon2_seconds()
    bound = cores() / seconds
    print(
        f"Argon2id, production ({PRODUCTION.memory_kib // 1024} MiB, t={PRODUCTION.time_cost}), "
        f"median of 5 in-process: {seconds:.3f} s; bound on {cores()} cores: "
        f"{bound:.2f} filings/s"
    )
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    chosen = DATABASES if args.database == "both" else (args.database,)
    with tempfile.TemporaryDirectory(prefix="portal-load-") as tmp:
        for database in chosen:
            result = run(database, args.reporters, Path(tmp) / database, args.baseline)
            report(result, bound)
            print(f"  load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
