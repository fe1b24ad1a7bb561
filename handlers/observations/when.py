"""Reads the time an evaluator types for an observation ("next Tuesday 10:15", "12/3 9am", "tomorrow 1pm").

The text is split into a clock time and a day, each read by the narrowest tool that is right:

- the clock time by a small pattern (dateparser's own "was a time given?" signal is unreliable: it
  says "in 3 days at 10am" has no time and reads "Friday 9" as September);
- weekdays by hand, so "next Tuesday" has one documented meaning (below);
- calendar dates ("12/3", "Dec 3", "December 3, 2026", "2026-12-03") by the goal coach's date reader,
  because dateparser turns impossible dates into other dates ("2/30" -> 2030-11-02, "Dec 32" -> 2032),
  reads "12/03/26" as 2126, silently swaps to day/month for "13/3", and moves today's date to next year;
- relative days ("today", "tomorrow", "in 3 days", "next week") by dateparser, with explicit settings,
  and only those few phrases: given "a week from today" it answers a week ago.

Weekdays: "Tuesday", "this Tuesday", "on Tuesday" mean the soonest Tuesday at which the given time is
still ahead (today counts). "next Tuesday" means the first Tuesday after today, never today itself, so
on a Monday it is tomorrow and on a Tuesday it is a week away. The reply always names the date taken
(``When.guessed_date``), so a person who meant otherwise can correct it. "Wednesday next week" is the
Wednesday of the coming Monday-to-Sunday week.

A clock time without am/pm from 1:00 to 6:59 is read as afternoon: observations happen in the school day.
A bare time ("9am") is today if still ahead, else tomorrow.

Daylight saving: a wall time skipped by the spring change (2:30 on the day clocks jump from 2:00 to
3:00) is moved forward by the size of the gap, to 3:30 in the new offset. A wall time that happens twice
in the autumn is taken at its first occurrence (``fold=0``, still daylight time).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dateparser

from handlers.goals.dates import DateProblem, find_date

MAX_DAYS_AHEAD = 400
RECENT_DAYS = 120  # a date without a year this recently gone by means that day, not the same day next year
MAX_TEXT = 200  # nobody types a time this long; bounds the work done on pasted text
EXAMPLE_TIME = "10:15"

UNREADABLE = "observations/errors/when_unreadable"
NO_TIME = "observations/errors/when_no_time"
NOT_A_DATE = "observations/errors/when_not_a_date"
WEEKDAY_MISMATCH = "observations/errors/when_weekday_mismatch"
PAST = "observations/errors/when_past"
FUTURE = "observations/errors/when_future"
TOO_LONG_AGO = "observations/errors/when_too_long_ago"
TOO_FAR = "observations/errors/when_too_far"
NOT_SCHOOL_DAY = "observations/errors/not_school_day"
OUTSIDE_HOURS = "observations/errors/outside_hours"


@dataclass(frozen=True)
class When:
    at: datetime  # timezone-aware, in UTC
    local: datetime  # the same instant in the evaluator's zone
    guessed_date: bool  # only a weekday or relative day was named: the reply must say which date was taken


@dataclass(frozen=True)
class WhenProblem:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


_WEEKDAYS = {
    "monday": 0, "mon": 0,
    "tuesday": 1, "tues": 1, "tue": 1,
    "wednesday": 2, "weds": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3,
    "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}  # fmt: skip
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAY = re.compile(
    r"\b(?:(next|this|coming|on)\s+)*(" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")\b\.?", re.I
)

_MERIDIEM_TIME = re.compile(r"(?<![\w/:.-])(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s?m\b\.?", re.I)
_CLOCK_TIME = re.compile(r"(?<![\w/:.-])(\d{1,2}):(\d{2})(?![\d:])")
_NOON = re.compile(r"\b(?:12\s*)?(?:noon|midday)\b", re.I)
_AT_HOUR = re.compile(r"(?:\bat|@)\s*(\d{1,2})(?![\w/:.-])", re.I)

_NUMBER = r"(?:\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten)"
_RELATIVE = re.compile(
    rf"^(?:(?:the\s+)?day\s+after\s+tomorrow|today|tomorrow|yesterday|next\s+week"
    rf"|in\s+{_NUMBER}\s+(?:days?|weeks?)|{_NUMBER}\s+(?:days?|weeks?)\s+from\s+now)$",
    re.I,
)
_NO_DAY = re.compile(r"^(?:(?:the\s+)?end\s+of\b.*|[a-z]+\.?,?\s+\d{4})$", re.I)  # "end of May", "June 2026"
_NEXT_WEEK = re.compile(r"^next\s+week$", re.I)
_FILLER = re.compile(r"\b(?:at|on|the)\b|@|,", re.I)


def parse_when(text: str, now: datetime, time_zone: str, past: bool = False) -> When | WhenProblem:
    """The instant `text` names, read in `time_zone` relative to `now` (aware, UTC), or why it cannot be used.

    With `past` (a visit logged after the fact) the instant must be over: a weekday or a bare time means
    the latest such moment before now, and a date without a year the latest such date.

    Never raises for anything a person types; an unknown `time_zone` or a naive `now` is a programming
    error and raises.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(time_zone)
    local_now = now.astimezone(zone)
    original = " ".join(text.split())
    if not original or len(original) > MAX_TEXT:
        return WhenProblem(UNREADABLE, {"text": original[:MAX_TEXT]})

    clock, rest = take_clock_time(original)
    weekday, rest = _take_weekday(rest)
    day_text = _FILLER.sub(" ", rest)
    day_text = " ".join(day_text.split())

    day: date | None = None
    guessed = True
    if weekday is not None and _NEXT_WEEK.match(day_text):
        monday = local_now.date() - timedelta(days=local_now.weekday())
        day, day_text = monday + timedelta(days=7 + weekday[0]), ""
    if day_text:
        found = _read_day(day_text, local_now, time_zone)
        if isinstance(found, DateProblem):
            return WhenProblem(
                NOT_A_DATE, {"text": original, "date_text": found.text, "month": found.month_name, "days": found.days}
            )
        if found is None:
            return WhenProblem(UNREADABLE, {"text": original})
        day, guessed = found
        rolled = day > local_now.date() + timedelta(days=183) and not re.search(r"\d{4}", day_text)
        if rolled and (past or local_now.date() - _year_before(day) <= timedelta(days=RECENT_DAYS)):
            day = _year_before(day)  # "Nov 20" on Nov 23 is three days ago, not next November
        if weekday is not None and day.weekday() != weekday[0]:
            return WhenProblem(
                WEEKDAY_MISMATCH,
                {"text": original, "weekday": _WEEKDAY_NAMES[weekday[0]], "date": day.isoformat(), "day": _day(day)},
            )

    if clock is None:
        if day is None and weekday is not None:
            day = _weekday_date(local_now.date(), weekday[0], after_today=weekday[1])
            if past:
                day = _weekday_before(local_now.date(), weekday[0])
        if day is None:
            return WhenProblem(UNREADABLE, {"text": original})
        if day < local_now.date() and not past:  # a day gone by: no time of it would do
            return WhenProblem(PAST, {"text": original, "when": _day(day)})
        example = f"{original} {EXAMPLE_TIME}"
        return WhenProblem(NO_TIME, {"text": original, "date": day.isoformat(), "day": _day(day), "example": example})

    if day is None:
        day = _latest_day(local_now, zone, clock, weekday) if past else _soonest_day(local_now, zone, clock, weekday)
    local = _localise(datetime.combine(day, clock), zone)
    at = local.astimezone(UTC)
    if past:
        if at > now:
            return WhenProblem(FUTURE, {"text": original, "when": describe(at, time_zone)})
        if now - at > timedelta(days=MAX_DAYS_AHEAD):
            return WhenProblem(TOO_LONG_AGO, {"text": original, "when": describe(at, time_zone),
                                              "max_days": MAX_DAYS_AHEAD})  # fmt: skip
        return When(at=at, local=local, guessed_date=guessed)
    if at <= now:
        return WhenProblem(PAST, {"text": original, "when": describe(at, time_zone)})
    if at - now > timedelta(days=MAX_DAYS_AHEAD):
        return WhenProblem(TOO_FAR, {"text": original, "when": describe(at, time_zone), "max_days": MAX_DAYS_AHEAD})
    return When(at=at, local=local, guessed_date=guessed)


def describe(dt_utc: datetime, time_zone: str) -> str:
    """'Thu Dec 3, 2026, 9:00 AM EST': the instant as one person reads it, zone named so nobody is misled."""
    local = dt_utc.astimezone(ZoneInfo(time_zone))
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    return f"{_day(local.date())}, {hour}:{local.minute:02d} {meridiem} {local.tzname()}"


def check_slot(
    local: datetime,
    is_school_day: Callable[[date], bool],
    next_school_day: Callable[[date], date],
    day_start: time = time(7, 0),
    day_end: time = time(17, 0),
) -> WhenProblem | None:
    """Whether an observation may start at `local` (aware, the evaluator's zone): a school day, in school hours.

    Hours are checked first, so a suggested school day at the same time is always itself acceptable.
    A start at `day_start` is allowed; one at `day_end` is not.
    """
    if local.tzinfo is None:
        raise ValueError("local must be timezone-aware")
    wall = local.time()
    if not day_start <= wall < day_end:
        return WhenProblem(
            OUTSIDE_HOURS,
            {
                "start": _clock(day_start),
                "end": _clock(day_end),
                "time": _clock(wall),
                "date": local.date().isoformat(),
            },
        )
    if not is_school_day(local.date()):
        suggested = _localise(datetime.combine(next_school_day(local.date()), wall), local.tzinfo)
        return WhenProblem(
            NOT_SCHOOL_DAY,
            {
                "date": local.date().isoformat(),
                "day": _day(local.date()),
                "suggestion": suggested.isoformat(),
                "suggestion_day": _day(suggested.date()),
            },
        )
    return None


# -- pieces --------------------------------------------------------------------------------------------


def take_clock_time(text: str) -> tuple[time | None, str]:
    """The clock time in `text` and the text without it. An impossible time ("25:00") counts as none."""
    for pattern in (_MERIDIEM_TIME, _CLOCK_TIME, _NOON, _AT_HOUR):
        match = pattern.search(text)
        if match is None:
            continue
        rest = text[: match.start()] + " " + text[match.end() :]
        if pattern is _NOON:
            return time(12, 0), rest
        hour = int(match.group(1))
        minute = 0 if pattern is _AT_HOUR else int(match.group(2) or 0)
        if pattern is _MERIDIEM_TIME:
            if not 1 <= hour <= 12:
                return None, text
            hour = hour % 12 + (12 if match.group(3).lower() == "p" else 0)
        elif 1 <= hour <= 6:
            hour += 12  # "Tuesday 1:30" is an afternoon lesson, not the middle of the night
        if hour > 23 or minute > 59:
            return None, text
        return time(hour, minute), rest
    return None, text


def _take_weekday(text: str) -> tuple[tuple[int, bool] | None, str]:
    """(weekday number, whether "next" was said) and the text without it."""
    match = _WEEKDAY.search(text)
    if match is None:
        return None, text
    qualifiers = match.group(0).lower().split()[:-1]
    rest = text[: match.start()] + " " + text[match.end() :]
    return (_WEEKDAYS[match.group(2).lower()], "next" in qualifiers), rest


def _read_day(text: str, local_now: datetime, time_zone: str) -> tuple[date, bool] | DateProblem | None:
    """(the day, whether it was only implied) when every word of `text` is used in naming one day."""
    today = local_now.date()
    try:
        found = find_date(text, today)
    except DateProblem as problem:
        return problem
    if found is not None:
        leftover = text.replace(found.text, " ", 1).strip(" .")
        if leftover or _NO_DAY.match(found.text):
            return None
        return found.value, False
    if _RELATIVE.match(text):
        parsed = dateparser.parse(
            text,
            languages=["en"],
            settings={
                "PREFER_DATES_FROM": "future",
                "RELATIVE_BASE": local_now.replace(tzinfo=None),
                "TIMEZONE": time_zone,
                "RETURN_AS_TIMEZONE_AWARE": True,
                "DATE_ORDER": "MDY",
            },
        )
        if parsed is not None:
            return parsed.date(), True
    return None


def _weekday_date(today: date, weekday: int, *, after_today: bool) -> date:
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and after_today:
        ahead = 7
    return today + timedelta(days=ahead)


def _weekday_before(today: date, weekday: int) -> date:
    """The latest such weekday before today ("last Tuesday" on a Tuesday is a week ago)."""
    return today - timedelta(days=(today.weekday() - weekday) % 7 or 7)


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # Feb 29
        return day.replace(year=day.year - 1, day=28)


def _latest_day(local_now: datetime, zone: ZoneInfo, clock: time, weekday: tuple[int, bool] | None) -> date:
    """With no calendar day named, looking back: the latest day (of the weekday, if any) at which `clock` is over."""
    today = local_now.date()
    if weekday is None:
        day, step = today, 1
    else:
        day = today if today.weekday() == weekday[0] else _weekday_before(today, weekday[0])
        step = 7
    if _localise(datetime.combine(day, clock), zone) > local_now:
        day -= timedelta(days=step)
    return day


def _soonest_day(local_now: datetime, zone: ZoneInfo, clock: time, weekday: tuple[int, bool] | None) -> date:
    """With no calendar day named: the first day (of the named weekday, if any) at which `clock` is ahead."""
    today = local_now.date()
    if weekday is None:
        day = today
        step = 1
    else:
        day = _weekday_date(today, weekday[0], after_today=weekday[1])
        step = 7
    if _localise(datetime.combine(day, clock), zone) <= local_now:
        day += timedelta(days=step)
    return day


def _localise(naive: datetime, zone: Any) -> datetime:
    """`naive` wall time in `zone`: the first of a repeated hour, pushed past a skipped one."""
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


def _day(day: date) -> str:
    return f"{day:%a %b} {day.day}, {day.year}"


def _clock(value: time) -> str:
    return f"{value.hour % 12 or 12}:{value.minute:02d} {'AM' if value.hour < 12 else 'PM'}"
