"""School days: the unit every contractual timeline is counted in.

A school day is a weekday, inside a school year the district loaded, and not a closed day (holiday,
vacation, PD day). Dates after the last loaded year, or before the first, fall back to the weekday rule,
so a district that has not loaded next year's calendar still gets sensible answers. A gap between two
loaded years (the summer) has no school days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

SEARCH_LIMIT = 400  # days; farther than any real break, so a search always ends


@dataclass(frozen=True)
class SchoolCalendar:
    closed: frozenset[date] = frozenset()
    years: tuple[tuple[date, date], ...] = ()
    labels: dict[date, str] = field(default_factory=dict, compare=False)

    def is_school_day(self, day: date) -> bool:
        if day.weekday() >= 5 or day in self.closed:
            return False
        if not self.years:
            return True
        if any(first <= day <= last for first, last in self.years):
            return True
        return day > max(last for _, last in self.years) or day < min(first for first, _ in self.years)

    def why_closed(self, day: date) -> str:
        """A few words on why a day has no school, for messages ("Thanksgiving", "weekend")."""
        if day.weekday() >= 5:
            return "weekend"
        if day in self.closed:
            return self.labels.get(day) or "no school"
        return "" if self.is_school_day(day) else "between school years"

    def next_school_day(self, day: date, include: bool = False) -> date:
        """The first school day after `day` (or `day` itself when `include` and it is one)."""
        candidate = day if include else day + timedelta(days=1)
        for _ in range(SEARCH_LIMIT):
            if self.is_school_day(candidate):
                return candidate
            candidate += timedelta(days=1)
        return candidate

    def previous_school_day(self, day: date, include: bool = False) -> date:
        candidate = day if include else day - timedelta(days=1)
        for _ in range(SEARCH_LIMIT):
            if self.is_school_day(candidate):
                return candidate
            candidate -= timedelta(days=1)
        return candidate

    def add_school_days(self, day: date, count: int) -> date:
        """`count` school days after `day` (before it when negative); day 0 is `day` or the next school day.

        "Feedback within 5 school days" of a Monday observation, with Wednesday a holiday, is the next
        Tuesday: Tue, Thu, Fri, Mon, Tue.
        """
        if count == 0:
            return self.next_school_day(day, include=True)
        step = self.next_school_day if count > 0 else self.previous_school_day
        current = day
        for _ in range(abs(count)):
            current = step(current)
        return current

    def school_days_between(self, start: date, end: date) -> int:
        """School days after `start` up to and including `end`; negative when `end` is earlier."""
        if end < start:
            return -self.school_days_between(end, start)
        count = 0
        current = start + timedelta(days=1)
        while current <= end:
            count += self.is_school_day(current)
            current += timedelta(days=1)
        return count

    def shift(self, day: date, policy: str | None) -> date:
        """Move a non-school day to the next (or previous) school day, per the reminder kind's policy."""
        if policy is None or self.is_school_day(day):
            return day
        return self.next_school_day(day) if policy == "next" else self.previous_school_day(day)
