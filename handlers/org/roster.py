"""Importing the staff roster: read → check → look everyone up → plan → save, all or nothing.

Who someone is on the chat platform comes from an injected `Directory` (the edge builds one for Slack
from `users.lookupByEmail`, and one for the terminal from the email's user name), so this module never
touches a chat SDK. People are matched by email within the workspace, then by platform user id, so a
re-import updates instead of duplicating and someone who chatted before the import is linked, not doubled.

Saving is set-based so that a 100,000-person district imports in seconds: the stored people are read in one
query as plain tuples, the plan is computed here in Python, and only what changed is written, in chunks
of bulk INSERT and UPDATE statements (see benchmarks/roster_import.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handlers.org.problems import ImportFailed, Problem, check
from handlers.org.staff import StaffRow, canonical_roles, check_staff, known_zones, parse_staff
from scheduling.clock import Clock
from storage.database import Database
from storage.models import Person
from storage.org import PersonRow, StoredPerson
from storage.unit_of_work import Repos, unit_of_work

PENDING_PREFIX = "pending:"
USER_ID_SIZE = 64  # Person.platform_user_id
CHUNK = 2_000  # rows per bulk statement: small enough to keep memory flat, large enough to be fast
MAX_WAVES = 8  # of new people saved after their new evaluators; deeper chains are linked in a second pass

Progress = Callable[[str, int, int], None]
"""Told (what is happening, how many done, how many in all) as an import goes, e.g. to draw a progress bar."""


@dataclass(frozen=True, slots=True)
class LookupResult:
    user_id: str
    time_zone: str | None = None


@dataclass(frozen=True)
class Directory:
    """A workspace and how an email becomes a user id there. `lookup` returns None for nobody found."""

    platform: str
    external_id: str
    lookup: Callable[[str], LookupResult | None]
    where: str  # for reports: "Slack team T1", "the terminal workspace"
    id_kind: str = "user"  # how a user id is called in messages: "Slack user", "terminal user"
    unmatched_on: str | None = None  # "Slack": report people the lookup did not find; None: everyone is found
    pending_note: str | None = None  # what becomes of them; None: "import again once they join <unmatched_on>"


def console_directory(platform: str, external_id: str) -> Directory:
    """The terminal: everyone is found, as the part of their email before "@" (what `--user` takes)."""
    return Directory(
        platform=platform,
        external_id=external_id,
        lookup=lambda email: LookupResult(email.split("@", 1)[0].lower()),
        where="the terminal workspace",
        id_kind="terminal user",
    )


def pending_id(email: str) -> str:
    """A placeholder id for someone not on the chat platform yet; replaced when a later import finds them."""
    candidate = PENDING_PREFIX + email
    if len(candidate) <= USER_ID_SIZE:
        return candidate
    return PENDING_PREFIX + hashlib.sha256(email.encode()).hexdigest()[: USER_ID_SIZE - len(PENDING_PREFIX)]


@dataclass(frozen=True, slots=True)
class Change:
    """What saving one row does: add a person, update some fields of one, or nothing."""

    row: StaffRow
    kind: str  # "added", "updated" or "unchanged"
    fields: tuple[str, ...]
    user_id: str
    time_zone: str
    person_id: int | None  # the stored person updated
    merge_id: int | None  # a second stored row of the same person, folded into person_id
    found: bool  # False: not on the chat platform (yet)


@dataclass(frozen=True)
class StaffFile:
    """A checked staff file and what the directory said about each email."""

    source: str
    rows: list[StaffRow]
    found: dict[str, LookupResult | None]


def plan_roster(
    staff: StaffFile, known: Sequence[StoredPerson], default_timezone: str, id_kind: str = "user"
) -> tuple[list[Change], list[Problem]]:
    """Each row's change against the stored people; problems when two rows would be one chat account."""
    by_email = {k.email: k for k in known if k.email}
    by_user = {k.user_id: k for k in known}
    file_lines = {row.email: row.line for row in staff.rows}
    zones = known_zones()
    claimed: dict[str, StaffRow] = {}
    changes: list[Change] = []
    problems: list[Problem] = []
    for row in staff.rows:
        result = staff.found.get(row.email)
        mine = by_email.get(row.email)
        merge: StoredPerson | None = None
        if result is not None:
            user_id = result.user_id
            holder = by_user.get(user_id)
            if holder is not None and holder.email and holder.email != row.email and holder.email in file_lines:
                problems.append(
                    Problem(
                        row.line,
                        f'{id_kind} "{user_id}" is already {holder.email} (line {file_lines[holder.email]})',
                        staff.source,
                    )
                )
                continue
            if holder is not None and mine is not None and holder.id != mine.id:
                merge, mine = mine, holder
            else:
                mine = holder or mine
        else:
            user_id = mine.user_id if mine else pending_id(row.email)
        if user_id in claimed:
            other = claimed[user_id]
            problems.append(
                Problem(
                    row.line,
                    f'{row.email} would be {id_kind} "{user_id}", like {other.email} on line {other.line}',
                    staff.source,
                )
            )
            continue
        claimed[user_id] = row
        lookup_zone = result.time_zone if result and result.time_zone in zones else None
        zone = row.time_zone or lookup_zone or (mine.time_zone if mine else "") or default_timezone
        changes.append(_change(row, mine, merge, user_id, zone, found=result is not None))
    return changes, problems


def _change(
    row: StaffRow, mine: StoredPerson | None, merge: StoredPerson | None, user_id: str, zone: str, found: bool
) -> Change:
    if mine is None:
        return Change(row, "added", (), user_id, zone, None, None, found)
    wanted = {
        "email": (mine.email, row.email),
        "name": (mine.name, row.name),
        "roles": (canonical_roles(mine.roles), canonical_roles(row.roles)),
        "school": (mine.school, row.school or None),
        "evaluator": (mine.evaluator_email, row.evaluator_email or None),
        "time zone": (mine.time_zone, zone),
        "user id": (mine.user_id, user_id),
    }
    fields = tuple(name for name, (old, new) in wanted.items() if old != new)
    if merge is not None and "user id" not in fields:
        fields += ("user id",)
    return Change(row, "updated" if fields else "unchanged", fields, user_id, zone, mine.id, merge and merge.id, found)


def apply_roster(
    repos: Repos, workspace_id: int, changes: Sequence[Change], clock: Clock, progress: Progress | None = None
) -> None:
    """Write the plan in bulk: merges, then new people, then updates; unchanged rows are not written at all.

    New people go in waves, those whose evaluator is already known first, so nearly everyone is saved
    with their evaluator and only loops or long chains of new evaluators need a second, linking pass.
    No two statements collide on a unique key: a new person's email and user id are held by nobody (else
    the plan would have matched them), and a merged row is gone before its email moves.
    """
    roster = repos.roster
    written = [change for change in changes if change.kind != "unchanged"]
    total, done = len(written), 0
    if progress is not None:
        progress("Saving", done, total)
    if not written:
        return
    roster.merge([(c.person_id, c.merge_id) for c in written if c.person_id is not None and c.merge_id is not None])
    schools = repos.schools.ensure_all(workspace_id, {change.row.school for change in written if change.row.school})
    ids = roster.ids_by_email(workspace_id)
    ids.update({change.row.email: change.person_id for change in changes if change.person_id is not None})
    unlinked: list[Change] = []

    def rows(chunk: Sequence[Change]) -> list[PersonRow]:
        found: list[PersonRow] = []
        for change in chunk:
            row = change.row
            evaluator = ids.get(row.evaluator_email) if row.evaluator_email else None
            if row.evaluator_email and evaluator is None:
                unlinked.append(change)
            school = schools[row.school] if row.school else None
            values = (row.email, row.name, change.time_zone, canonical_roles(row.roles), school, evaluator)
            found.append(PersonRow(change.person_id, change.user_id, *values))
        return found

    def step(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress("Saving", done, total)

    now = clock.now()
    for wave in _waves([change for change in written if change.person_id is None], ids):
        for chunk in _chunks(wave):
            ids.update(roster.add_people(workspace_id, rows(chunk), now))
            step(len(chunk))
    for chunk in _chunks([change for change in written if change.person_id is not None]):
        roster.update_people(rows(chunk))
        step(len(chunk))
    for chunk in _chunks(unlinked):
        roster.link_evaluators([(ids[c.row.email], ids[c.row.evaluator_email]) for c in chunk])


def _waves(added: list[Change], ids: Mapping[str, int]) -> Iterator[list[Change]]:
    """New people whose evaluator is known by now (none, stored, or saved in an earlier wave), wave by wave.

    `ids` grows between waves as the caller saves each one. After MAX_WAVES, or when only a loop of
    evaluators is left, the rest come at once; their evaluators are linked afterwards.
    """
    waiting = added
    for _ in range(MAX_WAVES - 1):
        if not waiting:
            return
        ready: list[Change] = []
        rest: list[Change] = []
        for change in waiting:
            evaluator = change.row.evaluator_email
            (ready if not evaluator or evaluator in ids else rest).append(change)
        if not ready:
            break
        yield ready
        waiting = rest
    if waiting:
        yield waiting


def _chunks(changes: Sequence[Change]) -> list[Sequence[Change]]:
    return [changes[start : start + CHUNK] for start in range(0, len(changes), CHUNK)]


@dataclass
class RosterReport:
    source: str
    where: str
    changes: list[Change]
    unmatched_on: str | None
    dry_run: bool
    notes: list[str] = field(default_factory=list)
    pending_note: str | None = None

    def count(self, kind: str) -> int:
        return sum(change.kind == kind for change in self.changes)

    @property
    def unmatched(self) -> list[Change]:
        return [change for change in self.changes if not change.found]

    def text(self) -> str:
        lines = [f"{self.source}: {len(self.changes)} people for {self.where}"]
        lines.append(f"added {self.count('added')}")
        lines.append(f"updated {self.count('updated')}")
        lines += [f"  {c.row.email}: {', '.join(c.fields)}" for c in self.changes if c.kind == "updated"]
        lines.append(f"unchanged {self.count('unchanged')}")
        if self.unmatched_on:
            unmatched = self.unmatched
            note = self.pending_note or f"import again once they join {self.unmatched_on}"
            later = f" (saved as pending; {note})" if unmatched else ""
            lines.append(f"unmatched on {self.unmatched_on} {len(unmatched)}{later}")
            lines += [f"  {c.row.email} (line {c.row.line})" for c in unmatched]
        lines += self.notes
        if self.dry_run:
            lines.append("Dry run: nothing was saved.")
        return "\n".join(lines) + "\n"


def read_staff(
    text: str, source: str, db: Database, directory: Directory, progress: Progress | None = None
) -> StaffFile:
    """Parse and check the file (raising ImportFailed with every problem), then look up each email."""
    rows, problems = parse_staff(text, source)
    check(problems)
    with unit_of_work(db) as repos:
        check(check_staff(rows, _stored_emails(repos, directory), source))
    found: dict[str, LookupResult | None] = {}
    for done, row in enumerate(rows, start=1):
        found[row.email] = directory.lookup(row.email)
        if progress is not None:
            progress("Looking up", done, len(rows))
    return StaffFile(source=source, rows=rows, found=found)


def _stored_emails(repos: Repos, directory: Directory) -> set[str]:
    workspace = repos.roster.find_workspace(directory.platform, directory.external_id)
    return repos.roster.emails(workspace.id) if workspace else set()


def plan_in(repos: Repos, staff: StaffFile, directory: Directory, default_timezone: str) -> list[Change]:
    """Check again inside the writing transaction (the roster may have changed since), then plan."""
    workspace = repos.roster.find_workspace(directory.platform, directory.external_id)
    stored = repos.roster.stored(workspace.id) if workspace else []
    on_roster = {person.email for person in stored if person.email}
    check(check_staff(staff.rows, on_roster, staff.source))
    changes, problems = plan_roster(staff, stored, default_timezone, directory.id_kind)
    check(problems)
    return changes


def import_roster(
    db: Database,
    clock: Clock,
    directory: Directory,
    text: str,
    source: str,
    default_timezone: str,
    dry_run: bool = False,
    progress: Progress | None = None,
    deactivate_missing_people: bool = False,
    leave: Leaver | None = None,
) -> RosterReport:
    """The whole import in one transaction; raises ImportFailed (nothing saved) when any row is bad.

    With `deactivate_missing_people`, everyone on the roster the file leaves out is deactivated too.
    """
    staff = read_staff(text, source, db, directory, progress)
    notes: list[str] = []
    with unit_of_work(db) as repos:
        changes = plan_in(repos, staff, directory, default_timezone)
        workspace = repos.roster.find_workspace(directory.platform, directory.external_id)
        if workspace is not None and workspace.demo:
            notes.append(f'note: {directory.where} holds demo data ("{workspace.name}"); these people join it')
        if not dry_run:
            workspace = workspace or repos.workspaces.ensure(directory.platform, directory.external_id, clock.now())
            apply_roster(repos, workspace.id, changes, clock, progress)
            if deactivate_missing_people:
                in_file = {row.email for row in staff.rows}
                notes += deactivate_missing(repos, workspace.id, in_file, clock.now(), leave) or ["deactivated 0"]
        elif deactivate_missing_people and workspace is not None:
            in_file = {row.email for row in staff.rows}
            missing = [p.email for p in repos.roster.listed(workspace.id) if p.active and p.email not in in_file]
            notes.append(f"would deactivate {len(missing)}" + "".join(f"\n  {email}" for email in missing))
    return RosterReport(
        source, directory.where, changes, directory.unmatched_on, dry_run, notes, pending_note=directory.pending_note
    )


# -- the roster's whole life: who is on it, who left --------------------------------------------------

Leaver = Callable[[Repos, Person, datetime], list[dict[str, Any]]]
"""What features do when someone leaves (cancel their visits still ahead, with notices); returns them listed."""


def list_roster(db: Database, directory: Directory, school: str | None = None, role: str | None = None) -> str:
    """`growthbot roster list`: one line a person, people who left marked, filtered by school or role."""
    with unit_of_work(db) as repos:
        workspace = repos.roster.find_workspace(directory.platform, directory.external_id)
        people = repos.roster.listed(workspace.id, school, role) if workspace else []
        lines = [_listed(p) for p in people]
    wanted = " ".join(part for part in (f"at {school}" if school else "", f"with role {role}" if role else "") if part)
    head = f"{len(lines)} {'person' if len(lines) == 1 else 'people'} on the roster of {directory.where}"
    head += f" {wanted}" if wanted else ""
    return "\n".join([head + ":", *lines]) + "\n" if lines else head + ".\n"


def _listed(person: Person) -> str:
    cells = [
        person.email or "-",
        person.display_name,
        ";".join(person.roles or []) or "-",
        person.school.name if person.school else "-",
        person.evaluator.email if person.evaluator and person.evaluator.email else "-",
    ]
    return "\t".join(cells) + ("\tdeactivated" if person.deactivated_at is not None else "")


def set_active(
    db: Database, clock: Clock, directory: Directory, email: str, active: bool, leave: Leaver | None = None
) -> str:
    """Deactivate (records kept, reminders paused, visits ahead cancelled with notices) or reactivate one person."""
    with unit_of_work(db) as repos:
        workspace = repos.roster.find_workspace(directory.platform, directory.external_id)
        person = repos.roster.by_email(workspace.id, email.strip()) if workspace else None
        if workspace is None or person is None:
            shown = email.strip()[:80]
            raise ImportFailed([Problem(0, f"{shown} is not on the roster; growthbot roster list shows who is")])
        if active:
            if person.deactivated_at is None:
                return f"{person.email} is already active.\n"
            repos.roster.set_deactivated(person, None)
            return f"Reactivated {person.display_name} ({person.email}): their reminders resume.\n"
        if person.deactivated_at is not None:
            return f"{person.email} is already deactivated (growthbot roster reactivate {person.email} undoes it).\n"
        lines = _deactivate(repos, [person], workspace.id, clock.now(), leave)
    return "\n".join(lines) + "\n"


def _deactivate(
    repos: Repos, people: Sequence[Person], workspace_id: int, now: datetime, leave: Leaver | None
) -> list[str]:
    leaving = {p.id for p in people}
    admins = repos.roster.active_admins(workspace_id)
    if any(p.has_role("admin") for p in people) and all(a.id in leaving for a in admins):
        raise ImportFailed([Problem(0, "that would leave no active admin; add or reactivate another admin first")])
    lines: list[str] = []
    for person in people:
        cancelled = leave(repos, person, now) if leave else []
        repos.roster.set_deactivated(person, now)
        lines.append(f"Deactivated {person.display_name} ({person.email}): records kept, reminders stopped.")
        lines += [
            f"  cancelled #{c['id']} {c['mode']} visit, {c['teacher']} with {c['observer']}, {c['when']} (notices sent)"
            for c in cancelled
        ]
    return lines


def deactivate_missing(
    repos: Repos, workspace_id: int, in_file: set[str], now: datetime, leave: Leaver | None
) -> list[str]:
    """`roster import --deactivate-missing`: everyone active whose email the file does not list."""
    gone = [p for p in repos.roster.listed(workspace_id) if p.active and p.email and p.email not in in_file]
    return _deactivate(repos, gone, workspace_id, now, leave) if gone else []
