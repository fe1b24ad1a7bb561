"""Reads the dates teachers type ("June 15, 2026", "6/15/2026", "June 2026", "end of May").

Hand-written on purpose: the accepted forms are few, the result must be explainable, and a date that
cannot exist ("31/31/2026") must be told apart from text that holds no date at all.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))

_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?\b")
_MONTH_DAY = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.I)
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\.?(?:,?\s+(\d{{4}}))?\b", re.I)
_END_OF = re.compile(rf"\b(?:the\s+)?end\s+of\s+({_MONTH})\.?(?:,?\s+(\d{{4}}))?\b", re.I)
_MONTH_YEAR = re.compile(rf"\b({_MONTH})\.?,?\s+(\d{{4}})\b", re.I)


class DateProblem(ValueError):
    """Text that looks like a date but names no real day, e.g. 31/31/2026."""

    def __init__(self, text: str, month: int, year: int) -> None:
        super().__init__(f"{text!r} is not a real date")
        self.text = text
        self.month = month
        self.month_name = calendar.month_name[month] if 1 <= month <= 12 else ""
        self.year = year
        self.days = calendar.monthrange(year, month)[1] if 1 <= month <= 12 and 1 <= year <= 9999 else 0


@dataclass(frozen=True)
class FoundDate:
    value: date
    text: str  # the words the date was read from, to show what we understood
    # "June 2027", "end of May": the district calendar decides the day. A hint for the caller, not part of
    # which date was read, so it takes no part in equality.
    whole_month: bool = field(default=False, compare=False)


def spoken(day: date) -> str:
    """A date as messages show it ("Mon, June 15, 2026"): the weekday matters when school days do."""
    return f"{day:%a}, {day:%B} {day.day}, {day.year}"


def _year_for(month: int, day: int, today: date) -> int:
    """With no year given, take the next time that month and day comes round."""
    year = today.year
    last = calendar.monthrange(year, month)[1]
    if date(year, month, max(1, min(day, last))) < today:
        year += 1
    return year


def _make(year: int, month: int, day: int, text: str) -> FoundDate:
    if not 1 <= year <= 9999 or not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise DateProblem(text, month, year)
    return FoundDate(date(year, month, day), text)


def _whole_month(year: int, month: int, text: str) -> FoundDate:
    found = _make(year, month, calendar.monthrange(year, month)[1] if 1 <= year <= 9999 else 1, text)
    return FoundDate(found.value, found.text, whole_month=True)


def _full_year(text: str | None, month: int, day: int, today: date) -> int:
    if text is None:
        return _year_for(month, day, today)
    year = int(text)
    return year + 2000 if year < 100 else year


def find_date(text: str, today: date) -> FoundDate | None:
    """The first date in `text`, or None if there is none. Raises DateProblem for impossible dates."""
    candidates: list[tuple[int, FoundDate]] = []
    for match in _ISO.finditer(text):
        y, m, d = (int(g) for g in match.groups())
        candidates.append((match.start(), _make(y, m, d, match.group(0))))
    for match in _NUMERIC.finditer(text):
        if _ISO.search(text[max(0, match.start() - 5) : match.end() + 1]):
            continue
        m, d = int(match.group(1)), int(match.group(2))
        y = _full_year(match.group(3), m, d, today) if 1 <= m <= 12 else today.year
        candidates.append((match.start(), _make(y, m, d, match.group(0))))
    for match in _END_OF.finditer(text):
        m = MONTHS[match.group(1).lower()]
        y = int(match.group(2)) if match.group(2) else _year_for(m, calendar.monthrange(today.year, m)[1], today)
        candidates.append((match.start(), _whole_month(y, m, match.group(0))))
    for match in _MONTH_DAY.finditer(text):
        m, d = MONTHS[match.group(1).lower()], int(match.group(2))
        if match.group(3) is None and d > 31:
            continue
        y = _full_year(match.group(3), m, min(d, 28), today)
        candidates.append((match.start(), _make(y, m, d, match.group(0))))
    for match in _DAY_MONTH.finditer(text):
        d, m = int(match.group(1)), MONTHS[match.group(2).lower()]
        y = _full_year(match.group(3), m, min(d, 28), today)
        candidates.append((match.start(), _make(y, m, d, match.group(0))))
    for match in _MONTH_YEAR.finditer(text):
        if _MONTH_DAY.match(text, match.start()):
            continue
        m, y = MONTHS[match.group(1).lower()], int(match.group(2))
        candidates.append((match.start(), _whole_month(y, m, match.group(0))))
    if not candidates:
        return None
    return min(candidates, key=lambda pair: pair[0])[1]
