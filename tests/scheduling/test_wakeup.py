"""Work due now wakes the delivery loop at once: in this process at commit, in others through PostgreSQL NOTIFY.

The loops here sleep an hour between ticks unless woken, so a message that arrives proves the wake-up; the waits
below are generous bounds, not measurements (lateness is measured in benchmarks/tick_cost.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from scheduling.clock import SystemClock
from scheduling.tick import Recipient
from scheduling.wakeup import DeliveryLoop, Wakeup, due_now
from storage.database import Database, connect
from storage.unit_of_work import unit_of_work
from tests.scheduling.helpers import UNSHIFTED, RecordingSender, World, make_world
from tests.scheduling.processes import weekday_zone

HOUR = timedelta(hours=1)


class SignallingSender(RecordingSender):
    def __init__(self) -> None:
        super().__init__(SystemClock())
        self.arrived = threading.Event()

    def send(self, recipient: Recipient, payload: dict) -> None:
        super().send(recipient, payload)
        self.arrived.set()


@pytest.fixture
def open_world(db: Database) -> World:
    """People whose window is open now, on the real clock (nobody is messaged on a weekend)."""
    zone = weekday_zone(datetime.now(UTC))
    if zone is None:
        pytest.skip("it is the weekend in every candidate zone")
    world = make_world(db, datetime.now(UTC), {"ana": zone})
    world.set_person("ana", quiet_start="00:00", quiet_end="23:59")
    return world


@pytest.fixture
def loop_parts(open_world: World) -> Iterator[tuple[World, SignallingSender, Wakeup]]:
    sender = SignallingSender()
    wakeup = Wakeup.attach(open_world.db)
    loop = DeliveryLoop(open_world.ticker(SystemClock(), sender), wakeup, every=HOUR).start()
    try:
        yield open_world, sender, wakeup
    finally:
        loop.shutdown()


def test_a_commit_with_work_due_now_rings_and_a_rollback_or_later_work_does_not(db: Database) -> None:
    now = datetime.now(UTC)
    world = make_world(db, now)
    wakeup = Wakeup.attach(db)
    world.enqueue("ana", "later", now + HOUR, now)
    assert not wakeup.wait(0)
    with pytest.raises(RuntimeError), unit_of_work(db) as repos:
        repos.outbox.enqueue(key="undone", kind="test.notice", recipient_id=world.person("ana"), payload={},
                             due_at=now, now=now)  # fmt: skip
        raise RuntimeError("rolled back")
    assert not wakeup.wait(0)
    world.enqueue("ana", "now", now, now)
    assert wakeup.wait(0)
    assert not wakeup.wait(0)  # one ring, one wake
    world.schedule("luis", now - timedelta(seconds=1), now, kind=UNSHIFTED)
    assert wakeup.wait(0)
    with unit_of_work(db) as repos:
        due_now(repos)
    assert wakeup.wait(0)


def test_every_loop_on_one_database_hears_a_commit_not_only_the_first(db: Database) -> None:
    now = datetime.now(UTC)
    world = make_world(db, now)
    first, second = Wakeup.attach(db), Wakeup.attach(db)
    world.enqueue("ana", "now", now, now)
    assert first.wait(0)
    assert second.wait(0)


def test_the_loop_sends_a_message_due_now_without_waiting_for_its_next_tick(
    loop_parts: tuple[World, SignallingSender, Wakeup],
) -> None:
    world, sender, _wakeup = loop_parts
    assert not sender.arrived.wait(0.3)  # idle: the first tick found nothing, and the next is an hour away
    world.enqueue("ana", "now", datetime.now(UTC), datetime.now(UTC))
    assert sender.arrived.wait(30)
    assert [s.user_id for s in sender.sent] == ["UANA"]


def test_the_loop_wakes_itself_when_the_next_schedule_comes_due(
    loop_parts: tuple[World, SignallingSender, Wakeup],
) -> None:
    world, sender, wakeup = loop_parts
    soon = datetime.now(UTC) + timedelta(seconds=1)
    world.schedule("ana", soon, datetime.now(UTC), kind=UNSHIFTED)
    wakeup.ring()  # the loop learns of the schedule (as it would at its next tick)
    assert sender.arrived.wait(30)
    assert sender.sent[0].at >= soon


def test_another_process_writing_work_due_now_wakes_a_loop_on_postgresql(
    loop_parts: tuple[World, SignallingSender, Wakeup], postgres_url: str
) -> None:
    world, sender, _wakeup = loop_parts
    if world.db.dialect != "postgresql":
        pytest.skip("across processes the wake-up is PostgreSQL's NOTIFY")
    other = connect(postgres_url)  # its own engine, with no Wakeup attached: only NOTIFY can reach the loop
    try:
        now = datetime.now(UTC)
        with unit_of_work(other) as repos:
            repos.outbox.enqueue(key="elsewhere", kind="test.notice", recipient_id=world.person("ana"),
                                 payload={"messages": []}, due_at=now, now=now)  # fmt: skip
    finally:
        other.dispose()
    assert sender.arrived.wait(30)
