"""Real `growthbot worker` processes against PostgreSQL and the fake Web API, for tests and benchmarks.

`crash_run` is the kill -9 loop: seed an outbox, start a worker, SIGKILL it while it is delivering, expire the
dead worker's leases (as if LEASE had passed), start another, and so on; a last worker finishes the work. What
reached Slack is read from the fake's channel histories, by the idempotency key each post carries.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update

from storage.database import Database
from storage.models import OutboxMessage, Person
from storage.unit_of_work import unit_of_work
from tests.fakes.slack_api import FakeSlackAPI

KIND = "observation.notice"  # registered in production, so the worker knows it (grace and nudge)
# The workers read the real clock, and nobody is messaged on a weekend. Quiet hours are 00:00-23:59 for these
# people; they get a zone where it is a weekday right now (there is one for all but ~22 h a week).
ZONES = ("America/New_York", "Etc/GMT+12", "Pacific/Kiritimati", "Asia/Tokyo", "Europe/London", "America/Los_Angeles")
ROOT = Path(__file__).resolve().parents[2]


def weekday_zone(now: datetime) -> str | None:
    for name in ZONES:
        here = now.astimezone(ZoneInfo(name))
        if here.weekday() < 5 and timedelta(minutes=5) <= here - here.replace(hour=0, minute=0) <= timedelta(
            hours=23, minutes=50
        ):
            return name
    return None


class Worker:
    """A worker subprocess whose log lines are read as they come (so its pipe never fills)."""

    def __init__(self, env: dict[str, str], cwd: Path, command: Sequence[str] | None = None) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            list(command or [sys.executable, "-m", "bot", "worker"]),
            cwd=cwd,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    @property
    def ticking(self) -> bool:
        return any("ticking every" in line for line in self.lines)

    def wait_ticking(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.ticking:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.log}")
            if time.monotonic() > deadline:
                raise AssertionError(f"worker did not start:\n{self.log}")
            time.sleep(0.02)

    def stop(self) -> int:
        self.process.terminate()
        code = self.process.wait(timeout=30)
        self.reader.join(timeout=5)
        return code

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.reader.join(timeout=5)


def worker_env(database_url: str, api: FakeSlackAPI, tick_seconds: float = 0.2) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": api.url,
            "TICK_SECONDS": str(tick_seconds), "LOG_LEVEL": "INFO"}  # fmt: skip


def seed(db: Database, zone: str, now: datetime, people: int, per_person: int, prefix: str = "test") -> list[str]:
    """`people` teachers (U00000 …, made once) with `per_person` messages each, all due now; returns their keys."""
    keys: list[str] = []
    with unit_of_work(db) as repos:
        session = repos.session
        workspace_id = repos.workspaces.ensure("slack", "T1", now).id
        users = [f"U{n:05}" for n in range(people)]
        found = dict(
            session.execute(select(Person.platform_user_id, Person.id).where(Person.workspace_id == workspace_id))
            .tuples()
            .all()
        )
        missing = [user for user in users if user not in found]
        if missing:
            session.execute(insert(Person), [
                {"workspace_id": workspace_id, "platform_user_id": user, "display_name": f"Teacher {user}",
                 "time_zone": zone, "created_at": now} for user in missing
            ])  # fmt: skip
            found = dict(
                session.execute(select(Person.platform_user_id, Person.id).where(Person.workspace_id == workspace_id))
                .tuples()
                .all()
            )
        session.execute(
            update(Person)
            .where(Person.workspace_id == workspace_id)
            .values(time_zone=zone, quiet_start="00:00", quiet_end="23:59", away_until=None)
        )
        rows = []
        for user in users:
            for k in range(per_person):
                ref = f"{prefix}-{user}-{k:02}"
                payload = {"messages": [{"template": "errors/unexpected", "context": {"ref": ref}}]}
                rows.append(repos.outbox.row(key=ref, kind=KIND, recipient_id=found[user], payload=payload,
                                             due_at=now - timedelta(seconds=k), now=now))  # fmt: skip
                keys.append(ref)
        for start in range(0, len(rows), 2000):
            repos.outbox.enqueue_many(rows[start : start + 2000])
    return keys


def sent_count(db: Database) -> int:
    with unit_of_work(db) as repos:
        return repos.session.scalar(select(func.count()).where(OutboxMessage.status == "sent")) or 0


def pending_count(db: Database) -> int:
    with unit_of_work(db) as repos:
        return repos.session.scalar(select(func.count()).where(OutboxMessage.status == "pending")) or 0


def expire_leases(db: Database) -> int:
    """What LEASE (5 minutes) would do for a dead worker's rows, at once: their leases run out."""
    with unit_of_work(db) as repos:
        result = repos.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.lease_until.is_not(None))
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        return result.rowcount  # type: ignore[attr-defined]


@dataclass
class CrashRun:
    rows: int
    kills: int
    posts: int  # outbox posts that reached Slack
    doubled: int  # keys posted more than once
    lost: int  # keys never posted, or rows not marked sent
    unsent: int  # rows not marked sent at the end
    looks: int  # conversations.history calls made to check on rows whose outcome was unknown
    in_flight_at_kill: list[int]  # rows leased and unrecorded when each kill landed
    seconds: float
    logs: str

    @property
    def clean(self) -> bool:
        return self.doubled == 0 and self.lost == 0


def posted_keys(api: FakeSlackAPI) -> Counter[str]:
    return api.outbox_keys()


def crash_run(
    db: Database,
    database_url: str,
    api: FakeSlackAPI,
    cwd: Path,
    zone: str,
    people: int,
    per_person: int,
    kills: int,
    rng: random.Random,
    prefix: str,
    command: Sequence[str] | None = None,
    timeout: float = 120,
) -> CrashRun:
    """Seed, then kill -9 `kills` workers mid-delivery, then let one more finish; count doubles and losses."""
    began = time.monotonic()
    keys = seed(db, zone, datetime.now(UTC), people, per_person, prefix)
    total = len(keys)
    before = posted_keys(api)
    posts_before = api.count("chat.postMessage")
    looks_before = api.count("conversations.history")
    env = worker_env(database_url, api)
    logs: list[str] = []
    in_flight: list[int] = []
    for _kill in range(kills):
        worker = Worker(env, cwd, command)
        worker.wait_ticking()
        reached = api.count("chat.postMessage") - posts_before
        # somewhere in what is left, but never at the very end, so the kill lands while posts are in flight
        target = reached + max(1, int(rng.uniform(0.1, 0.6) * (total - reached)))
        deadline = time.monotonic() + timeout
        while api.count("chat.postMessage") - posts_before < target and time.monotonic() < deadline:
            if worker.process.poll() is not None:
                break
            time.sleep(0.002)
        worker.kill()
        logs.append(worker.log)
        in_flight.append(pending_leased(db))
        expire_leases(db)
    worker = Worker(env, cwd, command)
    worker.wait_ticking()
    deadline = time.monotonic() + timeout
    while pending_count(db) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # a few more ticks: nothing more may go out
    worker.stop()
    logs.append(worker.log)
    counts = posted_keys(api) - before
    ours = {key: counts.get(key, 0) for key in keys}
    with unit_of_work(db) as repos:
        unsent = repos.session.scalar(
            select(func.count()).where(
                OutboxMessage.idempotency_key.in_(keys), OutboxMessage.status != "sent"
            )
        ) or 0  # fmt: skip
    return CrashRun(
        rows=total,
        kills=kills,
        posts=sum(ours.values()),
        doubled=sum(1 for count in ours.values() if count > 1),
        lost=max(sum(1 for count in ours.values() if count == 0), unsent),
        unsent=unsent,
        looks=api.count("conversations.history") - looks_before,
        in_flight_at_kill=in_flight,
        seconds=time.monotonic() - began,
        logs="".join(logs),
    )


def pending_leased(db: Database) -> int:
    with unit_of_work(db) as repos:
        return repos.session.scalar(
            select(func.count()).where(OutboxMessage.status == "pending", OutboxMessage.lease_until.is_not(None))
        ) or 0  # fmt: skip
