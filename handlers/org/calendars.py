"""Importing the school calendar: read → check against the stored years → save, all or nothing.

Re-importing a school year replaces its closed days, so the file is the truth and importing twice is
harmless. Weekends are never stored: they are never school days anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import PurePath

from handlers.org.calendar_files import Closure, YearPlan, parse_ics, parse_yaml
from handlers.org.month import render_month
from handlers.org.problems import Problem, check
from scheduling.calendar import SchoolCalendar
from scheduling.clock import Clock
from storage.database import Database
from storage.unit_of_work import Repos, unit_of_work

YAML_SUFFIXES = (".yaml", ".yml")
ICS_SUFFIXES = (".ics", ".ical", ".ifb")


@dataclass(frozen=True)
class YearBounds:
    """The command-line options that give an .ics file its school year (a YAML file says it inside)."""

    name: str | None = None
    first_day: date | None = None
    last_day: date | None = None

    @property
    def given(self) -> bool:
        return any((self.name, self.first_day, self.last_day))


def read_calendar(text: str, source: str, default_timezone: str, bounds: YearBounds = YearBounds()) -> list[YearPlan]:
    """The school years a file describes; raises ImportFailed with every problem found."""
    suffix = PurePath(source).suffix.lower()
    if suffix in YAML_SUFFIXES:
        if bounds.given:
            check([Problem(0, "--year, --first-day and --last-day are for .ics files; YAML says them inside", source)])
        plans, problems = parse_yaml(text, source)
        check(problems + check_years(plans, {}, source))
        return plans
    if suffix not in ICS_SUFFIXES:
        check([Problem(0, "use a .yaml, .yml or .ics file", source)])
    closures, problems = parse_ics(text, source, default_timezone)
    if (bounds.first_day is None) != (bounds.last_day is None):
        problems.append(Problem(0, "give both --first-day and --last-day, or neither", source))
    check(problems)
    name = bounds.name
    if name is None and bounds.first_day and bounds.last_day:
        name = f"{bounds.first_day.year}-{bounds.last_day.year}"
    return [YearPlan(0, name, bounds.first_day, bounds.last_day, tuple(closures))]


def weekdays(closures: Sequence[Closure]) -> dict[date, str]:
    """Closed school days, each with the label of the first closure that names it."""
    days: dict[date, str] = {}
    for closure in sorted(closures, key=lambda c: c.line):
        for day in closure.days():
            if day.weekday() < 5:
                days.setdefault(day, closure.label)
    return days


def check_years(plans: Sequence[YearPlan], stored: dict[str, tuple[date, date]], source: str) -> list[Problem]:
    """Bounds in order, closures inside their year, no two years overlapping (in the file or stored)."""
    problems: list[Problem] = []
    seen: dict[str, YearPlan] = {}
    for plan in plans:
        if plan.name is None or plan.first_day is None or plan.last_day is None:
            continue
        first, last = plan.first_day, plan.last_day
        if last < first:
            problems.append(Problem(plan.last_line, f"last_day ({last}) is before first_day ({first})", source))
            continue
        if plan.name in seen:
            problems.append(Problem(plan.line, f'school year "{plan.name}" appears twice', source))
            continue
        seen[plan.name] = plan
        others = {n: span for n, span in stored.items() if n != plan.name}
        others.update({p.name: (p.first_day, p.last_day) for p in seen.values() if p is not plan})  # type: ignore[misc]
        for other, (other_first, other_last) in others.items():
            if first <= other_last and other_first <= last:
                problems.append(
                    Problem(
                        plan.line,
                        f'school year "{plan.name}" ({first} to {last}) overlaps "{other}" '
                        f"({other_first} to {other_last})",
                        source,
                    )
                )
        for closure in plan.closures:
            if closure.first < first or closure.last > last:
                span = str(closure.first) if closure.first == closure.last else f"{closure.first} to {closure.last}"
                problems.append(
                    Problem(
                        closure.line,
                        f"{closure.label or 'closure'} ({span}) is outside the school year {plan.name} "
                        f"({first} to {last})",
                        source,
                    )
                )
    return problems


@dataclass(frozen=True)
class YearResult:
    plan: YearPlan
    closed: dict[date, str]
    replaced: int | None  # closed days stored for this year before, or None for a new year


@dataclass
class CalendarReport:
    results: list[YearResult]
    dry_run: bool
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines: list[str] = []
        for result in self.results:
            lines += [*([""] if lines else []), *_year_lines(result)]
        lines += self.notes
        if self.dry_run:
            lines.append("Dry run: nothing was saved.")
        return "\n".join(lines) + "\n"


def _year_lines(result: YearResult) -> list[str]:
    plan, closed = result.plan, result.closed
    lines: list[str] = []
    if plan.name and plan.first_day and plan.last_day:
        calendar = SchoolCalendar(closed=frozenset(closed), years=((plan.first_day, plan.last_day),))
        count = calendar.school_days_between(plan.first_day - timedelta(days=1), plan.last_day)
        lines.append(f"School year {plan.name}: {plan.first_day} to {plan.last_day}, {count} school days")
    else:
        lines.append("Closures with no school year given (they add to what is stored):")
    lines.append(f"{len(closed)} closed school day{'' if len(closed) == 1 else 's'}{':' if plan.closures else ''}")
    for closure in sorted(plan.closures, key=lambda c: c.first):
        school_days = sum(day.weekday() < 5 for day in closure.days())
        span = str(closure.first) if closure.first == closure.last else f"{closure.first} to {closure.last}"
        if school_days == 0:
            lines.append(f"  {span}  {closure.label or 'no school'} (on a weekend: nothing to store)")
        else:
            plural = "" if school_days == 1 else "s"
            lines.append(f"  {span}  {closure.label or 'no school'} ({school_days} school day{plural})")
    if result.replaced is not None:
        lines.append(f"Replaces the {plan.name} calendar loaded before ({result.replaced} closed days).")
    return lines


def _stored_years(repos: Repos, workspace_id: int | None) -> dict[str, tuple[date, date]]:
    if workspace_id is None:
        return {}
    return {year.name: (year.first_day, year.last_day) for year in repos.calendars.years(workspace_id)}


def plan_calendar(repos: Repos, workspace_id: int | None, plans: Sequence[YearPlan], source: str) -> list[YearResult]:
    """Check the years against what is stored and say what saving them would do."""
    stored = _stored_years(repos, workspace_id)
    resolved: list[YearPlan] = []
    problems: list[Problem] = []
    for plan in plans:
        if plan.name and plan.first_day is None:
            if plan.name not in stored:
                problems.append(
                    Problem(0, f'school year "{plan.name}" is not loaded yet; give --first-day and --last-day', source)
                )
                continue
            plan = replace(plan, first_day=stored[plan.name][0], last_day=stored[plan.name][1])
        resolved.append(plan)
    problems += check_years(resolved, stored, source)
    check(problems)
    results: list[YearResult] = []
    for plan in resolved:
        replaced = None
        if workspace_id is not None and plan.name in stored:
            replaced = repos.calendars.closed_between(workspace_id, *stored[plan.name])
        results.append(YearResult(plan, weekdays(plan.closures), replaced))
    return results


def apply_calendar(repos: Repos, workspace_id: int, results: Sequence[YearResult]) -> None:
    for result in results:
        plan = result.plan
        if plan.name and plan.first_day and plan.last_day:
            repos.calendars.replace_year(workspace_id, plan.name, plan.first_day, plan.last_day, result.closed)
        else:
            repos.calendars.upsert_closed(workspace_id, result.closed)


def import_calendar(
    db: Database,
    clock: Clock,
    platform: str,
    external_id: str,
    plans: Sequence[YearPlan],
    source: str,
    dry_run: bool = False,
) -> CalendarReport:
    """Save the years in one transaction; raises ImportFailed (nothing saved) on any problem."""
    with unit_of_work(db) as repos:
        workspace = repos.roster.find_workspace(platform, external_id)
        results = plan_calendar(repos, workspace.id if workspace else None, plans, source)
        if not dry_run:
            workspace = workspace or repos.workspaces.ensure(platform, external_id, clock.now())
            apply_calendar(repos, workspace.id, results)
    return CalendarReport(results, dry_run)


def show_month(db: Database, platform: str, external_id: str, year: int, month: int) -> str:
    """The month grid of the workspace's calendar (every weekday a school day when none is loaded)."""
    with unit_of_work(db) as repos:
        workspace = repos.roster.find_workspace(platform, external_id)
        calendar = repos.calendars.load(workspace.id) if workspace else SchoolCalendar()
    return render_month(calendar, year, month, loaded=bool(calendar.years or calendar.closed))
