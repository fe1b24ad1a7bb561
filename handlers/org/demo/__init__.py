"""A sample district in the terminal workspace, to try the bot without a real roster.

The data are the files next to this module (staff.csv, calendar.yaml, and demo.yaml for features still
to come), loaded through the same roster and calendar importers a district uses, so the demo exercises
the real path. Everything is labelled: the workspace is marked demo and named as sample data, and every
person's name ends in "(demo)". Loading twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from handlers.features import Feature
from handlers.org.calendars import apply_calendar, plan_calendar, read_calendar
from handlers.org.problems import ImportFailed, Problem
from handlers.org.roster import Directory, apply_roster, plan_in, read_staff
from scheduling.clock import Clock
from storage.database import Database
from storage.unit_of_work import unit_of_work

FILES = Path(__file__).parent
WORKSPACE_NAME = "Demo district — sample data"
EVALUATOR = "lopez"  # the demo principal, who evaluates most of the teachers: `growthbot console --user lopez`


def load_demo(
    db: Database,
    clock: Clock,
    directory: Directory,
    default_timezone: str,
    if_empty: bool = False,
    features: Sequence[Feature] = (),
) -> str | None:
    """Load (or refresh) the demo organisation; with `if_empty`, only into a database with nobody in it.

    Each feature with a `demo` hook then adds its own sample records (a PLC team, past visits, ...) in the
    same transaction, so a feature's demo lives in its own package.

    Returns a one-line summary, or None when `if_empty` found people and nothing was done. Refuses
    (ImportFailed) when the terminal workspace already holds a real roster, so demo people never mix in.
    """
    if if_empty:
        with unit_of_work(db) as repos:
            if repos.roster.count_people() > 0:
                return None
    staff = read_staff((FILES / "staff.csv").read_text(encoding="utf-8"), "staff.csv", db, directory)
    plans = read_calendar((FILES / "calendar.yaml").read_text(encoding="utf-8"), "calendar.yaml", default_timezone)
    with unit_of_work(db) as repos:
        people = repos.roster
        workspace = people.find_workspace(directory.platform, directory.external_id)
        if workspace is not None and not workspace.demo and people.emails(workspace.id):
            raise ImportFailed(
                [Problem(0, "the terminal workspace already holds a real roster; demo data would mix with it")]
            )
        changes = plan_in(repos, staff, directory, default_timezone)
        results = plan_calendar(repos, workspace.id if workspace else None, plans, "calendar.yaml")
        workspace = workspace or repos.workspaces.ensure(directory.platform, directory.external_id, clock.now())
        workspace.name, workspace.demo = WORKSPACE_NAME, True
        apply_roster(repos, workspace.id, changes, clock)
        apply_calendar(repos, workspace.id, results)
        schools = repos.schools.count(workspace.id)
        extras = [
            said for feature in features if feature.demo for said in [feature.demo(repos, workspace.id, clock.now())]
        ]
    added = sum(change.kind == "added" for change in changes)
    updated = sum(change.kind == "updated" for change in changes)
    year = results[0]
    return (
        f"Demo data loaded ({WORKSPACE_NAME}): {len(changes)} people ({added} added, {updated} updated) "
        f"in {schools} schools, school year {year.plan.name} with {len(year.closed)} closed days; "
        f"the principal is console user {EVALUATOR}." + "".join(f" {said}" for said in extras if said)
    )
