"""School calendar files (YAML or iCalendar) read into school years and closures, with line numbers.

YAML is read as a node tree (`yaml.compose`) rather than loaded, so every value keeps the line it came
from; .ics is unfolded by hand for the same reason. Nothing here touches the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import yaml
from icalendar.parser import Contentline
from icalendar.prop import vDDDTypes, vDuration

from handlers.org.problems import Problem

YEAR_KEYS = ("school_year", "first_day", "last_day", "closed")
CLOSED_KEYS = ("date", "from", "to", "name")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_YEAR_NAME, MAX_LABEL = 32, 200  # column sizes in storage/models.py


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
                self.problem(key, f'unknown key "{name}"; use {", ".join(allowed)}')
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

    def day(self, node: yaml.Node, what: str) -> date | None:
        value = self.text(node, what)
        if value is None:
            return None
        if not ISO_DATE.match(value):
            self.problem(node, f'{what} "{value}" is not a date; write YYYY-MM-DD')
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.problem(node, f'{what} "{value}" is not a real date')
            return None


def parse_yaml(text: str, source: str) -> tuple[list[YearPlan], list[Problem]]:
    """One school year at the top level, or several under `years:`."""
    reader = _Reader(source)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
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
    name = reader.text(fields["school_year"], "school_year") if "school_year" in fields else None
    if name is not None and len(name) > MAX_YEAR_NAME:
        reader.problem(fields["school_year"], f"school_year is longer than {MAX_YEAR_NAME} characters")
    first = reader.day(fields["first_day"], "first_day") if "first_day" in fields else None
    last = reader.day(fields["last_day"], "last_day") if "last_day" in fields else None
    closures: list[Closure] = []
    closed = fields.get("closed")
    if closed is not None and not (isinstance(closed, yaml.ScalarNode) and closed.value in ("", "null", "~")):
        if not isinstance(closed, yaml.SequenceNode):
            reader.problem(closed, "closed: must be a list of {date, name} or {from, to, name}")
        else:
            closures = [closure for item in closed.value if (closure := _closure(reader, item))]
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
        label = (reader.text(fields["name"], "name") or "")[:MAX_LABEL]
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
    return Closure(line, first, last, label)


# -- iCalendar -----------------------------------------------------------------------------------------


def _unfold(text: str) -> list[tuple[int, str]]:
    """RFC 5545 content lines with the physical line each starts on (a leading space continues a line)."""
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
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
        if not stack or stack[-1] != "VEVENT" or name not in ("DTSTART", "DTEND", "DURATION", "SUMMARY", "RRULE"):
            continue
        try:
            value = Contentline(line).parts()[2]
        except ValueError:
            problems.append(Problem(number, f"cannot read this {name} line", source))
            continue
        events[-1].props[name] = (number, str(value))
    if stack:
        problems.append(Problem(lines[-1][0], f"BEGIN:{stack[-1]} is never closed with END:{stack[-1]}", source))
    closures = [closure for event in events if (closure := _event(event, source, default_timezone, problems))]
    return closures, problems


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
        problems.append(Problem(start_line, f'DTSTART "{start_value}" is not a date', source))
        return None
    first = _local_day(start, end=False)
    last = first
    if "DTEND" in props or "DURATION" in props:
        end_line, end_value = props.get("DTEND") or props["DURATION"]
        try:
            end = _moment(end_value, zone) if "DTEND" in props else start + vDuration.from_ical(end_value)
        except (ValueError, TypeError):
            problems.append(Problem(end_line, f'"{end_value}" is not a date or duration', source))
            return None
        if isinstance(end, datetime) != isinstance(start, datetime):
            problems.append(Problem(end_line, "DTEND and DTSTART must both be dates or both date-times", source))
            return None
        if end < start:  # type: ignore[operator]
            problems.append(Problem(end_line, f"the event ends ({end_value}) before it starts ({start_value})", source))
            return None
        last = max(first, _local_day(end, end=True))
    label = props["SUMMARY"][1].strip()[:MAX_LABEL] if "SUMMARY" in props else ""
    return Closure(start_line, first, last, label)
