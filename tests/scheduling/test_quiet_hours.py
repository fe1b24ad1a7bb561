"""Nobody is messaged at night, on weekends or holidays, outside their own hours, or (for nudges) while away."""

from __future__ import annotations

from datetime import date, timedelta

from scheduling.clock import FakeClock
from storage.database import Database
from tests.scheduling.helpers import LOS_ANGELES, NEW_YORK, NOTICE, REMINDER, RecordingSender, local, make_world


def test_a_message_due_at_2100_waits_until_0700_the_next_school_day(db: Database) -> None:
    clock = FakeClock(local(2026, 11, 23, 21))  # Monday evening
    world = make_world(db, clock.now())
    world.schedule("ana", local(2026, 11, 23, 21), clock.now())
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender)
    report = ticker.tick()
    assert report.expanded == 1 and report.deferred == 1 and sender.sent == []
    assert [row.deliver_after for row in world.outbox()] == [local(2026, 11, 24, 7)]
    clock.set(local(2026, 11, 24, 6, 59))
    ticker.tick()
    assert sender.sent == []
    clock.set(local(2026, 11, 24, 7))
    ticker.tick()
    assert [s.at for s in sender.sent] == [local(2026, 11, 24, 7)]
    row = world.outbox()[0]
    assert row.status == "sent" and row.due_at == local(2026, 11, 23, 21)


def test_due_friday_evening_waits_for_monday_morning(db: Database) -> None:
    clock = FakeClock(local(2026, 12, 4, 19))
    world = make_world(db, clock.now())
    world.enqueue("ana", "friday", clock.now(), clock.now())
    sender = RecordingSender(clock)
    world.ticker(clock, sender).tick()
    assert [row.deliver_after for row in world.outbox()] == [local(2026, 12, 7, 7)]


def test_due_friday_evening_before_a_monday_holiday_waits_for_tuesday(db: Database) -> None:
    clock = FakeClock(local(2026, 12, 4, 19))
    world = make_world(db, clock.now())
    world.close(date(2026, 12, 7))
    world.enqueue("ana", "friday", clock.now(), clock.now())
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender)
    ticker.tick()
    assert [row.deliver_after for row in world.outbox()] == [local(2026, 12, 8, 7)]
    clock.set(local(2026, 12, 7, 10))  # the holiday, mid-morning: still nothing
    ticker.tick()
    assert sender.sent == []
    clock.set(local(2026, 12, 8, 7))
    ticker.tick()
    assert len(sender.sent) == 1


def test_each_person_has_their_own_hours_in_their_own_zone(db: Database) -> None:
    clock = FakeClock(local(2026, 11, 23, 10))  # 10:00 in New York, 07:00 in Los Angeles
    world = make_world(db, clock.now())
    world.set_person("luis", quiet_start="08:00", quiet_end="16:00")
    world.set_person("ana", quiet_end="16:30")
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender)
    world.enqueue("ana", "morning-ana", clock.now(), clock.now())
    world.enqueue("luis", "morning-luis", clock.now(), clock.now())
    ticker.tick()
    assert [s.user_id for s in sender.sent] == ["UANA"]  # Luis's day starts at 08:00 his time
    clock.set(local(2026, 11, 23, 8, zone=LOS_ANGELES))
    ticker.tick()
    assert [s.user_id for s in sender.sent] == ["UANA", "ULUIS"]

    clock.set(local(2026, 11, 23, 17))  # 17:00 in New York (after Ana's 16:30), 14:00 in Los Angeles
    world.enqueue("ana", "afternoon-ana", clock.now(), clock.now())
    world.enqueue("luis", "afternoon-luis", clock.now(), clock.now())
    ticker.tick()
    assert [s.user_id for s in sender.sent] == ["UANA", "ULUIS", "ULUIS"]
    waiting = [row for row in world.outbox() if row.status == "pending"]
    assert [(row.idempotency_key, row.deliver_after) for row in waiting] == [("afternoon-ana", local(2026, 11, 24, 7))]


def test_a_person_in_los_angeles_is_not_woken_by_a_new_york_morning(db: Database) -> None:
    clock = FakeClock(local(2026, 11, 24, 7, zone=NEW_YORK))  # 04:00 in Los Angeles
    world = make_world(db, clock.now())
    world.enqueue("luis", "early", clock.now(), clock.now())
    world.ticker(clock, RecordingSender(clock)).tick()
    assert [row.deliver_after for row in world.outbox()] == [local(2026, 11, 24, 7, zone=LOS_ANGELES)]


def test_nudges_are_dropped_while_someone_is_away(db: Database) -> None:
    clock = FakeClock(local(2026, 11, 23, 10))
    world = make_world(db, clock.now())
    world.set_person("ana", away_until=local(2026, 11, 30))
    world.schedule("ana", local(2026, 11, 23, 10), clock.now(), kind=REMINDER)
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender)
    ticker.tick()
    [row] = world.outbox()
    assert row.status == "skipped" and row.last_error == "away"
    clock.set(local(2026, 11, 30, 10))
    ticker.tick()
    assert sender.sent == []


def test_a_notice_waits_until_the_person_is_back(db: Database) -> None:
    clock = FakeClock(local(2026, 11, 23, 10))
    world = make_world(db, clock.now())
    world.set_person("ana", away_until=local(2026, 11, 30, 12))  # back Monday at noon
    world.schedule("ana", local(2026, 11, 23, 10), clock.now(), kind=NOTICE)
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender)
    ticker.tick()
    [row] = world.outbox()
    assert row.status == "pending" and row.deliver_after == local(2026, 11, 30, 12)
    clock.set(local(2026, 11, 30, 11, 59))
    ticker.tick()
    assert sender.sent == []
    clock.set(local(2026, 11, 30, 12))
    ticker.tick()
    assert [s.at for s in sender.sent] == [local(2026, 11, 30, 12)]


def test_back_in_the_evening_means_the_next_morning(db: Database) -> None:
    clock = FakeClock(local(2026, 11, 23, 10))
    world = make_world(db, clock.now())
    world.set_person("ana", away_until=local(2026, 11, 25, 20))
    world.enqueue("ana", "notice", clock.now(), clock.now(), kind=NOTICE)
    world.ticker(clock, RecordingSender(clock)).tick()
    assert [row.deliver_after for row in world.outbox()] == [local(2026, 11, 26, 7)]


def test_an_away_date_in_the_past_changes_nothing(db: Database) -> None:
    clock = FakeClock(local(2026, 11, 23, 10))
    world = make_world(db, clock.now())
    world.set_person("ana", away_until=clock.now() - timedelta(days=1))
    world.schedule("ana", local(2026, 11, 23, 10), clock.now(), kind=REMINDER)
    sender = RecordingSender(clock)
    world.ticker(clock, sender).tick()
    assert len(sender.sent) == 1


def test_a_window_that_closes_before_it_opens_falls_back_to_the_default(db: Database) -> None:
    """quiet_start/quiet_end are the hours messages may go; "20:00"-"07:00" must not hold messages forever."""
    clock = FakeClock(local(2026, 11, 23, 10))
    world = make_world(db, clock.now())
    world.set_person("ana", quiet_start="20:00", quiet_end="07:00")
    world.enqueue("ana", "k1", clock.now(), clock.now())
    sender = RecordingSender(clock)
    world.ticker(clock, sender).tick()
    assert len(sender.sent) == 1
