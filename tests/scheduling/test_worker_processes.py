"""Two real `growthbot worker` processes on one PostgreSQL database share the outbox: each message once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from storage.database import Database
from storage.models import OutboxMessage
from storage.unit_of_work import unit_of_work
from tests.fakes.slack_api import FakeSlackAPI

PEOPLE = 30
PER_PERSON = 10
KIND = "observation.notice"  # registered in production (bot.app.make_kinds + the observation reminders)
# The workers read the real clock, and nobody is messaged on a weekend. Quiet hours are 00:00-23:59 for these
# people; the test gives them a zone where it is a weekday right now (there is one for all but ~22 h a week).
ZONES = ("America/New_York", "Etc/GMT+12", "Pacific/Kiritimati", "Asia/Tokyo", "Europe/London", "America/Los_Angeles")


def weekday_zone(now: datetime) -> str | None:
    for name in ZONES:
        here = now.astimezone(ZoneInfo(name))
        if here.weekday() < 5 and timedelta(minutes=5) <= here - here.replace(hour=0, minute=0) <= timedelta(
            hours=23, minutes=50
        ):
            return name
    return None


class Worker:
    """A `growthbot worker` subprocess whose log lines are read as they come (so its pipe never fills)."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"], cwd=cwd, env=env, stderr=subprocess.PIPE, text=True
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

    def stop(self) -> int:
        self.process.terminate()
        code = self.process.wait(timeout=20)
        self.reader.join(timeout=5)
        return code


def seed(db: Database, zone: str, now: datetime) -> None:
    with unit_of_work(db) as repos:
        workspace = repos.workspaces.ensure("slack", "T1", now)
        for n in range(PEOPLE):
            person = repos.people.ensure(workspace.id, f"U{n:03}", now, f"Teacher {n}", zone)
            person.quiet_start, person.quiet_end = "00:00", "23:59"
            for k in range(PER_PERSON):
                ref = f"{n:03}-{k:02}"
                payload = {"messages": [{"template": "errors/unexpected", "context": {"ref": ref}}]}
                due = now - timedelta(seconds=k)
                repos.outbox.enqueue(key=f"test:{ref}", kind=KIND, recipient_id=person.id, payload=payload,
                                     due_at=due, now=now)  # fmt: skip


def sent_count(db: Database) -> int:
    with unit_of_work(db) as repos:
        return repos.session.scalar(select(func.count()).where(OutboxMessage.status == "sent")) or 0


@pytest.mark.postgresql
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_two_worker_processes_send_every_message_once(db: Database, postgres_url: str, tmp_path: Path) -> None:
    zone = weekday_zone(datetime.now(UTC))
    if zone is None:
        pytest.skip("it is the weekend in every candidate zone, and nobody is messaged on a weekend")
    total = PEOPLE * PER_PERSON
    with FakeSlackAPI() as api:
        env = {**os.environ, "DATABASE_URL": postgres_url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": api.url,
               "TICK_SECONDS": "0.2", "LOG_LEVEL": "INFO"}  # fmt: skip
        workers = [Worker(env, tmp_path) for _ in range(2)]
        try:
            deadline = time.monotonic() + 60
            while not all(w.ticking for w in workers):
                assert all(w.process.poll() is None for w in workers), "".join(w.log for w in workers)
                assert time.monotonic() < deadline, "workers did not start"
                time.sleep(0.05)
            seed(db, zone, datetime.now(UTC))
            started = time.monotonic()
            while sent_count(db) < total:
                assert time.monotonic() - started < 60, f"only {sent_count(db)} of {total} sent"
                time.sleep(0.1)
            elapsed = time.monotonic() - started
            time.sleep(1)  # a few more ticks: nothing more may go out
        finally:
            codes = [w.stop() for w in workers]
        posts = Counter((p["channel"], p["text"]) for p in api.posts())
    logs = "".join(w.log for w in workers)
    assert codes == [0, 0], logs
    assert len(posts) == total and set(posts.values()) == {1}, logs
    with unit_of_work(db) as repos:
        claimers = Counter(repos.session.scalars(select(OutboxMessage.claimed_by)))
    pids = {w.process.pid for w in workers}
    assert {int(claimer.split(":")[1]) for claimer in claimers} == pids, claimers
    assert "Traceback" not in logs and " ERROR " not in logs, logs
    print(f"{total} messages by two workers in {elapsed:.1f} s; per worker: {sorted(claimers.values())}")
