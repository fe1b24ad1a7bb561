"""The bulk roster import keeps every behaviour of the row-at-a-time one, over several chunks of rows.

Speed is not tested here (see benchmarks/roster_import.py). What is pinned: a big file is saved in a
bounded number of statements, and chunks, evaluator chains and loops, merges, errors, dry runs, the report
and the progress callback behave as they did for three rows.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.org_commands import TerminalProgress, terminal_progress
from handlers.org.problems import ImportFailed
from handlers.org.roster import (
    CHUNK,
    MAX_WAVES,
    Directory,
    LookupResult,
    RosterReport,
    console_directory,
    import_roster,
)
from scheduling.clock import FakeClock
from storage.database import Database
from storage.models import Goal, Person, School
from storage.unit_of_work import unit_of_work
from tests.conftest import DEFAULT_TIMEZONE
from tests.org.helpers import Growthbot, count, people, workspaces, write

HEADER = "email,name,role,school,evaluator_email,time_zone\n"
SIZE = CHUNK * 2 + 7  # three chunks of rows, the last one short
ORDER = ("teacher", "evaluator", "plc_lead", "facilitator", "partnership_lead", "admin")

Stored = dict[str, tuple[str, str, list[str], str | None, str | None, str]]


def district(size: int = SIZE, suffix: str = "") -> str:
    """A superintendent, a principal per hundred people (evaluated by her), teachers evaluated by their principal.

    Teachers come before their principal in the file, so evaluators are often saved after those they evaluate.
    """
    lines = ["sup@district.org,Superintendent,admin;evaluator,District Office,,"]
    for n in range(1, size):
        school, boss = f"School {n // 100}", f"p{n // 100}@district.org"
        if n % 100 == 99 or n == size - 1:
            lines.append(f"{boss},Principal {n // 100}{suffix},evaluator,{school},sup@district.org,")
        else:
            zone = "America/Chicago" if n % 3 == 0 else ""
            lines.append(f"t{n}@district.org,Teacher {n}{suffix},teacher;plc_lead,{school},{boss},{zone}")
    return HEADER + "\n".join(lines) + "\n"


def expected(text: str) -> Stored:
    """What the file says each person should be: (user id, name, roles, school, evaluator, zone)."""
    found: Stored = {}
    for line in text.splitlines()[1:]:
        email, name, roles, school, evaluator, zone = line.split(",")
        found[email] = (
            email.split("@")[0],
            name,
            [role for role in ORDER if role in roles.split(";")],
            school or None,
            evaluator or None,
            zone or DEFAULT_TIMEZONE,
        )
    return found


def stored(db: Database) -> Stored:
    return {
        p["email"]: (p["user_id"], p["name"], p["roles"], p["school"], p["evaluator"], p["time_zone"])
        for p in people(db)
    }


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """Every SQL statement sent while the block runs (an executemany or one multi-row batch counts once)."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def terminal(db: Database, clock: FakeClock, text: str, **options: Any) -> RosterReport:
    directory = console_directory("console", "local")
    return import_roster(db, clock, directory, text, "staff.csv", DEFAULT_TIMEZONE, **options)


def on_slack(db: Database, clock: FakeClock, text: str, ids: dict[str, str]) -> RosterReport:
    """Import into Slack team T1, where `ids` maps each email on Slack to its user id; nobody else is found."""
    directory = Directory(
        platform="slack",
        external_id="T1",
        lookup=lambda email: LookupResult(ids[email], "America/Denver") if email in ids else None,
        where="Slack team T1",
        id_kind="Slack user",
        unmatched_on="Slack",
    )
    return import_roster(db, clock, directory, text, "staff.csv", DEFAULT_TIMEZONE)


# -- a big file ----------------------------------------------------------------------------------------


def test_a_big_file_is_saved_whole_with_every_evaluator_school_and_zone(db: Database, clock: FakeClock):
    text = district()

    report = terminal(db, clock, text)

    assert report.text().splitlines() == [
        f"staff.csv: {SIZE} people for the terminal workspace",
        f"added {SIZE}",
        "updated 0",
        "unchanged 0",
    ]
    assert stored(db) == expected(text)
    assert count(db, School) == len({line.split(",")[3] for line in text.splitlines()[1:]})


def test_a_big_file_is_saved_in_a_bounded_number_of_statements(db: Database, clock: FakeClock):
    """Set-based, not one statement a row: a handful per chunk of rows, and none at all to write nothing."""
    with statements(db) as fresh:
        terminal(db, clock, district())
    with statements(db) as again:
        report = terminal(db, clock, district())

    assert report.count("unchanged") == SIZE
    assert len(fresh) < 40, fresh
    assert len(again) < 15, again
    assert not [sql for sql in again if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def test_reimporting_a_big_file_unchanged_changes_nothing(db: Database, clock: FakeClock):
    terminal(db, clock, district())
    before = stored(db)

    report = terminal(db, clock, district())

    assert (report.count("added"), report.count("updated"), report.count("unchanged")) == (0, 0, SIZE)
    assert stored(db) == before
    assert count(db, Person) == SIZE


def test_changes_across_chunks_are_reported_field_by_field_and_saved(db: Database, clock: FakeClock):
    terminal(db, clock, district())
    moved = "t150@district.org,Teacher 150 Jr,teacher,School 9,p9@"
    text = district(suffix=" Jr").replace("t150@district.org,Teacher 150 Jr,teacher;plc_lead,School 1,p1@", moved)
    text += "new@district.org,New Person,teacher,New School,p3@district.org,\n"

    report = terminal(db, clock, text)

    assert (report.count("added"), report.count("updated"), report.count("unchanged")) == (1, SIZE - 1, 1)
    lines = report.text().splitlines()
    assert "  t150@district.org: name, roles, school, evaluator" in lines
    assert "  t2@district.org: name" in lines
    assert stored(db) == expected(text)


def test_one_bad_row_deep_in_a_big_file_saves_nothing(growthbot: Growthbot, db: Database, tmp_path: Path):
    rows = district().splitlines(keepends=True)  # rows[n] is line n + 1
    rows[3002] = rows[3002].replace("teacher;plc_lead", "principle")
    rows[SIZE - 2] = rows[SIZE - 2].replace(",p40@", ",nobody40@")

    run = growthbot("roster", "import", write(tmp_path, "staff.csv", "".join(rows)))

    assert run.code == 1
    assert run.out == ""
    assert run.err.splitlines() == [
        f'staff.csv line 3003: unknown role "principle"; use one of: {", ".join(ORDER)}',
        f'staff.csv line {SIZE - 1}: evaluator_email "nobody40@district.org" is not in this file or on the roster',
        "Nothing was saved.",
    ]
    assert count(db, Person) == 0 and count(db, School) == 0 and workspaces(db) == []


def test_a_bad_reimport_leaves_the_stored_roster_as_it_was(db: Database, clock: FakeClock):
    terminal(db, clock, district())
    before = stored(db)
    bad = district(suffix=" Jr").replace("t7@district.org,Teacher 7 Jr,", "t7@district.org,,")

    with pytest.raises(ImportFailed) as failed:
        terminal(db, clock, bad)

    assert [str(problem) for problem in failed.value.problems] == ["staff.csv line 9: empty name"]
    assert stored(db) == before


def test_a_dry_run_of_a_big_file_reports_the_same_and_saves_nothing(db: Database, clock: FakeClock):
    dry = terminal(db, clock, district(), dry_run=True)

    assert dry.text().splitlines() == [
        f"staff.csv: {SIZE} people for the terminal workspace",
        f"added {SIZE}",
        "updated 0",
        "unchanged 0",
        "Dry run: nothing was saved.",
    ]
    assert count(db, Person) == 0 and count(db, School) == 0 and workspaces(db) == []


# -- evaluators ----------------------------------------------------------------------------------------


def test_an_updated_person_is_linked_to_an_evaluator_added_in_the_same_file(db: Database, clock: FakeClock):
    terminal(db, clock, HEADER + "t@district.org,Teacher,teacher,Hillside,,\n")

    report = terminal(
        db, clock, HEADER + "t@district.org,Teacher,teacher,Hillside,p@district.org,\np@district.org,P,evaluator,,,\n"
    )

    assert report.text().splitlines()[1:5] == ["added 1", "updated 1", "  t@district.org: evaluator", "unchanged 0"]
    assert stored(db)["t@district.org"][4] == "p@district.org"


def test_evaluator_chains_longer_than_the_waves_and_loops_are_all_linked(db: Database, clock: FakeClock):
    depth = MAX_WAVES + 3
    chain = [f"e{n}@district.org,E{n},evaluator,,e{n + 1}@district.org," for n in range(depth)]
    chain.append(f"e{depth}@district.org,Top,evaluator,,,")
    loop = ["a@district.org,A,evaluator,,b@district.org,", "b@district.org,B,evaluator,,a@district.org,"]
    text = HEADER + "\n".join(chain + loop) + "\n"

    terminal(db, clock, text)

    assert stored(db) == expected(text)


def test_an_email_changed_on_slack_keeps_links_made_by_the_old_email(db: Database, clock: FakeClock):
    """Found by their Slack id under a new email, the evaluator is still who the old email named."""
    on_slack(db, clock, HEADER + "old@district.org,Pat,evaluator,,,\n", {"old@district.org": "U5"})
    text = HEADER + "new@district.org,Pat,evaluator,,,\nt@district.org,T,teacher,,old@district.org,\n"

    report = on_slack(db, clock, text, {"new@district.org": "U5", "t@district.org": "U6"})

    assert report.text().splitlines()[1:4] == ["added 1", "updated 1", "  new@district.org: email"]
    assert {email: (p[0], p[4]) for email, p in stored(db).items()} == {
        "new@district.org": ("U5", None),
        "t@district.org": ("U6", "new@district.org"),
    }


# -- merges --------------------------------------------------------------------------------------------


def test_several_people_who_chatted_before_being_found_are_each_merged(db: Database, clock: FakeClock):
    first = HEADER + (
        "a@district.org,Ann,evaluator,Hillside,,\n"
        "b@district.org,Bo,teacher,Hillside,a@district.org,\n"
        "c@district.org,Cy,teacher,Hillside,a@district.org,\n"
        "x@district.org,Xi,teacher,Hillside,a@district.org,\n"
    )
    on_slack(db, clock, first, {})  # nobody on Slack yet: all four pending
    with unit_of_work(db) as repos:  # three of them join Slack and write a goal before the next import
        workspace = repos.workspaces.ensure("slack", "T1", clock.now())
        for user, goal in (("U1", "ann's goal"), ("U2", "bo's goal"), ("U3", "cy's goal")):
            person = repos.people.ensure(workspace.id, user, clock.now(), user.lower(), "America/New_York")
            repos.goals.add(person.id, {"specific": goal}, "draft", clock.now())
    again = first.replace("x@district.org,Xi,teacher,Hillside,a@district.org,\n", "")

    report = on_slack(db, clock, again, {"a@district.org": "U1", "b@district.org": "U2", "c@district.org": "U3"})

    assert report.count("updated") == 3
    assert all(change.fields[-1] == "user id" for change in report.changes)
    assert count(db, Person) == 4
    assert {email: (p[0], p[4]) for email, p in stored(db).items()} == {
        "a@district.org": ("U1", None),
        "b@district.org": ("U2", "a@district.org"),
        "c@district.org": ("U3", "a@district.org"),
        "x@district.org": ("pending:x@district.org", "a@district.org"),  # not in the file: kept, link carried over
    }
    with unit_of_work(db) as repos:
        goals = {goal.specific: person.email for goal, person, _ in repos.goals.all_with_owner()}
    assert goals == {"ann's goal": "a@district.org", "bo's goal": "b@district.org", "cy's goal": "c@district.org"}
    assert count(db, Goal) == 3


# -- hostile values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("x@district.org,Ana\x00Rivera,teacher,,,", "staff.csv line 2: name contains a control character (U+0000)"),
        ("x@district.org,Ana,teacher,Hill\x1b[2Jside,,", "staff.csv line 2: school name contains a control character"),
        ("x\x07@district.org,Ana,teacher,,,", 'staff.csv line 2: invalid email "x\\x07@district.org"'),
        ("x@district.org,Ana,\x1b[31mteacher,,,", 'staff.csv line 2: unknown role "\\x1b[31mteacher"'),
    ],
)
def test_control_characters_are_refused_with_their_line_and_never_echoed_raw(
    growthbot: Growthbot, db: Database, tmp_path: Path, row: str, problem: str
):
    run = growthbot("roster", "import", write(tmp_path, "staff.csv", HEADER + row + "\n"))

    assert run.code == 1
    assert run.err.splitlines()[0].startswith(problem), run.err
    assert "\x1b" not in run.err and "\x00" not in run.err and "\x07" not in run.err
    assert count(db, Person) == 0


def test_a_long_bad_value_is_echoed_cut_short(growthbot: Growthbot, db: Database, tmp_path: Path):
    run = growthbot("roster", "import", write(tmp_path, "staff.csv", HEADER + f"x@district.org,X,{'r' * 5000},,,\n"))

    assert run.code == 1
    assert len(run.err) < 300, run.err


# -- progress ------------------------------------------------------------------------------------------


def test_progress_is_told_each_stage_up_to_its_total(db: Database, clock: FakeClock):
    told: list[tuple[str, int, int]] = []

    terminal(db, clock, district(), progress=lambda stage, done, total: told.append((stage, done, total)))

    stages = [stage for stage, _, _ in told]
    assert stages == ["Looking up"] * SIZE + ["Saving"] * stages.count("Saving")
    assert told[SIZE - 1] == ("Looking up", SIZE, SIZE)
    saving = [done for stage, done, total in told if stage == "Saving" and total == SIZE]
    assert saving[0] == 0 and saving[-1] == SIZE and saving == sorted(saving)


def test_a_dry_run_only_looks_up(db: Database, clock: FakeClock):
    told: list[str] = []

    terminal(db, clock, district(10), dry_run=True, progress=lambda stage, done, total: told.append(stage))

    assert set(told) == {"Looking up"}


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_cli_draws_a_progress_bar_on_a_terminal_and_wipes_it(
    growthbot: Growthbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    screen = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", screen)

    run = growthbot("roster", "import", write(tmp_path, "staff.csv", district(50)))

    assert run.code == 0
    assert run.out.splitlines()[:2] == ["staff.csv: 50 people for the terminal workspace", "added 50"]
    drawn = screen.getvalue()
    assert "\rLooking up [" in drawn and "] 100% 50/50" in drawn and "\rSaving [" in drawn
    assert drawn.endswith("\r") and drawn.rsplit("\r", 2)[-2].strip() == ""  # the last thing drawn is a blank line


def test_the_cli_draws_nothing_when_stderr_is_not_a_terminal(growthbot: Growthbot, tmp_path: Path):
    run = growthbot("roster", "import", write(tmp_path, "staff.csv", district(50)))

    assert (run.code, run.err) == (0, "")
    assert terminal_progress(io.StringIO()) is None
    assert isinstance(terminal_progress(FakeTerminal()), TerminalProgress)


def test_the_bar_is_redrawn_at_most_ten_times_a_second_but_always_at_the_end():
    now = [0.0]
    screen = FakeTerminal()
    bar = TerminalProgress(screen, clock=lambda: now[0])

    for done in range(1, 1001):
        now[0] = done * 0.001  # a thousand rows in one second
        bar("Looking up", done, 1000)
    bar.close()

    drawn = screen.getvalue().split("\r")
    assert 10 <= len([line for line in drawn if line.startswith("Looking up")]) <= 12
    assert "Looking up [##############################] 100% 1,000/1,000" in drawn
    assert drawn[-2].strip() == "" and drawn[-1] == ""
