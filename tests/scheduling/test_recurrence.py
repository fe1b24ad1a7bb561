"""Recurring schedules keep their local wall time across DST, move off closed days, and finish."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from scheduling.calendar import SchoolCalendar
from scheduling.clock import FakeClock
from scheduling.recurrence import RecurrenceError, next_occurrence, to_utc, validate_rrule
from storage.database import Database
from tests.scheduling.helpers import (
    EARLIER,
    NEW_YORK,
    UNSHIFTED,
    RecordingSender,
    local,
    make_world,
)

WEEKDAYS = SchoolCalendar()


def occurrences(rrule: str, starts_at: datetime, count: int, calendar: SchoolCalendar = WEEKDAYS,
                shift: str | None = None, zone: str = "America/New_York") -> list[datetime]:  # fmt: skip
    """The first `count` run times of a rule, walked the way the tick walks them."""
    found: list[datetime] = []
    after = after_run = None
    for _ in range(count):
        occurrence = next_occurrence(starts_at=starts_at, time_zone=zone, rrule=rrule, after=after,
                                     calendar=calendar, shift=shift, after_run=after_run)  # fmt: skip
        if occurrence is None:
            break
        found.append(occurrence.runs_at)
        after, after_run = occurrence.original, occurrence.runs_at
    return found


def wall(moments: list[datetime]) -> list[str]:
    return [m.astimezone(NEW_YORK).strftime("%a %Y-%m-%d %H:%M") for m in moments]


# -- DST ------------------------------------------------------------------------------------------------


def test_weekly_1530_stays_1530_in_new_york_across_both_dst_changes() -> None:
    autumn = occurrences("FREQ=WEEKLY;BYDAY=TU", local(2026, 10, 20, 15, 30), 3)
    assert wall(autumn) == ["Tue 2026-10-20 15:30", "Tue 2026-10-27 15:30", "Tue 2026-11-03 15:30"]
    assert [m.hour for m in autumn] == [19, 19, 20]  # EDT, EDT, then EST after Nov 1
    spring = occurrences("FREQ=WEEKLY;BYDAY=TU", local(2027, 3, 2, 15, 30), 3)
    assert wall(spring) == ["Tue 2027-03-02 15:30", "Tue 2027-03-09 15:30", "Tue 2027-03-16 15:30"]
    assert [m.hour for m in spring] == [20, 20, 19]  # EST, EST, then EDT after Mar 14


def test_the_tick_sends_a_weekly_reminder_at_1530_local_before_and_after_the_autumn_change(db: Database) -> None:
    clock = FakeClock(local(2026, 10, 27, 12))
    world = make_world(db, clock.now())
    world.schedule("ana", local(2026, 10, 27, 15, 30), clock.now(), rrule="FREQ=WEEKLY;BYDAY=TU")
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender)
    for day in (date(2026, 10, 27), date(2026, 11, 3)):
        due = datetime(day.year, day.month, day.day, 15, 30, tzinfo=NEW_YORK)
        clock.set(due - timedelta(seconds=10))
        ticker.tick()
        before = len(sender.sent)
        clock.set(due)
        ticker.tick()
        assert len(sender.sent) == before + 1
        assert sender.sent[-1].at.astimezone(NEW_YORK).strftime("%H:%M") == "15:30"
    assert [s.at.hour for s in sender.sent] == [19, 20]  # the UTC hour moved, the local one did not


def test_a_0230_occurrence_on_spring_forward_day_runs_at_0330() -> None:
    runs = occurrences("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", local(2027, 3, 13, 2, 30), 3)
    assert wall(runs) == ["Sat 2027-03-13 02:30", "Sun 2027-03-14 03:30", "Mon 2027-03-15 02:30"]
    assert to_utc(datetime(2027, 3, 14, 2, 30), NEW_YORK) == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)


def test_an_ambiguous_0130_in_autumn_runs_once_at_the_first_one() -> None:
    runs = occurrences("FREQ=DAILY;BYHOUR=1;BYMINUTE=30", local(2026, 10, 31, 1, 30), 3)
    assert wall(runs) == ["Sat 2026-10-31 01:30", "Sun 2026-11-01 01:30", "Mon 2026-11-02 01:30"]
    assert runs[1] == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, not the repeat at 01:30 EST


# -- rules ----------------------------------------------------------------------------------------------


def test_first_tuesday_of_the_month() -> None:
    runs = occurrences("FREQ=MONTHLY;BYDAY=1TU", local(2026, 11, 1, 16), 4)
    assert wall(runs) == ["Tue 2026-11-03 16:00", "Tue 2026-12-01 16:00", "Tue 2027-01-05 16:00",
                          "Tue 2027-02-02 16:00"]  # fmt: skip


def test_an_until_written_in_utc_as_rfc_5545_asks_is_accepted() -> None:
    rule = "FREQ=DAILY;UNTIL=20261125T235959Z"
    validate_rrule(rule, "America/New_York")
    assert wall(occurrences(rule, local(2026, 11, 23, 15, 30), 10)) == [
        "Mon 2026-11-23 15:30", "Tue 2026-11-24 15:30", "Wed 2026-11-25 15:30",
    ]  # fmt: skip


def test_a_nonsense_rule_is_refused() -> None:
    with pytest.raises(RecurrenceError):
        validate_rrule("FREQ=SOMETIMES")


# -- school-day shifts ----------------------------------------------------------------------------------


def test_an_occurrence_on_a_holiday_runs_on_the_next_school_day(db: Database) -> None:
    clock = FakeClock(local(2026, 11, 23, 9))
    world = make_world(db, clock.now())
    world.close(date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27), label="Thanksgiving")
    world.schedule("ana", local(2026, 11, 26, 15, 30), clock.now(), rrule="FREQ=WEEKLY;BYDAY=TH")
    world.schedule("ana", local(2026, 11, 26, 15, 30), clock.now(), rrule="FREQ=WEEKLY;BYDAY=TH", kind=EARLIER)
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender)
    clock.set(local(2026, 11, 24, 15, 30))
    ticker.tick()
    assert [s.at for s in sender.sent] == [local(2026, 11, 24, 15, 30)]  # "previous": Thanksgiving -> Tuesday
    for day in (25, 26, 27):
        clock.set(local(2026, 11, day, 15, 30))
        ticker.tick()
    assert len(sender.sent) == 1
    clock.set(local(2026, 11, 30, 15, 30))
    ticker.tick()
    assert [s.at for s in sender.sent] == [local(2026, 11, 24, 15, 30), local(2026, 11, 30, 15, 30)]
    both = {s.payload["messages"][0]["context"]["at"] for s in sender.sent}
    assert both == {local(2026, 11, 24, 15, 30).isoformat(), local(2026, 11, 30, 15, 30).isoformat()}


def test_a_daily_reminder_comes_once_on_monday_not_once_per_weekend_day_too(db: Database) -> None:
    clock = FakeClock(local(2026, 11, 20, 8))  # a Friday
    world = make_world(db, clock.now())
    world.schedule("ana", local(2026, 11, 20, 15, 30), clock.now(), rrule="FREQ=DAILY")
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender)
    for day in (20, 21, 22, 23, 24):
        clock.set(local(2026, 11, day, 15, 30))
        ticker.tick()
    assert wall([s.at for s in sender.sent]) == ["Fri 2026-11-20 15:30", "Mon 2026-11-23 15:30", "Tue 2026-11-24 15:30"]


def test_moving_back_to_friday_also_sends_one_reminder(db: Database) -> None:
    clock = FakeClock(local(2026, 11, 19, 8))
    world = make_world(db, clock.now())
    world.schedule("ana", local(2026, 11, 19, 15, 30), clock.now(), rrule="FREQ=DAILY", kind=EARLIER)
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender)
    for day in (19, 20, 21, 22, 23):
        clock.set(local(2026, 11, day, 15, 30))
        ticker.tick()
    assert wall([s.at for s in sender.sent]) == ["Thu 2026-11-19 15:30", "Fri 2026-11-20 15:30", "Mon 2026-11-23 15:30"]


def test_a_kind_without_a_shift_keeps_the_holiday_date(db: Database) -> None:
    clock = FakeClock(local(2026, 11, 23, 9))
    world = make_world(db, clock.now())
    world.close(date(2026, 11, 26))
    sid = world.schedule("ana", local(2026, 11, 26, 15, 30), clock.now(), kind=UNSHIFTED)
    assert world.schedule_row(sid).next_run_at == local(2026, 11, 26, 15, 30)


# -- finishing ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["FREQ=DAILY;COUNT=3", "FREQ=DAILY;UNTIL=20261125T153000",
                                  "FREQ=DAILY;UNTIL=20261125T203000Z"])  # fmt: skip
def test_count_and_until_rules_finish(db: Database, rule: str) -> None:
    clock = FakeClock(local(2026, 11, 23, 9))
    world = make_world(db, clock.now())
    sid = world.schedule("ana", local(2026, 11, 23, 15, 30), clock.now(), rrule=rule)
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender)
    for day in (23, 24, 25, 26, 27, 30):
        clock.set(local(2026, 11, day, 15, 30))
        ticker.tick()
    assert wall([s.at for s in sender.sent]) == ["Mon 2026-11-23 15:30", "Tue 2026-11-24 15:30", "Wed 2026-11-25 15:30"]
    finished = world.schedule_row(sid)
    assert finished.status == "done" and finished.next_run_at is None


def test_a_one_off_schedule_runs_once_and_is_done(db: Database) -> None:
    clock = FakeClock(local(2026, 11, 23, 9))
    world = make_world(db, clock.now())
    sid = world.schedule("ana", local(2026, 11, 23, 11), clock.now())
    sender = RecordingSender(clock)
    ticker = world.ticker(clock, sender)
    clock.set(local(2026, 11, 23, 11))
    ticker.tick()
    ticker.tick()
    clock.advance(timedelta(days=1))
    ticker.tick()
    assert len(sender.sent) == 1
    assert world.schedule_row(sid).status == "done"
