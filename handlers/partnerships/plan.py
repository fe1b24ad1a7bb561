"""Reading action-plan rows (from the form and from CSV) and partnership members with roles."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Any

from handlers.goals.dates import DateProblem, find_date
from handlers.messages import clean_text
from handlers.partnerships.service import ROLES, STATUSES
from handlers.plc.people import one_of, split_refs
from storage.models import Person
from storage.unit_of_work import Repos

PLAN_COLUMNS = ("step", "start", "due", "responsible", "others", "outputs", "outcomes", "resources", "impact",
                "lift", "status")  # fmt: skip
REQUIRED = ("step", "due", "responsible")
_STATUS = {s.replace("_", " "): s for s in STATUSES} | {s: s for s in STATUSES}


def read_members(repos: Repos, workspace_id: int, text: str) -> tuple[list[tuple[Person, str]], list[str]]:
    """Lines "who: role" (or "who, role"); returns the members and what could not be read."""
    found: list[tuple[Person, str]] = []
    problems: list[str] = []
    for line in [line.strip() for line in clean_text(text or "").splitlines() if line.strip()][:40]:
        match = re.match(r"^(.*?)\s*(?::|,|\s-\s)\s*(.*)$", line)
        who, role = (match.group(1), match.group(2)) if match else (line, "")
        role = role.strip().lower().rstrip(".")
        if role not in ROLES:
            problems.append(f'"{line[:60]}": the role should be one of {", ".join(ROLES)}')
            continue
        people = repos.people.resolve(workspace_id, who.strip()[:120])
        if len(people) != 1:
            problems.append(f'"{who.strip()[:60]}": not on the roster' if not people else f'"{who[:60]}": ambiguous')
            continue
        found.append((people[0], role))
    return found, problems


def _day(text: str, today: date) -> date | None:
    try:
        found = find_date(text, today)
    except DateProblem:
        return None
    return found.value if found else None


def read_row(row: dict[str, str], members: list[Person], today: date) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """One plan row; problems as (column, what is wrong)."""
    problems: list[tuple[str, str]] = []
    step = (row.get("step") or "").strip()
    if not step:
        problems.append(("step", "empty"))
    start = _day(row.get("start") or "", today) if (row.get("start") or "").strip() else None
    if (row.get("start") or "").strip() and start is None:
        problems.append(("start", f"can't read {row['start'][:30]!r} as a date"))
    due = _day(row.get("due") or "", today)
    if due is None:
        problems.append(("due", f"can't read {(row.get('due') or '')[:30]!r} as a date"))
    if start and due and due < start:
        problems.append(("due", f"{due:%b %-d} is before the start, {start:%b %-d}"))
    owners = []
    for ref in split_refs(row.get("responsible") or ""):
        owner = one_of(members, ref)
        if owner is None:
            problems.append(("responsible", f"{ref[:40]} is not a member of the partnership"))
        else:
            owners.append(owner.id)
    if not owners and not any(c == "responsible" for c, _ in problems):
        problems.append(("responsible", "name at least one member"))
    levels = {}
    for column in ("impact", "lift"):
        value = (row.get(column) or "2").strip()[:1]
        if value not in ("1", "2", "3"):
            problems.append((column, "should be 1 (high), 2 (moderate) or 3 (lower)"))
        levels[column] = int(value) if value in ("1", "2", "3") else 2
    status = _STATUS.get((row.get("status") or "not started").strip().lower())
    if status is None:
        problems.append(("status", "should be not started, in progress, done or blocked"))
    fields = {"step": step[:1000], "start_on": start, "due_on": due, "responsible_ids": owners,
              "others": (row.get("others") or "")[:500], "outputs": (row.get("outputs") or "")[:1000],
              "outcomes": (row.get("outcomes") or "")[:1000], "resources": (row.get("resources") or "")[:500],
              "impact": levels["impact"], "lift": levels["lift"], "status": status or "not_started"}  # fmt: skip
    return fields, problems


def read_plan(text: str, members: list[Person], today: date) -> tuple[list[dict[str, Any]], list[str]]:
    """A whole CSV plan, all or nothing: the rows, or every problem as "line N, column C: ..."."""
    reader = csv.DictReader(io.StringIO(text))
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [f"line 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} (columns: "
                    f"{', '.join(PLAN_COLUMNS)})"]  # fmt: skip
    rows, problems = [], []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): clean_text(v or "") for k, v in raw.items() if isinstance(v, str)}
        fields, wrong = read_row(row, members, today)
        problems += [f"line {line}, column {column}: {why}" for column, why in wrong]
        rows.append(fields)
    if not rows and not problems:
        problems.append("line 2: the plan has no rows")
    return rows, problems


def stamp(fields: dict[str, Any], now: datetime) -> dict[str, Any]:
    return fields | {"created_at": now, "updated_at": now}
