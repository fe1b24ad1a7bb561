"""Occurrences of a schedule: RFC 5545 RRULEs evaluated in wall-clock time of the schedule's own zone.

"Every other Tuesday at 15:30" stays at 15:30 local across DST changes because the rule runs on naive
local times, and only each occurrence is turned into UTC. A 02:30 that does not exist on the spring-forward
day moves forward by the gap (03:30); an ambiguous 01:30 in autumn is the first one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule as RRule
from dateutil.rrule import rrulestr

from scheduling.calendar import SchoolCalendar

MAX_PASSED_OVER = 10_000  # occurrences a school-day shift may fold into one (an hourly rule over a long break)
UNTIL_UTC = re.compile(r"UNTIL=(\d{8}T\d{6})Z", re.IGNORECASE)


class RecurrenceError(ValueError):
    """An RRULE the scheduler cannot use."""


def to_local_naive(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive local wall time in `zone` as UTC.

    `fold=0` reads a time in a spring-forward gap with the offset from before the change, which lands the
    same distance past the gap (02:30 becomes 03:30), and picks the first of an autumn hour that happens twice.
    """
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def local_rule(rule: str, zone: ZoneInfo) -> str:
    """`rule` with a UTC `UNTIL` (how RFC 5545 writes it) turned into local wall time, as the rule runs on."""

    def to_local(match: re.Match[str]) -> str:
        moment = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return f"UNTIL={to_local_naive(moment, zone):%Y%m%dT%H%M%S}"

    return UNTIL_UTC.sub(to_local, rule)


def parse_rule(rule: str, starts_at: datetime, zone: ZoneInfo) -> RRule:
    parsed = rrulestr(local_rule(rule, zone), dtstart=to_local_naive(starts_at, zone))
    if not isinstance(parsed, RRule):
        raise RecurrenceError(f"one RRULE expected, not a set: {rule!r}")
    return parsed


def validate_rrule(rule: str, time_zone: str = "UTC") -> None:
    try:
        parse_rule(rule, datetime(2026, 1, 1, tzinfo=UTC), ZoneInfo(time_zone))
    except (ValueError, TypeError) as error:
        raise RecurrenceError(f"not a valid RRULE: {rule!r} ({error})") from error


@dataclass(frozen=True)
class Occurrence:
    """One occurrence: when the rule says (`original`) and when it runs after a school-day shift (`runs_at`)."""

    original: datetime
    runs_at: datetime


def next_occurrence(
    *,
    starts_at: datetime,
    time_zone: str,
    rrule: str | None,
    after: datetime | None,
    calendar: SchoolCalendar,
    shift: str | None,
    after_run: datetime | None = None,
) -> Occurrence | None:
    """The first occurrence strictly after `after` (or the first of all when None); None when finished.

    A one-off schedule (no RRULE) has a single occurrence at `starts_at`. `after_run` is when the previous
    occurrence ran: one that a school-day shift moves onto (or before) it is passed over, so a daily reminder
    whose Saturday and Sunday both move to Monday still comes once on Monday.
    """
    zone = ZoneInfo(time_zone)
    if rrule is None:
        if after is not None and starts_at <= after:
            return None
        return Occurrence(original=starts_at, runs_at=shifted(starts_at, zone, calendar, shift))
    rule = parse_rule(rrule, starts_at, zone)
    if after is None:
        candidates = rule.xafter(to_local_naive(starts_at, zone), inc=True)
    else:
        candidates = rule.xafter(to_local_naive(after, zone), inc=False)
    for count, local in enumerate(candidates):
        if count >= MAX_PASSED_OVER:
            break
        original = to_utc(local, zone)
        if after is not None and original <= after:  # an autumn-back hour can map two wall times close
            continue
        runs_at = shifted(original, zone, calendar, shift)
        if after_run is not None and runs_at <= after_run:
            continue
        return Occurrence(original=original, runs_at=runs_at)
    return None


def shifted(moment: datetime, zone: ZoneInfo, calendar: SchoolCalendar, shift: str | None) -> datetime:
    """Keep the local time of day, move the date off a non-school day per the kind's policy."""
    local = to_local_naive(moment, zone)
    day = calendar.shift(local.date(), shift)
    if day == local.date():
        return moment
    return to_utc(datetime.combine(day, local.time()), zone)
