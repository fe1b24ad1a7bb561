"""Occurrences of a schedule: RFC 5545 RRULEs evaluated in wall-clock time of the schedule's own zone.

"Every other Tuesday at 15:30" stays at 15:30 local across DST changes because the rule runs on naive
local times, and only each occurrence is turned into UTC. A 02:30 that does not exist on the spring-forward
day moves forward by the gap (03:30); an ambiguous 01:30 in autumn is the first one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from scheduling.calendar import SchoolCalendar


class RecurrenceError(ValueError):
    """An RRULE the scheduler cannot use."""


def to_local_naive(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive local wall time in `zone` as UTC, pushing nonexistent times past the gap."""
    aware = local.replace(tzinfo=zone, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != local:  # in a spring-forward gap: the later offset gives the time after the gap
        aware = local.replace(tzinfo=zone, fold=1)
    return aware.astimezone(UTC)


def validate_rrule(rule: str) -> None:
    try:
        rrulestr(rule, dtstart=datetime(2026, 1, 1))
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
) -> Occurrence | None:
    """The first occurrence strictly after `after` (or the first of all when None); None when finished.

    A one-off schedule (no RRULE) has a single occurrence at `starts_at`.
    """
    zone = ZoneInfo(time_zone)
    if rrule is None:
        if after is not None and starts_at <= after:
            return None
        original = starts_at
    else:
        start = to_local_naive(starts_at, zone)
        rule = rrulestr(rrule, dtstart=start)
        local = rule.after(start, inc=True) if after is None else rule.after(to_local_naive(after, zone), inc=False)
        if local is None:
            return None
        original = to_utc(local, zone)
        if after is not None and original <= after:  # an autumn-back hour can map two wall times close
            local = rule.after(local, inc=False)
            if local is None:
                return None
            original = to_utc(local, zone)
    return Occurrence(original=original, runs_at=shifted(original, zone, calendar, shift))


def shifted(moment: datetime, zone: ZoneInfo, calendar: SchoolCalendar, shift: str | None) -> datetime:
    """Keep the local time of day, move the date off a non-school day per the kind's policy."""
    local = to_local_naive(moment, zone)
    day = calendar.shift(local.date(), shift)
    if day == local.date():
        return moment
    return to_utc(datetime.combine(day, local.time()), zone)
