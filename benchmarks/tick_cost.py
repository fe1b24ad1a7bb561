"""What one scheduler tick costs, by how much is due and by how many schedules exist; and how late messages go.

Run from the repository root:

    .venv/bin/python benchmarks/tick_cost.py [--skip-postgres] [--admin-url URL] [--repeats N] [--interval S]
                                             [--skip-cost] [--skip-lateness]

Part 1, tick cost. A workspace of 1,000 people, 50,000 already-sent outbox rows (history), and then 10,000 and
100,000 active one-off schedules spread over the next year (none due). For each number of due schedules (0, 10,
100, 1,000 daily reminders that came due a minute ago), `Ticker.expand_due` and `Ticker.deliver_ready` are
timed separately (looped until drained, as `tick()` does) with a no-op sender and a fake clock at a Monday 10:00 in
New York, counting the SQL statements each part sends. The due rows and their outbox rows are removed after each
repetition; the median of the repetitions is reported. On PostgreSQL the due and ready queries are EXPLAINed
(ANALYZE, BUFFERS) with 100 due among 100,000, to show they read only what is due. Side by side, with 100 and
1,000 due among 100,000, the same tick forced down its row-by-row fallback (one savepoint, INSERT and UPDATE per
schedule, one transaction per recorded send: how the tick worked before batching) gives the ratio.

Part 2, delivery lateness, side by side at one TICK_SECONDS (default 10, the setting's default): the periodic
tick as it was (APScheduler every TICK_SECONDS, `start_periodic`) against the delivery loop that replaces it
(`scheduling.wakeup.DeliveryLoop`: sleeps until the next thing is due, at most TICK_SECONDS, and wakes at once
when a `Wakeup` rings). Real clock, a no-op sender recording wall-clock send times, 300 messages over 30 s:
(a) one-off schedules due at spread instants, written beforehand (PostgreSQL); (b) rows written "due now", one
transaction each, by another process (PostgreSQL: only NOTIFY can wake the loop) or another thread (SQLite: the
commit hook). Lateness is send time minus due time; p50/p99/max per run.

SQLite is a file in a temp dir. PostgreSQL is a database `bench_tick` created through `--admin-url` (default
postgresql://postgres@127.0.0.1:5432/postgres) and dropped at the end. Everything stops by itself in about
seven minutes (`--repeats`, `--skip-cost` and `--skip-lateness` shorten it).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, event, insert, make_url, select, text  # noqa: E402

from scheduling.background import start_periodic  # noqa: E402
from scheduling.clock import FakeClock, SystemClock  # noqa: E402
from scheduling.kinds import Kind, Kinds, Notice  # noqa: E402
from scheduling.tick import QuietHours, Recipient, Ticker, TickReport  # noqa: E402
from scheduling.wakeup import DeliveryLoop, Wakeup  # noqa: E402
from storage.database import Database, connect, upgrade  # noqa: E402
from storage.models import OutboxMessage, Person, Schedule, Workspace  # noqa: E402
from storage.scheduling import Outbox, Schedules  # noqa: E402
from storage.unit_of_work import Repos, unit_of_work  # noqa: E402

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York
ZONE = "America/New_York"
KIND = "bench.reminder"
PEOPLE = 1_000
HISTORY = 50_000
DUE_COUNTS = (0, 10, 100, 1_000)
BASELINE_DUE = (100, 1_000)
SIZES = (10_000, 100_000)
PAUSED = 10_000
LATENESS_MESSAGES = 300
LATENESS_SPREAD = 30.0  # seconds over which the messages come due
CHUNK = 10_000
DB_NAME = "bench_tick"

log = logging.getLogger("tick_cost")


def remind_owner(_repos: Repos, schedule: Schedule, occurrence: datetime) -> list[Notice]:
    assert schedule.owner_id is not None
    context = {"ref": f"{schedule.id}-{occurrence:%Y%m%d%H%M%S}", "due": occurrence.timestamp()}
    return [Notice(schedule.owner_id, [{"template": "errors/unexpected", "context": context}])]


def bench_kinds() -> Kinds:
    kinds = Kinds()
    kinds.register(Kind(KIND, remind_owner))
    return kinds


class NullSender:
    """Sends nothing; remembers when each message would have left, for the lateness part."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, float]] = []  # (due, sent) as epoch seconds
        self.lock = threading.Lock()

    def send(self, recipient: Recipient, payload: dict[str, Any]) -> None:
        sent = time.time()
        due = payload["messages"][0]["context"]["due"]
        with self.lock:
            self.sent.append((due, sent))


# -- databases -------------------------------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    db: Database
    version: str


@contextmanager
def sqlite_backend() -> Iterator[Backend]:
    with tempfile.TemporaryDirectory(prefix="tick-cost-") as folder:
        db = connect(f"sqlite:///{folder}/bench.db")
        upgrade(db)
        try:
            yield Backend("SQLite", db, f"SQLite {sqlite3.sqlite_version}")
        finally:
            db.dispose()


@contextmanager
def postgres_url(admin_url: str, name: str) -> Iterator[str]:
    """A fresh PostgreSQL database `name` made through `admin_url`, dropped afterwards; yields its URL."""
    admin = connect(admin_url)
    admin_engine = admin.engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin.engine.url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def postgres_backend(admin_url: str) -> Iterator[Backend]:
    with postgres_url(admin_url, DB_NAME) as url:
        db = connect(url)
        try:
            upgrade(db)
            with db.engine.connect() as connection:
                version = connection.execute(text("SHOW server_version")).scalar_one()
            yield Backend("PostgreSQL", db, f"PostgreSQL {version}")
        finally:
            db.dispose()


class StatementCounter:
    """Counts the SQL statements an engine sends, so "grows with what is due" can be seen, not just timed.

    It also adds up the database's share of the time: each statement from its send to its answer (the round trip
    and the server's work, not the Python around it) and each COMMIT until it returns.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.count = 0
        self.seconds = 0.0
        self._started = 0.0
        event.listen(db.engine, "before_cursor_execute", self._count)
        event.listen(db.engine, "after_cursor_execute", self._done)
        event.listen(db.engine, "commit", self._commit)
        event.listen(db.sessions, "after_commit", self._committed)

    def reset(self) -> None:
        self.count, self.seconds = 0, 0.0

    def remove(self) -> None:
        event.remove(self.db.engine, "before_cursor_execute", self._count)
        event.remove(self.db.engine, "after_cursor_execute", self._done)
        event.remove(self.db.engine, "commit", self._commit)
        event.remove(self.db.sessions, "after_commit", self._committed)

    def _count(self, *_: Any) -> None:
        self.count += 1
        self._started = time.perf_counter()

    def _done(self, *_: Any) -> None:
        self.seconds += time.perf_counter() - self._started

    def _commit(self, *_: Any) -> None:
        self._started = time.perf_counter()

    def _committed(self, *_: Any) -> None:
        self.seconds += time.perf_counter() - self._started


# -- seeding (SQLAlchemy Core, in chunks) ---------------------------------------------------------------


def insert_rows(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    with db.engine.begin() as connection:
        for start in range(0, len(rows), CHUNK):
            connection.execute(insert(table), rows[start : start + CHUNK])


def seed_people(db: Database, zone: str = ZONE, quiet: tuple[str, str] | None = None) -> tuple[int, list[int]]:
    with db.engine.begin() as connection:
        workspace_id = connection.execute(
            insert(Workspace).values(platform="slack", external_id="T1", name="", demo=False, created_at=NOW)
        ).inserted_primary_key[0]
    start, end = quiet or (None, None)
    rows = [
        {
            "workspace_id": workspace_id,
            "platform_user_id": f"U{n:05}",
            "display_name": f"Teacher {n}",
            "time_zone": zone,
            "roles": [],
            "email": None,
            "quiet_start": start,
            "quiet_end": end,
            "created_at": NOW,
        }
        for n in range(PEOPLE)
    ]
    insert_rows(db, Person.__table__, rows)
    with db.engine.connect() as connection:
        people = list(connection.execute(select(Person.id).order_by(Person.id)).scalars())
    return workspace_id, people


def schedule_row(workspace_id: int, owner: int, at: datetime, rrule: str | None, subject: str) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "kind": KIND,
        "owner_id": owner,
        "subject": subject,
        "payload": {},
        "time_zone": ZONE,
        "starts_at": at,
        "rrule": rrule,
        "next_run_at": at,
        "occurrence_at": at,
        "status": "active",
        "paused": False,
        "snoozed_until": None,
        "created_at": NOW,
        "updated_at": NOW,
    }


def seed_background(db: Database, workspace_id: int, people: list[int], count: int, offset: int) -> None:
    """`count` one-off schedules spread over the next year: none due, all in the index."""
    rng = random.Random(offset)
    rows = [
        schedule_row(
            workspace_id,
            people[(offset + n) % len(people)],
            NOW + timedelta(hours=1) + timedelta(seconds=rng.uniform(0, 365 * 86400)),
            None,
            f"bench:{offset + n}",
        )
        for n in range(count)
    ]
    insert_rows(db, Schedule.__table__, rows)


def seed_history(db: Database, people: list[int]) -> None:
    """Messages sent over the past months: an outbox in use is mostly history."""
    rows = []
    for n in range(HISTORY):
        at = NOW - timedelta(minutes=5 + n * 3)
        rows.append(
            {
                "idempotency_key": f"history:{n}",
                "kind": KIND,
                "schedule_id": None,
                "recipient_id": people[n % len(people)],
                "payload": {"messages": []},
                "due_at": at,
                "deliver_after": at,
                "status": "sent",
                "attempts": 1,
                "claimed_by": "old",
                "lease_until": None,
                "last_error": None,
                "sent_at": at,
                "created_at": at,
            }
        )
    insert_rows(db, OutboxMessage.__table__, rows)


def analyze(backend: Backend) -> None:
    with backend.db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))


# -- part 1: tick cost ----------------------------------------------------------------------------------


@dataclass
class Cost:
    backend: str
    total: int
    due: int
    expand_ms: float
    deliver_ms: float
    statements: int
    sent: int
    db_ms: float = 0.0
    note: str = ""

    @property
    def tick_ms(self) -> float:
        return self.expand_ms + self.deliver_ms


def add_due(db: Database, workspace_id: int, people: list[int], count: int) -> list[int]:
    """`count` daily 09:59 reminders due a minute ago (the next occurrence is tomorrow, so one message each)."""
    at = NOW - timedelta(minutes=1)
    rows = [schedule_row(workspace_id, people[n % len(people)], at, "FREQ=DAILY", f"due:{n}") for n in range(count)]
    if rows:
        insert_rows(db, Schedule.__table__, rows)
    with db.engine.connect() as connection:
        return list(connection.execute(select(Schedule.id).where(Schedule.subject.like("due:%"))).scalars())


def clear_due(db: Database, ids: list[int]) -> None:
    with db.engine.begin() as connection:
        connection.execute(delete(OutboxMessage).where(OutboxMessage.schedule_id.in_(ids)))
        connection.execute(delete(Schedule).where(Schedule.id.in_(ids)))


class RowByRowTicker(Ticker):
    """The baseline: the same tick forced down its row-by-row fallback, which is how the tick worked before.

    Each schedule in its own savepoint with its own INSERT and UPDATE, and each send recorded in its own
    transaction right after it (`flush_rows=1`), as the old tick did.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, flush_rows=1, **kwargs)

    def expand_due(self, report: TickReport) -> int:
        return self._expand_one_by_one(report)


def measure(
    backend: Backend, workspace_id: int, people: list[int], total: int, due: int, repeats: int, batched: bool = True
) -> Cost:
    db = backend.db
    counter = StatementCounter(db)
    expand_times, deliver_times, statements, sent, db_times = [], [], [], [], []
    kind = Ticker if batched else RowByRowTicker
    for _ in range(repeats):
        ids = add_due(db, workspace_id, people, due)
        ticker = kind(db, FakeClock(NOW), bench_kinds(), {"slack": NullSender()}, ZONE, QuietHours())
        report = TickReport()
        counter.reset()
        started = time.perf_counter()
        while ticker.expand_due(report) == ticker.batch:
            pass
        expanded = time.perf_counter()
        ticker.deliver_ready(report)  # claims and sends batch after batch until nothing is ready
        delivered = time.perf_counter()
        if report.sent != due or report.expanded != due:
            raise RuntimeError(f"expected {due} sent, got {report}")
        expand_times.append((expanded - started) * 1000)
        deliver_times.append((delivered - expanded) * 1000)
        statements.append(counter.count)
        db_times.append(counter.seconds * 1000)
        sent.append(report.sent)
        clear_due(db, ids)
    counter.remove()
    return Cost(
        backend.name,
        total,
        due,
        statistics.median(expand_times),
        statistics.median(deliver_times),
        int(statistics.median(statements)),
        sent[0],
        statistics.median(db_times),
    )


def explain(backend: Backend, workspace_id: int, people: list[int]) -> str:
    """The plans of the due and ready queries with 100 due (and 100 ready) among everything else."""
    db = backend.db
    ids = add_due(db, workspace_id, people, 100)
    ticker = Ticker(db, FakeClock(NOW), bench_kinds(), {"slack": NullSender()}, ZONE, QuietHours())
    ticker.expand_due(TickReport())  # 100 pending outbox rows now, as a tick would leave them before sending
    # the schedules were advanced to tomorrow by expanding; put them back to "due" to explain the due query
    with db.engine.begin() as connection:
        connection.execute(
            Schedule.__table__.update()
            .where(Schedule.id.in_(ids))
            .values(next_run_at=NOW - timedelta(minutes=1), occurrence_at=NOW - timedelta(minutes=1))
        )
    analyze(backend)
    out = []
    for title, query in (
        ("due schedules", Schedules.due_query(NOW, 200)),
        ("ready outbox", Outbox.ready_query(NOW, 200)),
    ):
        compiled = query.compile(dialect=db.engine.dialect)
        with db.engine.connect() as connection:
            transaction = connection.begin()
            if backend.name == "PostgreSQL":
                plan = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {compiled}", compiled.params)
            else:
                params = tuple(compiled.params[name] for name in compiled.positiontup or [])
                params = tuple(p.isoformat(" ") if isinstance(p, datetime) else p for p in params)
                plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
            lines = [" | ".join(str(c) for c in row) if backend.name == "SQLite" else row[0] for row in plan]
            transaction.rollback()
        out.append(f"{backend.name}, {title}:\n" + "\n".join(f"    {line}" for line in lines))
    clear_due(db, ids)
    return "\n".join(out)


def tick_cost(backend: Backend, repeats: int) -> tuple[list[Cost], str]:
    db = backend.db
    workspace_id, people = seed_people(db)
    seed_history(db, people)
    costs: list[Cost] = []
    seeded = 0
    for size in SIZES:
        seed_background(db, workspace_id, people, size - seeded, seeded)
        seeded = size
        analyze(backend)
        for due in DUE_COUNTS:
            cost = measure(backend, workspace_id, people, size, due, repeats if due < 1000 else max(2, repeats // 2))
            costs.append(cost)
            log.info(
                "%s %6d schedules %5d due: expand %.1f ms, deliver %.1f ms, %d statements",
                backend.name,
                size,
                due,
                cost.expand_ms,
                cost.deliver_ms,
                cost.statements,
            )
    for due in BASELINE_DUE:  # side by side, same data: the row-by-row tick the batches replaced
        cost = measure(backend, workspace_id, people, SIZES[-1], due, max(2, repeats // 2), batched=False)
        cost.note = " row by row"
        costs.append(cost)
        log.info("%s row by row %5d due: %.1f ms", backend.name, due, cost.tick_ms)
    seed_paused(db, workspace_id, people, PAUSED)
    analyze(backend)
    for due in (0, 100):
        cost = measure(backend, workspace_id, people, SIZES[-1] + PAUSED, due, repeats)
        cost.note = f" (incl. {PAUSED:,} paused, overdue)"
        costs.append(cost)
    plans = explain(backend, workspace_id, people)
    return costs, plans


def seed_paused(db: Database, workspace_id: int, people: list[int], count: int) -> None:
    """Paused schedules whose time has passed: the due query must step over them in the index, not read them."""
    rows = [
        schedule_row(workspace_id, people[n % len(people)], NOW - timedelta(days=1, seconds=n), None, f"paused:{n}")
        | {"paused": True}
        for n in range(count)
    ]
    insert_rows(db, Schedule.__table__, rows)


# -- part 2: lateness -----------------------------------------------------------------------------------


def weekday_zone(now: datetime) -> str | None:
    """A zone where it is a weekday, away from midnight: nobody is messaged on a weekend."""
    for name in (ZONE, "Etc/GMT+12", "Pacific/Kiritimati", "Asia/Tokyo", "Europe/London", "America/Los_Angeles"):
        here = now.astimezone(ZoneInfo(name))
        if here.weekday() < 5 and 0 < here.hour < 23:
            return name
    return None


@dataclass
class Lateness:
    backend: str
    mode: str
    workload: str
    interval: float
    messages: int
    p50: float
    p99: float
    worst: float
    mean: float
    tick_ms_p50: float


MODES = {
    "periodic": "periodic tick (before)",
    "loop": "DeliveryLoop + Wakeup (now)",
}
WORKLOADS = {
    "scheduled": "schedules due at spread instants",
    "written": "rows written due now by another {writer}",
}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


class TimedTicker(Ticker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.durations: list[float] = []

    def tick(self) -> TickReport:
        began = time.perf_counter()
        try:
            return super().tick()
        finally:
            self.durations.append((time.perf_counter() - began) * 1000)


def write_now(db: Database, people: list[int], start: float, messages: int, spread: float) -> None:
    """Messages written as a feature does ("send it now"), one transaction each, at instants spread evenly."""
    for n in range(messages):
        time.sleep(max(0.0, start + spread * n / messages - time.time()))
        with unit_of_work(db) as repos:
            now = datetime.now(UTC)
            payload = {"messages": [{"template": "errors/unexpected", "context": {"ref": f"now-{n}",
                                                                               "due": time.time()}}]}  # fmt: skip
            repos.outbox.enqueue(key=f"now:{n}", kind=KIND, recipient_id=people[n % len(people)], payload=payload,
                                 due_at=now, now=now)  # fmt: skip


def child_writer(url: str, start: float, messages: int, spread: float) -> int:
    """`--child-writer`: write_now from a process of its own (on PostgreSQL, only NOTIFY reaches the loop)."""
    db = connect(url)
    with db.engine.connect() as connection:
        people = list(connection.execute(select(Person.id).order_by(Person.id)).scalars())
    write_now(db, people, start, messages, spread)
    db.dispose()
    return 0


def lateness(make: Callable[[], Any], interval: float, mode: str, workload: str) -> Lateness | None:
    zone = weekday_zone(datetime.now(UTC))
    if zone is None:
        log.warning("weekend everywhere: skipping the lateness run")
        return None
    with make() as backend:
        db = backend.db
        workspace_id, people = seed_people(db, zone, quiet=("00:00", "23:59"))
        start = time.time() + 2
        if workload == "scheduled":
            at = datetime.fromtimestamp(start, UTC)
            rows = [
                schedule_row(workspace_id, people[n % len(people)],
                             at + timedelta(seconds=LATENESS_SPREAD * n / LATENESS_MESSAGES), None, f"late:{n}")
                for n in range(LATENESS_MESSAGES)
            ]  # fmt: skip
            insert_rows(db, Schedule.__table__, rows)
        sender = NullSender()
        ticker = TimedTicker(db, SystemClock(), bench_kinds(), {"slack": sender}, ZONE, QuietHours())
        writer: Any = None
        if mode == "loop":
            running: Any = DeliveryLoop(ticker, Wakeup.attach(db), timedelta(seconds=interval)).start()
        else:
            running = start_periodic({"tick": ticker.tick}, timedelta(seconds=interval))
        try:
            if workload == "written" and backend.name == "PostgreSQL":
                url = db.engine.url.render_as_string(hide_password=False)
                writer = subprocess.Popen([sys.executable, __file__, "--child-writer", url, str(start),
                                           str(LATENESS_MESSAGES), str(LATENESS_SPREAD)])  # fmt: skip
            elif workload == "written":
                writer = threading.Thread(target=write_now, args=(db, people, start, LATENESS_MESSAGES,
                                                                  LATENESS_SPREAD), daemon=True)  # fmt: skip
                writer.start()
            deadline = time.monotonic() + 2 + LATENESS_SPREAD + 2 * interval + 10
            while len(sender.sent) < LATENESS_MESSAGES and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            running.shutdown(wait=True)
            if isinstance(writer, subprocess.Popen):
                writer.wait(timeout=60)
            elif writer is not None:
                writer.join(timeout=60)
        late = [sent - due for due, sent in sender.sent]
        if len(late) < LATENESS_MESSAGES:
            raise RuntimeError(f"only {len(late)} of {LATENESS_MESSAGES} sent ({mode}, {workload}, {interval} s)")
        result = Lateness(backend.name, mode, workload, interval, len(late), percentile(late, 0.5),
                          percentile(late, 0.99), max(late), statistics.fmean(late),
                          statistics.median(ticker.durations))  # fmt: skip
        log.info("%s %s, %s, every %.0f s: lateness p50 %.2f s, p99 %.2f s, max %.2f s", backend.name, mode,
                 workload, interval, result.p50, result.p99, result.worst)  # fmt: skip
        return result


# -- report ---------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({cpu}), load average {load} when the report was written (the machine is shared), "
        f"CPython {platform.python_version()}, {platform.platform()}; "
        f"growthbot at commit {rev.strip()}{' with uncommitted changes' if dirty.strip() else ''}"
    )


def report(costs: list[Cost], plans: list[str], late: list[Lateness], versions: list[str], seconds: float) -> str:
    lines = [f"**Machine:** {machine()}; {', '.join(versions)}. Run took {seconds:.0f} s.", ""]
    lines += [
        "| Database | Schedules | Due | expand_due ms | deliver_ready ms | Tick ms | ms per due | DB ms per due |"
        " SQL statements |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in costs:
        if c.note == " row by row":
            continue
        per = f"{c.tick_ms / c.due:.2f}" if c.due else "–"
        db_per = f"{c.db_ms / c.due:.2f}" if c.due else f"({c.db_ms:.1f} ms)"
        lines.append(
            f"| {c.backend} | {c.total:,}{c.note} | {c.due:,} | {c.expand_ms:.1f} | {c.deliver_ms:.1f} | "
            f"{c.tick_ms:.1f} | {per} | {db_per} | {c.statements:,} |"
        )
    lines += [
        "",
        "| Database | Schedules | Due | batched ms per due | row by row ms per due | row by row / batched |"
        " DB ms per due (batched / row by row) | statements (batched / row by row) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for slow in (c for c in costs if c.note == " row by row"):
        fast = next(c for c in costs if c.backend == slow.backend and c.due == slow.due and c.total == slow.total
                    and not c.note)  # fmt: skip
        lines.append(
            f"| {slow.backend} | {slow.total:,} | {slow.due:,} | {fast.tick_ms / fast.due:.3f} | "
            f"{slow.tick_ms / slow.due:.3f} | {slow.tick_ms / fast.tick_ms:.1f}× | {fast.db_ms / fast.due:.3f} / "
            f"{slow.db_ms / slow.due:.3f} | {fast.statements:,} / {slow.statements:,} |"
        )
    lines += ["", "```", *plans, "```", ""] if plans else [""]
    lines += [
        "| Database | Work | Delivery | TICK_SECONDS | Messages | Lateness p50 s | p99 s | max s | mean s |"
        " Tick ms (p50) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in late:
        writer = "process (NOTIFY)" if r.backend == "PostgreSQL" else "thread (commit hook)"
        work = WORKLOADS[r.workload].format(writer=writer)
        lines.append(
            f"| {r.backend} | {work} | {MODES[r.mode]} | {r.interval:g} | {r.messages} | {r.p50:.2f} | "
            f"{r.p99:.2f} | {r.worst:.2f} | {r.mean:.2f} | {r.tick_ms_p50:.1f} |"
        )
    for r in late:
        if r.mode == "loop":
            before = next((b for b in late if b.mode == "periodic" and (b.backend, b.workload, b.interval)
                           == (r.backend, r.workload, r.interval)), None)  # fmt: skip
            if before is not None:
                lines.append(f"- {r.backend}, {r.workload}: p99 {before.p99:.2f} s → {r.p99:.2f} s "
                             f"({before.p99 / max(r.p99, 1e-3):.0f}× lower).")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--admin-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help=f"PostgreSQL URL allowed to create and drop the database {DB_NAME}",
    )
    parser.add_argument("--repeats", type=int, default=3, help="repetitions per measurement (median reported)")
    parser.add_argument("--interval", type=float, default=10.0, help="TICK_SECONDS for the lateness part")
    parser.add_argument("--skip-lateness", action="store_true", help="only the tick cost")
    parser.add_argument("--skip-cost", action="store_true", help="only the lateness")
    parser.add_argument("--child-writer", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_writer:
        url, start, messages, spread = args.child_writer
        return child_writer(url, float(start), int(messages), float(spread))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("alembic", "apscheduler", "scheduling.tick"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    began = time.monotonic()
    makers: list[Callable[[], Any]] = [sqlite_backend]
    if not args.skip_postgres:
        makers.append(lambda: postgres_backend(args.admin_url))
    costs: list[Cost] = []
    plans: list[str] = []
    versions: list[str] = []
    for make in makers:
        with make() as backend:
            versions.append(backend.version)
            if not args.skip_cost:
                found, plan = tick_cost(backend, args.repeats)
                costs += found
                plans.append(plan)
    late: list[Lateness] = []
    runs = [] if args.skip_lateness else [("PostgreSQL", w, m) for w in WORKLOADS for m in MODES]
    runs += [] if args.skip_lateness else [("SQLite", "written", m) for m in MODES]
    for name, workload, mode in runs:
        make = makers[-1] if name == "PostgreSQL" else makers[0]
        if name == "PostgreSQL" and args.skip_postgres:
            continue
        result = lateness(make, args.interval, mode, workload)
        if result is not None:
            late.append(result)
    print(report(costs, plans, late, versions, time.monotonic() - began))
    return 0


if __name__ == "__main__":
    sys.exit(main())
