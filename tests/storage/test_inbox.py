"""The inbox on SQLite and PostgreSQL: puts that arrive together commit together and still deduplicate one by one;
claims follow each conversation's arrival order; the drain lets requests in flight go first."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from bot.http_server import Traffic
from bot.inbox_drain import Drain
from scheduling.clock import FakeClock
from storage import inbox
from storage.database import Database, GroupCommit
from tests.conftest import NOW

LEASE = timedelta(minutes=2)


def put(db: Database, key: str, order: str = "T1:U1:D1:") -> bool:
    return inbox.put(db, "slack", key, order, "event", {"key": key}, NOW)


def test_a_retry_is_refused_and_concurrent_puts_each_learn_whether_theirs_was_new(db: Database) -> None:
    assert put(db, "Ev0") is True
    assert put(db, "Ev0") is False
    keys = [f"Ev{n % 40}" for n in range(200)]  # each of 40 keys sent five times at once, Ev0 already kept
    with ThreadPoolExecutor(max_workers=24) as pool:
        outcomes = list(pool.map(lambda key: put(db, key), keys))
    new = [key for key, outcome in zip(keys, outcomes, strict=True) if outcome]
    assert sorted(new) == sorted({f"Ev{n}" for n in range(1, 40)})  # once each, and never Ev0
    assert inbox.pending(db) == 40


def test_claims_take_each_conversations_items_in_arrival_order(db: Database) -> None:
    for n in range(3):
        put(db, f"a{n}", order="A")
        put(db, f"b{n}", order="B")
    seen: list[str] = []
    while items := inbox.claim(db, "w", NOW, LEASE, 10):
        assert len(items) <= 2  # only the head of each conversation
        assert inbox.claim(db, "w2", NOW, LEASE, 10) == []  # leased, and what follows waits for them
        for item in items:
            seen.append(item.body["key"])
            inbox.finish(db, item.id, NOW)
    assert [k for k in seen if k[0] == "a"] == ["a0", "a1", "a2"]
    assert [k for k in seen if k[0] == "b"] == ["b0", "b1", "b2"]


def test_a_failing_write_in_a_batch_fails_only_its_own_put() -> None:
    commits = GroupCommit()
    batches: list[list[str]] = []
    entered = threading.Event()
    release = threading.Event()

    def write(batch: list[str]) -> list[bool]:
        batches.append(batch)
        if batch == ["first"]:
            entered.set()
            release.wait(5)  # the others queue up behind this batch and go in the next one, together
        if "bad" in batch:
            raise ValueError("bad row")
        return [True] * len(batch)

    with ThreadPoolExecutor(max_workers=4) as pool:
        first = pool.submit(commits.submit, "first", write)
        assert entered.wait(5)
        others = {item: pool.submit(commits.submit, item, write) for item in ("x", "bad", "y")}
        time.sleep(0.1)
        release.set()
        assert first.result(5) is True
        assert others["x"].result(5) is True and others["y"].result(5) is True
        with pytest.raises(ValueError):
            others["bad"].result(5)
    assert sorted(batches[1]) == ["bad", "x", "y"]  # one batch for the three that waited


def test_the_drain_waits_for_a_gap_between_requests_before_a_turn(db: Database) -> None:
    traffic = Traffic()
    inside = threading.Event()
    leave = threading.Event()

    def slow_request(_environ: object, _start: object) -> list[bytes]:
        inside.set()
        leave.wait(5)
        return [b"ok"]

    handled = threading.Event()
    drain = Drain(db, FakeClock(NOW), {"slack": lambda kind, body: handled.set()}, threads=2, traffic=traffic)
    request = threading.Thread(target=traffic.counting(slow_request), args=({}, None))
    request.start()
    assert inside.wait(5)
    put(db, "Ev1")
    stop = drain.start()
    try:
        assert not handled.wait(0.3)  # a request is in flight: the turn waits (up to PATIENCE, 0.5 s)
        leave.set()
        request.join(5)
        assert handled.wait(5)
    finally:
        stop.set()
