"""A whole school year of PLC check-ins and partnership meetings, through holidays and both DST changes,
walked by ticking at the instants something is due; and the demo data's month through `schedule upcoming`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.org_commands import terminal_directory
from handlers.org.demo import load_demo
from handlers.schedule_preview.feature import describe
from scheduling.preview import upcoming
from scheduling.tick import QuietHours
from storage.database import Database
from tests.handlers.partnerships.test_partnership_dialogs import new_partnership
from tests.handlers.plc.harness import LAST_DAY, NY, district, is_school_day
from tests.handlers.plc.test_plc_dialogs import new_team

START = datetime(2026, 9, 8, 13, 0, tzinfo=UTC)  # Tue Sep 8, 09:00 in New York, the day after Labor Day
END = datetime.combine(LAST_DAY, time(23, 0), tzinfo=NY)


def next_school_day(day: date) -> date:
    while not is_school_day(day):
        day += timedelta(days=1)
    return day


def school_days_before(day: date, count: int) -> date:
    for _ in range(count):
        day -= timedelta(days=1)
        while not is_school_day(day):
            day -= timedelta(days=1)
    return day


def test_a_school_year_of_cadences_through_holidays_and_dst(db: Database) -> None:
    town = district(db, START)
    new_team(town, "every other Wednesday 3:15pm")
    new_partnership(town, "first Tuesday 3:30pm")
    town.walk_to(END)
    got = town.inbox.take()

    # Expected, worked out from the calendar alone: Wednesdays every two weeks from Sep 9, school days only.
    wednesdays = [date(2026, 9, 9) + timedelta(weeks=2 * n) for n in range(30)]
    meetings = [d for d in wednesdays if d <= LAST_DAY and is_school_day(d)]
    assert date(2026, 12, 30) not in meetings and date(2027, 4, 21) not in meetings  # winter and April vacation
    checkins = [i for i in got if i.first_line.startswith("PLC check-in")]
    assert sorted({i.local.date() for i in checkins}) == meetings
    assert len(checkins) == len(meetings) and {i.to for i in checkins} == {"#grade4-plc"}  # once, in the channel
    assert {i.local.time() for i in checkins} == {time(15, 15)}  # before and after Nov 1 and Mar 14
    reminders = [i for i in got if "isn't logged yet" in i.first_line]
    assert [(i.to, i.local.date(), i.local.time()) for i in reminders] == [
        ("rivera", d, time(16, 30)) for d in meetings
    ]

    firsts = [date(y, m, 1) for y, m in [(2026, 10), (2026, 11), (2026, 12)] + [(2027, m) for m in range(1, 7)]]
    tuesdays = [d + timedelta(days=(1 - d.weekday()) % 7) for d in firsts]
    held = [next_school_day(d) for d in tuesdays]
    assert held[1] == date(2026, 11, 3) and held[4] == date(2027, 2, 2)
    agenda = sorted((i.to, i.local.replace(tzinfo=None)) for i in got if "Agenda" in i.text)
    expected = sorted(
        [(who, datetime.combine(school_days_before(d, 5), time(8, 0))) for d in held for who in ("baker", "okafor",
         "patel")] + [(who, datetime.combine(d, time(7, 30))) for d in held for who in ("baker", "okafor", "patel")]
    )  # fmt: skip
    assert agenda == expected
    asked = [i.local.replace(tzinfo=None) for i in got if i.first_line.startswith("How did the")]
    assert asked == [datetime.combine(d, time(16, 30)) for d in held]
    assert len(got) == 2 * len(meetings) + 7 * len(held) + 3  # and the assessment window, to the 3 members
    assert all(is_school_day(i.local.date()) and time(7, 0) <= i.local.time() < time(18, 0) for i in got)
    assert town.ticks < 600  # the walk ticked at event times, not every minute
    history = town.chat("rivera").say("/plc history")
    assert "Missed check-ins (no review logged): Wed Jun 16, Wed Jun 2" in history


def test_demo_month_lists_plc_check_ins_and_both_partnership_reminders(db: Database) -> None:
    town = district(db, datetime(2027, 1, 4, 13, 0, tzinfo=UTC), staff=False)  # Mon Jan 4 2027, 08:00 in NY
    load_demo(db, town.clock, terminal_directory(), "America/New_York", features=town.runtime.bot.features)
    settings = town.runtime.settings
    start, end = town.clock.now(), town.clock.now() + timedelta(days=31)
    items = upcoming(db, town.runtime.kinds, QuietHours(settings.quiet_start, settings.quiet_end),
                     "America/New_York", start, end)  # fmt: skip
    shown = [describe(i) for i in items]
    kinds = {item["kind"] for item in shown}
    assert {"plc.checkin", "partnership.reminder", "partnership.after_meeting"} <= kinds
    reminders = [s for s in shown if s["kind"] == "partnership.reminder"]
    assert {r["first_line"].split(":")[0] for r in reminders} == {"Coming up", "Today"}
    assert all(is_school_day(datetime.fromisoformat(s["at_utc"]).astimezone(NY).date()) for s in shown)
    town.walk_to(end)
    got = town.inbox.take()
    assert [(i.local.strftime("%Y-%m-%d %H:%M"), i.first_line) for i in got] == [
        (s["local"], s["first_line"]) for s in shown if s["status"] == "sends"
    ]
    agenda = next(i for i in got if "Agenda" in i.text)
    overdue = agenda.text.split("1. Overdue steps")[1].split("2.")[0]
    assert "Review pipeline data" in overdue and "Agree on supervising practitioner selection criteria" in overdue
    assert "Sign the partnership compact" not in overdue  # done
    with town.repos() as repos:
        team = repos.plc.in_workspace(repos.workspaces.ensure("console", "local", start).id)
        assert any(c.status == "missed" for t in team for c in repos.plc.checkins(t.id))
