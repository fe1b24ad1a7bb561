"""Every message is sent once: repeated ticks, failing senders, two workers at once, a worker that dies."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest

from scheduling.clock import FakeClock
from scheduling.tick import LEASE, MAX_ATTEMPTS, Recipient, SendLater, TickReport
from storage.database import Database
from storage.unit_of_work import unit_of_work
from tests.scheduling.helpers import RecordingSender, make_world


class FlakySender(RecordingSender):
    """Raises the scripted errors first, then records like RecordingSender."""

    def __init__(self, clock: FakeClock, errors: list[Exception]) -> None:
        super().__init__(clock)
        self.errors = errors

    def send(self, recipient: Recipient, payload: dict[str, Any]) -> None:
        if self.errors:
            raise self.errors.pop(0)
        super().send(recipient, payload)


def test_the_same_tick_twice_sends_nothing_twice(db: Database, clock: FakeClock) -> None:
    world = make_world(db, clock.now())
    world.schedule("ana", clock.now(), clock.now(), rrule="FREQ=DAILY")
    world.enqueue("luis", "direct", clock.now() - timedelta(hours=3), clock.now())
    assert not world.enqueue("luis", "direct", clock.now() - timedelta(hours=3), clock.now())  # a repeat is a no-op
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender)
    ticker.tick()
    ticker.tick()
    clock.advance(timedelta(seconds=10))
    ticker.tick()
    assert sorted(s.user_id for s in sender.sent) == ["UANA", "ULUIS"]
    assert len(world.outbox()) == 2


def test_a_failed_send_is_retried_after_a_backoff_and_delivered_once(db: Database, clock: FakeClock) -> None:
    world = make_world(db, clock.now())
    world.enqueue("ana", "k1", clock.now(), clock.now())
    sender = FlakySender(clock, [RuntimeError("connection reset"), RuntimeError("503")])
    ticker = world.ticker(clock, sender)
    assert ticker.tick().failed == 1
    [row] = world.outbox()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "RuntimeError: connection reset")
    assert row.deliver_after == clock.now() + timedelta(seconds=30) and row.lease_until is None
    # a connection reset may come after the platform took the message: the claim stays as a "look first" mark
    assert row.claimed_by is not None
    ticker.tick()  # too soon: nothing is tried
    assert world.outbox()[0].attempts == 1
    clock.advance(timedelta(seconds=30))
    assert ticker.tick().failed == 1
    assert world.outbox()[0].deliver_after == clock.now() + timedelta(minutes=1)
    clock.advance(timedelta(minutes=1))
    assert ticker.tick().sent == 1
    [row] = world.outbox()
    assert (row.status, row.attempts, row.last_error, row.sent_at) == ("sent", 3, None, clock.now())
    assert len(sender.sent) == 1


def test_a_send_that_keeps_failing_gives_up_after_max_attempts(db: Database, clock: FakeClock) -> None:
    world = make_world(db, clock.now())
    world.enqueue("ana", "k1", clock.now(), clock.now())
    sender = FlakySender(clock, [RuntimeError("down")] * (MAX_ATTEMPTS + 5))
    ticker = world.ticker(clock, sender)
    for _ in range(MAX_ATTEMPTS + 3):
        ticker.tick()
        clock.advance(timedelta(hours=1))
    [row] = world.outbox()
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)


def test_send_later_postpones_without_using_up_attempts(db: Database, clock: FakeClock) -> None:
    world = make_world(db, clock.now())
    world.enqueue("ana", "k1", clock.now(), clock.now())
    sender = FlakySender(clock, [SendLater(timedelta(minutes=10), "not matched yet")] * 3)
    ticker = world.ticker(clock, sender)
    report = ticker.tick()
    assert report.deferred == 1 and report.failed == 0
    [row] = world.outbox()
    assert (row.status, row.attempts, row.last_error) == ("pending", 0, "not matched yet")
    assert row.deliver_after == clock.now() + timedelta(minutes=10)
    for _ in range(3):
        clock.advance(timedelta(minutes=10))
        ticker.tick()
    [row] = world.outbox()
    assert (row.status, row.attempts) == ("sent", 1)
    assert len(sender.sent) == 1


def test_a_platform_without_a_sender_in_this_process_waits(db: Database, clock: FakeClock) -> None:
    world = make_world(db, clock.now(), platform="teams")
    world.enqueue("ana", "k1", clock.now(), clock.now())
    ticker = world.ticker(clock, RecordingSender(clock))  # a sender for slack only
    assert ticker.tick().deferred == 1
    [row] = world.outbox()
    assert row.status == "pending" and row.deliver_after == clock.now() + timedelta(minutes=15)


def test_a_schedule_whose_expand_raises_does_not_hold_up_the_others(
    db: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    from scheduling.kinds import Kind
    from tests.scheduling.helpers import remind_owner, test_kinds

    def broken(*_: Any) -> list[Any]:
        raise KeyError("observation_id")

    kinds = test_kinds()
    kinds.register(Kind("test.broken", broken))
    world = make_world(db, clock.now())
    bad = world.schedule("ana", clock.now() - timedelta(minutes=1), clock.now(), kind="test.broken", kinds=kinds)
    world.schedule("luis", clock.now(), clock.now(), kinds=kinds)
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender, kinds=kinds)
    report = ticker.tick()
    assert [s.user_id for s in sender.sent] == ["ULUIS"]
    assert report.failed == 1
    assert any("failed; trying it again" in r.getMessage() and r.exc_info for r in caplog.records)
    row = world.schedule_row(bad)
    assert row.status == "active" and row.next_run_at == clock.now() + timedelta(minutes=5)
    kinds.register(Kind("test.broken", remind_owner))  # fixed (a deploy, say): the retry goes through
    clock.advance(timedelta(minutes=5))
    ticker.tick()
    assert sorted(s.user_id for s in sender.sent) == ["UANA", "ULUIS"]


# -- a worker that dies between claim and send ---------------------------------------------------------


def test_a_row_claimed_by_a_worker_that_died_is_sent_once_by_another(db: Database, clock: FakeClock) -> None:
    world = make_world(db, clock.now())
    world.enqueue("ana", "k1", clock.now(), clock.now())
    sender_a, sender_b = RecordingSender(clock, "A"), RecordingSender(clock, "B")
    a = world.ticker(clock, sender_a, worker="worker-a")
    b = world.ticker(clock, sender_b, worker="worker-b")
    claimed, seen = a._claim(TickReport())  # A leases the row ... and dies before sending
    assert seen == 1 and [c.id for c in claimed] == [world.outbox()[0].id]
    assert b.tick().sent == 0  # the lease holds
    clock.advance(LEASE - timedelta(seconds=1))
    assert b.tick().sent == 0
    clock.advance(timedelta(seconds=2))
    assert b.tick().sent == 1
    [row] = world.outbox()
    assert (row.status, row.claimed_by, row.attempts) == ("sent", "worker-b", 2)
    with unit_of_work(db) as repos:
        assert repos.outbox.mark_sent(row.id, "worker-a", clock.now()) is False  # A's late word changes nothing
    report = TickReport()
    a._deliver_claimed(claimed, report)  # and A coming back to life does not send it again
    assert report.sent == 0
    assert sender_a.sent == [] and len(sender_b.sent) == 1


def test_a_slow_batch_keeps_its_leases_so_nothing_is_sent_twice(db: Database, clock: FakeClock) -> None:
    world = make_world(db, clock.now())
    for n in range(5):
        world.enqueue("ana", f"k{n}", clock.now(), clock.now())
    sender_b = RecordingSender(clock, "B")
    b = world.ticker(clock, sender_b, worker="worker-b")

    class SlowSender(RecordingSender):
        """Every send takes two minutes (Slack asking to wait), and worker B ticks meanwhile."""

        def send(self, recipient: Recipient, payload: dict[str, Any]) -> None:
            super().send(recipient, payload)
            clock.advance(LEASE * 0.4)
            b.tick()

    sender_a = SlowSender(clock, "A")
    a = world.ticker(clock, sender_a, worker="worker-a")
    assert a.tick().sent == 5
    assert sender_b.sent == []
    counts = sender_a.counts() + sender_b.counts()
    assert len(counts) == 5 and set(counts.values()) == {1}


# -- two workers at once (PostgreSQL) ------------------------------------------------------------------


def test_two_workers_ticking_at_once_send_everything_exactly_once(db: Database, clock: FakeClock) -> None:
    if db.dialect != "postgresql":
        pytest.skip("On SQLite one process ticks")
    people = {f"p{n:02}": "America/New_York" for n in range(20)}
    world = make_world(db, clock.now(), people)
    for n, name in enumerate(people):
        world.schedule(name, clock.now() - timedelta(minutes=n % 7), clock.now(), rrule="FREQ=DAILY")
        for k in range(10):
            world.enqueue(name, f"direct:{name}:{k}", clock.now() - timedelta(seconds=k), clock.now())

    class SlowishSender(RecordingSender):
        def send(self, recipient: Recipient, payload: dict[str, Any]) -> None:
            time.sleep(0.001)
            super().send(recipient, payload)

    sender = SlowishSender(clock)
    tickers = [world.ticker(clock, sender, worker=name, batch=15) for name in ("worker-a", "worker-b")]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait()
            for _ in range(5):
                tickers[index].tick()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    rows = world.outbox()
    assert len(rows) == 20 * 11 and {r.status for r in rows} == {"sent"}
    counts = sender.counts()
    assert len(counts) == 220 and set(counts.values()) == {1}
    assert {r.claimed_by for r in rows} == {"worker-a", "worker-b"}
