"""When a person may be messaged: school days, inside their working hours, and not while away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling.calendar import SEARCH_LIMIT, SchoolCalendar

DEFAULT_START = time(7, 0)
DEFAULT_END = time(18, 0)


def parse_hhmm(text: str | None, default: time) -> time:
    if not text:
        return default
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        return default


@dataclass(frozen=True)
class Window:
    """One person's messaging window, in their own zone."""

    zone: ZoneInfo
    start: time = DEFAULT_START
    end: time = DEFAULT_END

    def opens_at(self, now: datetime, calendar: SchoolCalendar) -> datetime:
        """`now` if a message may go now, else the next moment the window opens (UTC)."""
        local = now.astimezone(self.zone)
        day = local.date()
        if calendar.is_school_day(day) and self.start <= local.time() < self.end:
            return now
        if not (calendar.is_school_day(day) and local.time() < self.start):
            day = calendar.next_school_day(day)
        for _ in range(SEARCH_LIMIT):
            opening = datetime.combine(day, self.start, tzinfo=self.zone)
            if opening.astimezone(UTC) > now:
                return opening.astimezone(UTC)
            day = calendar.next_school_day(day)
        return now + timedelta(days=1)


def next_delivery_time(
    now: datetime, window: Window, calendar: SchoolCalendar, away_until: datetime | None
) -> datetime:
    """The earliest time a message to this person may be delivered, `now` included."""
    start = max(now, away_until) if away_until is not None else now
    return window.opens_at(start, calendar)
