"""A meeting cadence in words ("every other Wednesday 3:15pm", "first and third Monday at 3") as an RRULE.

The rule runs in the school's zone on wall-clock time (`scheduling/recurrence.py`), so 15:15 stays 15:15
across DST changes. Whether a day with no school is skipped or moved is the scheduler kind's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.engine import Check, CheckContext, Problem

DAYS = {
    "monday": "MO", "mon": "MO", "tuesday": "TU", "tue": "TU", "tues": "TU", "wednesday": "WE", "wed": "WE",
    "thursday": "TH", "thu": "TH", "thur": "TH", "thurs": "TH", "friday": "FR", "fri": "FR",
}  # fmt: skip
DAY_NAMES = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday"}
ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": -1}
ORDINAL_NAMES = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
EXAMPLES = (
    "every Wednesday 3:15pm",
    "every other Wednesday 3:15pm",
    "every Monday and Thursday at 8am",
    "first and third Monday at 3",
    "first Tuesday 3:30pm (monthly)",
    "quarterly on the second Thursday at 4pm",
)
_TIME = re.compile(r"(?:\bat\s+)?\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?(?=\s|$|,)")
_WORD = re.compile(r"[a-z0-9]+")


class CadenceProblem(ValueError):
    """Words the parser cannot read as a cadence; `why` is a few words for the message."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True)
class Cadence:
    rrule: str
    at: time
    described: str

    def first_start(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The RRULE's DTSTART: the meeting time on the next day after `now` (nothing fires for today's past)."""
        local = now.astimezone(zone)
        day = local.date() if local.time() < self.at else local.date() + timedelta(days=1)
        return datetime.combine(day, self.at, tzinfo=zone)


def _read_time(text: str) -> tuple[time, str]:
    matches = [m for m in _TIME.finditer(text) if m.group(2) or m.group(3) or "at" in m.group(0)]
    if not matches:
        matches = [m for m in _TIME.finditer(text) if not re.match(r"\d+(st|nd|rd|th)", text[m.start() :])]
    if not matches:
        raise CadenceProblem("no time of day")
    match = matches[-1]
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), (match.group(3) or "")[:1]
    if half:
        if not 1 <= hour <= 12:
            raise CadenceProblem("an hour that is not on a 12-hour clock")
        hour = hour % 12 + (12 if half == "p" else 0)
    elif 1 <= hour <= 6:
        hour += 12  # "at 3" for a school meeting is the afternoon
    if hour > 23 or minute > 59:
        raise CadenceProblem("a time that does not exist")
    return time(hour, minute), text[: match.start()] + " " + text[match.end() :]


def read_cadence(text: str) -> Cadence:
    """Read a cadence, or raise CadenceProblem saying what was missing."""
    lowered = text.strip().lower()
    if not lowered or len(lowered) > 200:
        raise CadenceProblem("nothing I can read")
    at, rest = _read_time(lowered)
    words = _WORD.findall(rest.replace("every other", "everyother"))
    days = list(dict.fromkeys(DAYS[w] for w in words if w in DAYS))
    if any(w in ("saturday", "sunday", "sat", "sun") for w in words):
        raise CadenceProblem("a weekend day (meetings are on school days)")
    if any(w in ("daily", "weekday", "weekdays") for w in words) or ("school" in words and "day" in words):
        days = days or ["MO", "TU", "WE", "TH", "FR"]
    if not days:
        raise CadenceProblem("no day of the week")
    ordinals = list(dict.fromkeys(ORDINALS[w] for w in words if w in ORDINALS))
    quarterly = "quarterly" in words or "quarter" in words or ("three" in words and "months" in words)
    clock = at.strftime("%-I:%M %p")
    if ordinals:
        interval = 3 if quarterly else 1
        byday = ",".join(f"{n}{d}" for n in ordinals for d in days)
        rule = f"FREQ=MONTHLY;INTERVAL={interval};BYDAY={byday}" if interval > 1 else f"FREQ=MONTHLY;BYDAY={byday}"
        which = " and ".join(ORDINAL_NAMES[n] for n in ordinals)
        every = "every third month" if quarterly else "each month"
        return Cadence(rule, at, f"the {which} {_names(days)} of {every} at {clock}")
    if quarterly:
        raise CadenceProblem("a quarterly meeting without which week (say 'first', 'second', ...)")
    interval = 2 if "everyother" in words or "biweekly" in words or "fortnightly" in words else 1
    rule = f"FREQ=WEEKLY;INTERVAL={interval};BYDAY={','.join(days)}" if interval > 1 else (
        f"FREQ=WEEKLY;BYDAY={','.join(days)}")  # fmt: skip
    return Cadence(rule, at, f"every {'other ' if interval > 1 else ''}{_names(days)} at {clock}")


def _names(days: list[str]) -> str:
    names = [DAY_NAMES[d] for d in days]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def cadence_problem(text: str, why: str) -> Problem:
    return Problem("plc/errors/cadence", {"text": text.strip()[:80], "why": why, "examples": list(EXAMPLES)})


def check_cadence(text: str, _ctx: CheckContext) -> Check:
    """The form check: the words as typed are kept; the parser must read them."""
    try:
        read_cadence(text)
    except CadenceProblem as problem:
        return Check(error=cadence_problem(text, problem.why))
    return Check(value=text.strip())
