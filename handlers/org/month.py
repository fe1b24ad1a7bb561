"""One month of the school calendar as text, like `cal` with Monday first, for checking an import by eye.

Days without school are in parentheses; below the grid, each weekday closure with its reason, and the
number of school days, which is what contractual timelines count.
"""

from __future__ import annotations

import calendar as gregorian
from datetime import date, timedelta

from scheduling.calendar import SchoolCalendar

WIDTH = 28  # seven cells of four characters
WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


def _cell(day: int, school: bool) -> str:
    return f" {day:>2} " if school else f"({day})".rjust(4)


def _closures(calendar: SchoolCalendar, days: list[date]) -> list[tuple[date, date, str]]:
    """Weekdays without school, runs with the same reason merged across weekends."""
    runs: list[tuple[date, date, str]] = []
    for day in days:
        if day.weekday() >= 5 or calendar.is_school_day(day):
            continue
        reason = calendar.why_closed(day)
        if runs:
            first, last, previous = runs[-1]
            between = [last + timedelta(days=n) for n in range(1, (day - last).days)]
            if previous == reason and all(d.weekday() >= 5 for d in between):
                runs[-1] = (first, day, reason)
                continue
        runs.append((day, day, reason))
    return runs


def _span(first: date, last: date) -> str:
    if first == last:
        return f"{first:%a} {first:%b} {first.day}"
    return f"{first:%a} {first:%b} {first.day} to {last:%a} {last:%b} {last.day}"


def render_month(calendar: SchoolCalendar, year: int, month: int, loaded: bool = True) -> str:
    title = f"{gregorian.month_name[month]} {year}"
    lines = [title.center(WIDTH).rstrip(), "".join(f" {name} " for name in WEEKDAYS).rstrip()]
    for week in gregorian.Calendar(firstweekday=gregorian.MONDAY).monthdayscalendar(year, month):
        cells = [_cell(n, calendar.is_school_day(date(year, month, n))) if n else "    " for n in week]
        lines.append("".join(cells).rstrip())
    lines.append("(n) = no school")
    days = [date(year, month, n) for n in range(1, gregorian.monthrange(year, month)[1] + 1)]
    runs = _closures(calendar, days)
    if runs:
        lines.append("")
        lines.append("No school on weekdays:")
        lines += [f"  {_span(first, last)}: {reason}" for first, last, reason in runs]
    count = sum(calendar.is_school_day(day) for day in days)
    lines.append("")
    lines.append(f"School days in {title}: {count}")
    if not loaded:
        lines.append("No school calendar is loaded, so every weekday counts; load one with: growthbot calendar import")
    return "\n".join(lines) + "\n"
