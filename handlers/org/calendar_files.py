"""School calendar files (YAML or iCalendar) read into school years and closures, with line numbers.

YAML is read as a node tree (`yaml.compose`) rather than loaded, so every value keeps the line it came
from; .ics is unfolded by hand for the same reason. Nothing here touches the database.

Both are strict, because a calendar is hostile input like any other file: names with control characters
or longer than their column, unknown time zones, a day closed twice and absurdly long closures are each
reported on their line, never stored, cut short or silently merged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import yaml
from icalendar.parser import Contentline
from icalendar.prop import vDDDTypes, vDuration

from handlers.org.problems import Problem, control_character, shown
from handlers.org.staff import known_zones

YEAR_KEYS = ("school_year", "first_day", "last_day", "closed")
CLOSED_KEYS = ("date", "from", "to", "name")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_YEAR_NAME, MAX_LABEL = 32, 200  # column sizes in storage/models.py
MAX_CLOSURE_DAYS = 366  # a longer closure is a typo (and would be millions of rows for year 9999)
BLANKS = re.compile(r"[\t\r\n]")
ZONE_HINT = "use an IANA name such as America/New_York"
LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what editors count as lines; str.splitlines also splits on \x0c, \x1c…


@dataclass(frozen=True)
class Closure:
    line: int
    first: date
    last: date
    label: str

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class YearPlan:
    """A school year to store with its closures; `name` None means closures only (an .ics with no bounds)."""

    line: int
    name: str | None
    first_day: date | None
    last_day: date | None
    closures: tuple[Closure, ...]
    last_line: int = 0  # where last_day is written, for "last_day is before first_day"


class _Reader:
    """Collects problems while walking a YAML node tree."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def problem(self, node: yaml.Node, reason: str) -> None:
        self.problems.append(Problem(node.start_mark.line + 1, reason, self.source))

    def mapping(self, node: yaml.Node, allowed: tuple[str, ...], what: str) -> dict[str, yaml.Node] | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"expected {what} with keys {', '.join(allowed)}")
            return None
        found: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = str(key.value)
            if name not in allowed:
                self.problem(key, f'unknown key "{shown(name)}"; use {", ".join(allowed)}')
            elif name in found:
                self.problem(key, f'"{name}" appears twice')
            else:
                found[name] = value
        return found

    def text(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            self.problem(node, f"{what} must be a single value")
            return None
        return str(node.value).strip()

    def label(self, node: yaml.Node, what: str, limit: int) -> str | None:
        value = self.text(node, what)
        if value is None:
            return None
        reason = label_problem(value, what, limit)
        if reason:
            self.problem(node, reason)
            return None
        return " ".join(value.split())

    def day(self, node: yaml.Node, what: str) -> date | None:
        value = self.text(node, what)
        if value is None:
            return None
        if not ISO_DATE.match(value):
            self.problem(node, f'{what} "{shown(value)}" is not a date; write YYYY-MM-DD')
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.problem(node, f'{what} "{value}" is not a real date')
            return None


def label_problem(value: str, what: str, limit: int) -> str | None:
    """Why a name cannot be stored: a control character other than a tab or line break, or too many characters.

    Tabs and line breaks (from a YAML block or a folded line) become spaces; a form feed, NUL or escape is
    refused rather than guessed at.
    """
    if char := control_character(BLANKS.sub(" ", value)):
        return f"{what} contains a control character ({char}); remove it"
    if len(" ".join(value.split())) > limit:
        return f"{what} is longer than {limit} characters"
    return None


def repeated_days(closures: Sequence[Closure], source: str) -> list[Problem]:
    """A closure naming a day an earlier one already closed, reported once per closure on its own line."""
    closed_by: dict[date, Closure] = {}
    problems: list[Problem] = []
    for closure in sorted(closures, key=lambda c: c.line):
        days = closure.days()
        day = next((day for day in days if day in closed_by), None)
        if day is not None:
            other = closed_by[day]
            named = f" ({other.label})" if other.label else ""
            problems.append(
                Problem(
                    closure.line, f"{day} is already closed on line {other.line}{named}; list each day once", source
                )
            )
        for day in days:
            closed_by.setdefault(day, closure)
    return problems


def _too_long(closure: Closure) -> bool:
    return (closure.last - closure.first).days >= MAX_CLOSURE_DAYS


def parse_yaml(text: str, source: str) -> tuple[list[YearPlan], list[Problem]]:
    """One school year at the top level, or several under `years:`."""
    reader = _Reader(source)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as error:  # a character YAML refuses anywhere: NUL, ESC, DEL, C1 codes
        line = text.count("\n", 0, error.position) + 1
        code = error.character if isinstance(error.character, int) else ord(error.character)
        return [], [Problem(line, f"contains a control character (U+{code:04X}); remove it", source)]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(error, "problem", None) or str(error)
        return [], [Problem(line, f"not readable as YAML ({reason})", source)]
    if root is None:
        return [], [Problem(1, "the file is empty; it needs school_year, first_day, last_day and closed", source)]
    plans: list[YearPlan] = []
    if isinstance(root, yaml.MappingNode) and any(key.value == "years" for key, _ in root.value):
        top = reader.mapping(root, ("years",), "a list of school years under years:")
        years = (top or {}).get("years")
        if years is not None and not isinstance(years, yaml.SequenceNode):
            reader.problem(years, "years: must be a list of school years")
        elif years is not None:
            plans = [plan for node in years.value if (plan := _year(reader, node))]
    else:
        plans = [plan for plan in [_year(reader, root)] if plan]
    return plans, reader.problems


def _year(reader: _Reader, node: yaml.Node) -> YearPlan | None:
    fields = reader.mapping(node, YEAR_KEYS, "a school year")
    if fields is None:
        return None
    for key in YEAR_KEYS[:3]:
        if key not in fields:
            reader.problem(node, f"missing {key}")
    name = reader.label(fields["school_year"], "school_year", MAX_YEAR_NAME) if "school_year" in fields else None
    first = reader.day(fields["first_day"], "first_day") if "first_day" in fields else None
    last = reader.day(fields["last_day"], "last_day") if "last_day" in fields else None
    closures: list[Closure] = []
    closed = fields.get("closed")
    if closed is not None and not (isinstance(closed, yaml.ScalarNode) and closed.value in ("", "null", "~")):
        if not isinstance(closed, yaml.SequenceNode):
            reader.problem(closed, "closed: must be a list of {date, name} or {from, to, name}")
        else:
            closures = [closure for item in closed.value if (closure := _closure(reader, item))]
            reader.problems += repeated_days(closures, reader.source)
    if name is None or first is None or last is None:
        return None
    last_line = fields["last_day"].start_mark.line + 1
    return YearPlan(node.start_mark.line + 1, name, first, last, tuple(closures), last_line)


def _closure(reader: _Reader, node: yaml.Node) -> Closure | None:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        day = reader.day(node, "date")
        return Closure(line, day, day, "") if day else None
    fields = reader.mapping(node, CLOSED_KEYS, "a closure")
    if fields is None:
        return None
    label = ""
    if "name" in fields:
        label = reader.label(fields["name"], "name", MAX_LABEL) or ""
    if "date" in fields:
        if "from" in fields or "to" in fields:
            reader.problem(node, "give either date, or from and to, not both")
            return None
        day = reader.day(fields["date"], "date")
        return Closure(line, day, day, label) if day else None
    if "from" not in fields or "to" not in fields:
        reader.problem(node, "a closure needs date, or both from and to")
        return None
    first, last = reader.day(fields["from"], "from"), reader.day(fields["to"], "to")
    if first is None or last is None:
        return None
    if last < first:
        reader.problem(fields["to"], f"to ({last}) is before from ({first})")
        return None
    closure = Closure(line, first, last, label)
    if _too_long(closure):
        reader.problem(fields["to"], f"{first} to {last} is longer than a year; check the dates")
        return None
    return closure


# -- iCalendar -----------------------------------------------------------------------------------------


def _unfold(text: str) -> list[tuple[int, str]]:
    """RFC 5545 content lines with the physical line each starts on (a leading space continues a line)."""
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(LINE_BREAK.split(text.removeprefix("\ufeff")), start=1):
        if raw[:1] in (" ", "\t") and lines:
            start, previous = lines[-1]
            lines[-1] = (start, previous + raw[1:])
        elif raw.strip():
            lines.append((number, raw))
    return lines


@dataclass
class _Event:
    line: int
    props: dict[str, tuple[int, str]]  # name -> (line, value)


def parse_ics(text: str, source: str, default_timezone: str) -> tuple[list[Closure], list[Problem]]:
    """Each VEVENT is a closure from DTSTART up to DTEND (exclusive, RFC 5545), labelled by SUMMARY."""
    problems: list[Problem] = []
    lines = _unfold(text)
    if not any(line.upper() == "BEGIN:VCALENDAR" for _, line in lines):
        return [], [Problem(1, "not an iCalendar file (no BEGIN:VCALENDAR line)", source)]
    stack: list[str] = []
    events: list[_Event] = []
    for number, line in lines:
        name = re.match(r"[A-Za-z0-9-]*", line).group(0).upper()  # type: ignore[union-attr]
        if name in ("BEGIN", "END"):
            component = line.partition(":")[2].strip().upper()
            if name == "BEGIN":
                stack.append(component)
                if component == "VEVENT":
                    events.append(_Event(number, {}))
            elif stack and stack[-1] == component:
                stack.pop()
            else:
                problems.append(Problem(number, f"END:{component} without a matching BEGIN", source))
            continue
        declares_zone = name == "X-WR-TIMEZONE" or (name == "TZID" and stack[-1:] == ["VTIMEZONE"])
        in_event = stack[-1:] == ["VEVENT"] and name in ("DTSTART", "DTEND", "DURATION", "SUMMARY", "RRULE")
        if not (declares_zone or in_event):
            continue
        try:
            _, params, value = Contentline(line).parts()
        except ValueError:
            problems.append(Problem(number, f"cannot read this {name} line", source))
            continue
        zone = str(value).strip() if declares_zone else params.get("TZID")
        if zone is not None and zone not in known_zones():
            problems.append(Problem(number, f'unknown time zone "{shown(zone)}"; {ZONE_HINT}', source))
        if in_event:
            events[-1].props[name] = (number, str(value))
    if stack:
        problems.append(Problem(lines[-1][0], f"BEGIN:{stack[-1]} is never closed with END:{stack[-1]}", source))
    closures = [closure for event in events if (closure := _event(event, source, default_timezone, problems))]
    return closures, problems + repeated_days(closures, source)


def _moment(value: str, zone: ZoneInfo) -> date | datetime:
    """A DATE, or a DATE-TIME as wall-clock time: UTC ("Z") in the district's zone, else as written."""
    moment = vDDDTypes.from_ical(value)
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        moment = moment.astimezone(zone) if value.upper().endswith("Z") else moment
        return moment.replace(tzinfo=None)
    return moment  # type: ignore[no-any-return]


def _local_day(moment: date | datetime, end: bool) -> date:
    """The day a moment falls on; an exclusive end (a DATE, or midnight) belongs to the day before."""
    if not isinstance(moment, datetime):
        return moment - timedelta(days=1) if end else moment
    if end and moment.time() == datetime.min.time():
        return moment.date() - timedelta(days=1)
    return moment.date()


def _event(event: _Event, source: str, default_timezone: str, problems: list[Problem]) -> Closure | None:
    props = event.props
    if "RRULE" in props:
        problems.append(
            Problem(props["RRULE"][0], "repeating events (RRULE) are not supported; list each closure", source)
        )
        return None
    if "DTSTART" not in props:
        problems.append(Problem(event.line, "this event has no DTSTART", source))
        return None
    zone = ZoneInfo(default_timezone)
    start_line, start_value = props["DTSTART"]
    try:
        start = _moment(start_value, zone)
    except (ValueError, TypeError):
        problems.append(Problem(start_line, f'DTSTART "{shown(start_value)}" is not a date', source))
        return None
    first = _local_day(start, end=False)
    last = first
    if "DTEND" in props or "DURATION" in props:
        end_line, end_value = props.get("DTEND") or props["DURATION"]
        try:
            end = _moment(end_value, zone) if "DTEND" in props else start + vDuration.from_ical(end_value)
        except (ValueError, TypeError):
            problems.append(Problem(end_line, f'"{shown(end_value)}" is not a date or duration', source))
            return None
        if isinstance(end, datetime) != isinstance(start, datetime):
            problems.append(Problem(end_line, "DTEND and DTSTART must both be dates or both date-times", source))
            return None
        if end < start:  # type: ignore[operator]
            problems.append(Problem(end_line, f"the event ends ({end_value}) before it starts ({start_value})", source))
            return None
        last = max(first, _local_day(end, end=True))
        if _too_long(Closure(start_line, first, last, "")):
            problems.append(Problem(end_line, f"the event lasts from {first} to {last}, longer than a year", source))
            return None
    label = ""
    if "SUMMARY" in props:
        summary_line, summary = props["SUMMARY"]
        reason = label_problem(summary, "SUMMARY", MAX_LABEL)
        if reason:
            problems.append(Problem(summary_line, reason, source))
            return None
        label = " ".join(summary.split())
    return Closure(start_line, first, last, label)
