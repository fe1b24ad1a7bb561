"""Checks shared by `/observe` one-liners and the guided form: who, when, how long."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers.engine import Problem
from handlers.observations.service import Policy, permission_problem, time_problem, zone_of
from handlers.observations.when import When, WhenProblem, describe, parse_when, take_clock_time
from scheduling.calendar import SchoolCalendar
from storage.models import Person
from storage.unit_of_work import Repos

MIN_MINUTES, MAX_MINUTES, DEFAULT_MINUTES = 5, 240, 30
_MINUTES = re.compile(r"^(\d{1,3})\s*(?:m|min|mins|minutes?)?\.?$", re.I)


@dataclass(frozen=True)
class Lookup:
    """What the checks need from the database and the clock, gathered once per message."""

    repos: Repos
    observer: Person
    calendar: SchoolCalendar
    policy: Policy
    now: datetime
    default_zone: str

    @property
    def zone(self) -> str:
        return zone_of(self.observer, self.default_zone)

    @property
    def today(self) -> date:
        """Today in the observer's zone: notice is counted from their school day."""
        return self.now.astimezone(ZoneInfo(self.zone)).date()


def find_teacher(lookup: Lookup, ref: str, mode: str) -> Person | Problem:
    """The person `ref` names, if this observer may observe them in this mode."""
    matches = lookup.repos.people.resolve(lookup.observer.workspace_id, ref)
    if not matches:
        return Problem("observations/errors/unknown_person", {"ref": ref.strip()[:80]})
    if len(matches) > 1:
        names = [p.display_name for p in matches[:5]]
        return Problem("observations/errors/ambiguous_person", {"ref": ref.strip()[:80], "names": names})
    teacher = matches[0]
    problem = permission_problem(lookup.observer, teacher, mode)
    return problem or teacher


def find_time(
    lookup: Lookup, text: str, mode: str, teacher: Person | None = None, past: bool = False
) -> When | Problem:
    """A time that works: ahead (or over, with `past`), in the school day, and told to `teacher` in time."""
    when = parse_when(text, lookup.now, lookup.zone, past=past)
    if isinstance(when, WhenProblem):
        return Problem(when.template, when.context)
    if past:
        mode = "unannounced"  # school day and hours only: nobody needs notice of a visit that is over
    problem = time_problem(when, mode, lookup.calendar, lookup.policy, lookup.today, teacher, lookup.now,
                           lookup.default_zone)  # fmt: skip
    return problem or when


def only_clock_time(text: str) -> bool:
    """`10:15`, `9am`: the answer to "What time on Fri Dec 4?" names no day of its own."""
    clock, rest = take_clock_time(" ".join(text.split()))
    return clock is not None and not rest.strip(" .,")


def read_minutes(text: str) -> int | Problem:
    match = _MINUTES.match(text.strip())
    if not match or not MIN_MINUTES <= int(match.group(1)) <= MAX_MINUTES:
        return Problem("observations/errors/minutes", {"low": MIN_MINUTES, "high": MAX_MINUTES})
    return int(match.group(1))


def when_answer(when: When, observer_zone: str, teacher: Person | None, default_zone: str) -> dict[str, Any]:
    """How a chosen time is kept in the conversation and confirmed back, in both people's zones."""
    answer: dict[str, Any] = {
        "at": when.at.isoformat(),
        "guessed": when.guessed_date,
        "described": describe(when.at, observer_zone),
    }
    if teacher is not None and zone_of(teacher, default_zone) != observer_zone:
        answer["described_teacher"] = describe(when.at, zone_of(teacher, default_zone))
    return answer
