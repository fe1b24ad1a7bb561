"""Two real `growthbot worker` processes on one PostgreSQL database share the outbox: each message once."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.database import Database
from storage.models import OutboxMessage
from storage.unit_of_work import unit_of_work
from tests.fakes.slack_api import FakeSlackAPI
from tests.scheduling.processes import Worker, seed, sent_count, weekday_zone, worker_env

PEOPLE = 30
PER_PERSON = 10


@pytest.mark.postgresql
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_two_worker_processes_send_every_message_once(db: Database, postgres_url: str, tmp_path: Path) -> None:
    zone = weekday_zone(datetime.now(UTC))
    if zone is None:
        pytest.skip("it is the weekend in every candidate zone, and nobody is messaged on a weekend")
    total = PEOPLE * PER_PERSON
    with FakeSlackAPI() as api:
        env = worker_env(postgres_url, api)
        workers = [Worker(env, tmp_path) for _ in range(2)]
        try:
            deadline = time.monotonic() + 60
            while not all(w.ticking for w in workers):
                assert all(w.process.poll() is None for w in workers), "".join(w.log for w in workers)
                assert time.monotonic() < deadline, "workers did not start"
                time.sleep(0.05)
            seed(db, zone, datetime.now(UTC), PEOPLE, PER_PERSON)
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
