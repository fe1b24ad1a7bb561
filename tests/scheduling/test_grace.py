"""After downtime the scheduler catches up with at most one message per schedule, never a late burst."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from scheduling.clock import FakeClock
from storage.database import Database
from tests.scheduling.helpers import REMINDER, RecordingSender, local, make_world, test_kinds

DAILY_0900 = "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"


def test_a_week_of_downtime_yields_only_todays_reminder(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(local(2026, 11, 16, 8))  # the Monday before
    world = make_world(db, clock.now())
    sid = world.schedule("ana", local(2026, 11, 16, 9), clock.now(), rrule=DAILY_0900)
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender)
    clock.set(local(2026, 11, 23, 10))  # down from Monday 08:00 to the next Monday 10:00
    with caplog.at_level(logging.WARNING, logger="scheduling.tick"):
        report = ticker.tick()
    assert [s.at for s in sender.sent] == [local(2026, 11, 23, 10)]
    assert sender.sent[0].payload["messages"][0]["context"]["at"] == local(2026, 11, 23, 9).isoformat()
    assert report.skipped_late >= 1
    assert any("past its grace of 6:00:00" in r.getMessage() for r in caplog.records)
    assert world.schedule_row(sid).next_run_at == local(2026, 11, 24, 9)
    ticker.tick()
    assert len(sender.sent) == 1


def test_an_occurrence_older_than_the_grace_is_skipped_and_logged(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(local(2026, 11, 23, 8))
    world = make_world(db, clock.now())
    sid = world.schedule("ana", local(2026, 11, 23, 9), clock.now(), rrule=DAILY_0900)
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender)
    clock.set(local(2026, 11, 23, 15, 1))  # 6 h 1 min after 09:00
    with caplog.at_level(logging.WARNING, logger="scheduling.tick"):
        report = ticker.tick()
    assert sender.sent == [] and world.outbox() == []
    assert report.skipped_late == 1
    [record] = [r for r in caplog.records if "skipping schedule" in r.getMessage()]
    assert f"schedule {sid} ({REMINDER})" in record.getMessage() and "6:01:00 late" in record.getMessage()
    clock.set(local(2026, 11, 24, 9))
    ticker.tick()
    assert [s.at for s in sender.sent] == [local(2026, 11, 24, 9)]


def test_a_longer_grace_for_a_kind_still_sends_one_message_not_the_backlog(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    kinds = test_kinds(**{REMINDER: timedelta(hours=72)})
    clock = FakeClock(local(2026, 11, 23, 8))
    world = make_world(db, clock.now())
    world.schedule("ana", local(2026, 11, 23, 9), clock.now(), rrule=DAILY_0900, kinds=kinds)
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender, kinds=kinds)
    clock.set(local(2026, 11, 25, 12))  # Mon, Tue and Wed 09:00 all within 72 h
    with caplog.at_level(logging.WARNING, logger="scheduling.tick"):
        ticker.tick()
    assert len(sender.sent) == 1
    assert sender.sent[0].payload["messages"][0]["context"]["at"] == local(2026, 11, 25, 9).isoformat()
    assert sum("a later one" in r.getMessage() for r in caplog.records) == 2


def test_the_grace_override_can_also_be_shorter(db: Database) -> None:
    kinds = test_kinds(**{REMINDER: timedelta(minutes=30)})
    clock = FakeClock(local(2026, 11, 23, 8))
    world = make_world(db, clock.now())
    world.schedule("ana", local(2026, 11, 23, 9), clock.now(), kinds=kinds)
    sender = RecordingSender(clock)
    clock.set(local(2026, 11, 23, 9, 45))
    world.ticker(clock, sender, kinds=kinds).tick()
    assert sender.sent == []


def test_an_outbox_row_left_unsent_past_its_grace_is_skipped(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(local(2026, 11, 23, 8))
    world = make_world(db, clock.now())
    world.enqueue("ana", "stale", local(2026, 11, 23, 8), clock.now())
    world.enqueue("ana", "fresh", local(2026, 11, 23, 12), clock.now())
    sender = RecordingSender(clock)
    clock.set(local(2026, 11, 23, 14, 30))  # the 08:00 row is 6.5 h late, the 12:00 one 2.5 h
    with caplog.at_level(logging.WARNING, logger="scheduling.tick"):
        world.ticker(clock, sender).tick()
    assert [s.payload["messages"][0]["context"]["key"] for s in sender.sent] == ["fresh"]
    assert {(r.idempotency_key, r.status, r.last_error) for r in world.outbox()} == {
        ("stale", "skipped", "late"),
        ("fresh", "sent", None),
    }
    assert any("not sending outbox" in r.getMessage() for r in caplog.records)


def test_a_clock_jump_of_months_does_not_walk_every_missed_day(db: Database) -> None:
    clock = FakeClock(local(2026, 11, 23, 8))
    world = make_world(db, clock.now())
    sid = world.schedule("ana", local(2026, 11, 23, 9), clock.now(), rrule="FREQ=HOURLY")
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender)
    clock.set(local(2027, 5, 3, 10, 30))
    report = ticker.tick()
    assert len(sender.sent) == 1  # 10:00 today; the thousands of hours before were not all walked
    assert report.skipped_late <= 8
    assert world.schedule_row(sid).next_run_at == local(2027, 5, 3, 11)
