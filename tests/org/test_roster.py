"""`growthbot roster import`: what a district admin sees and what ends up stored, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.router import Bot
from storage.database import Database
from storage.models import Goal, Person, School
from storage.unit_of_work import unit_of_work
from tests.fakes.slack_api import FakeSlackAPI
from tests.harness import Chat
from tests.org.helpers import Growthbot, count, people, workspaces, write

HEADER = "email,name,role,school,evaluator_email,time_zone\n"
STAFF = HEADER + (
    "rivera@district.org,Ana Rivera,teacher;plc_lead,Hillside Elementary,lopez@district.org,\n"
    "Lopez@District.org ,Maria Lopez,evaluator,Hillside Elementary,,\n"
    "brooks@district.org,Marcus Brooks,teacher|facilitator,Riverside Middle,lopez@district.org,America/Chicago\n"
)


@pytest.fixture
def staff(tmp_path: Path) -> Path:
    return write(tmp_path, "staff.csv", STAFF)


def test_import_adds_everyone_with_roles_schools_and_evaluators(growthbot: Growthbot, db: Database, staff: Path):
    run = growthbot("roster", "import", staff)

    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        "staff.csv: 3 people for the terminal workspace",
        "added 3",
        "updated 0",
        "unchanged 0",
    ]
    assert people(db) == [
        {
            "email": "brooks@district.org",
            "user_id": "brooks",
            "name": "Marcus Brooks",
            "roles": ["teacher", "facilitator"],
            "school": "Riverside Middle",
            "evaluator": "lopez@district.org",
            "time_zone": "America/Chicago",
            "platform": "console",
            "workspace": "local",
        },
        {
            "email": "lopez@district.org",
            "user_id": "lopez",
            "name": "Maria Lopez",
            "roles": ["evaluator"],
            "school": "Hillside Elementary",
            "evaluator": None,
            "time_zone": "America/New_York",
            "platform": "console",
            "workspace": "local",
        },
        {
            "email": "rivera@district.org",
            "user_id": "rivera",
            "name": "Ana Rivera",
            "roles": ["teacher", "plc_lead"],
            "school": "Hillside Elementary",
            "evaluator": "lopez@district.org",
            "time_zone": "America/New_York",
            "platform": "console",
            "workspace": "local",
        },
    ]
    assert count(db, School) == 2


def test_reimport_updates_in_place_and_names_the_changed_fields(growthbot: Growthbot, db: Database, tmp_path: Path):
    write(tmp_path, "staff.csv", STAFF)
    assert growthbot("roster", "import", tmp_path / "staff.csv").code == 0
    changed = STAFF.replace("Ana Rivera,teacher;plc_lead,Hillside Elementary", "Ana Rivera-Diaz,teacher,Hillside")
    changed += "kim@district.org,Joon Kim,teacher,Hillside,lopez@district.org,\n"

    again = growthbot("roster", "import", write(tmp_path, "staff.csv", changed))

    assert again.code == 0, again.err
    assert again.out.splitlines() == [
        "staff.csv: 4 people for the terminal workspace",
        "added 1",
        "updated 1",
        "  rivera@district.org: name, roles, school",
        "unchanged 2",
    ]
    assert count(db, Person) == 4
    rivera = next(p for p in people(db) if p["email"] == "rivera@district.org")
    assert (rivera["name"], rivera["roles"], rivera["school"]) == ("Ana Rivera-Diaz", ["teacher"], "Hillside")

    third = growthbot("roster", "import", tmp_path / "staff.csv")
    assert "unchanged 4" in third.out.splitlines()
    assert count(db, Person) == 4


def test_dry_run_reports_the_same_and_saves_nothing(growthbot: Growthbot, db: Database, staff: Path):
    run = growthbot("roster", "import", staff, "--dry-run")

    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        "staff.csv: 3 people for the terminal workspace",
        "added 3",
        "updated 0",
        "unchanged 0",
        "Dry run: nothing was saved.",
    ]
    assert count(db, Person) == 0
    assert workspaces(db) == []


ROLES = "teacher, evaluator, plc_lead, facilitator, partnership_lead, admin"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (",No Email,teacher,Hillside,,", "staff.csv line 3: missing email"),
        ("not-an-email,Bad Email,teacher,Hillside,,", 'staff.csv line 3: invalid email "not-an-email"'),
        ("x@district.org,X,principle,Hillside,,", f'staff.csv line 3: unknown role "principle"; use one of: {ROLES}'),
        ("x@district.org,,teacher,Hillside,,", "staff.csv line 3: empty name"),
        (
            "x@district.org,X,teacher,Hillside,,Eastern",
            'staff.csv line 3: unknown time zone "Eastern"; use an IANA name such as America/New_York',
        ),
        (
            "ROOT@district.org,Again,teacher,Hillside,,",
            'staff.csv line 3: duplicate email "root@district.org", also on line 2',
        ),
        (
            "x@district.org,X,teacher,Hillside,nobody@district.org,",
            'staff.csv line 3: evaluator_email "nobody@district.org" is not in this file or on the roster',
        ),
        (
            "x@district.org,X,teacher,Hillside,x@district.org,",
            'staff.csv line 3: "x@district.org" cannot be their own evaluator',
        ),
        ("x@district.org,X,teacher,Hillside,,,extra", "staff.csv line 3: 7 values but the header has 6 columns"),
    ],
)
def test_each_bad_row_is_reported_with_its_line_and_nothing_is_saved(
    growthbot: Growthbot, db: Database, tmp_path: Path, row: str, problem: str
):
    text = HEADER + "root@district.org,Root,evaluator,Hillside,,\n" + row + "\n"
    run = growthbot("roster", "import", write(tmp_path, "staff.csv", text))

    assert run.code == 1
    assert run.out == ""
    assert run.err.splitlines()[0].startswith(problem), run.err
    assert run.err.splitlines()[-1] == "Nothing was saved."
    assert count(db, Person) == 0


def test_every_problem_is_listed_in_one_pass(growthbot: Growthbot, db: Database, tmp_path: Path):
    text = HEADER + "a@district.org,A,teacher,,,\nbad,B,principle,,,\n\nc@district.org,,teacher,,a@district.org,\n"
    run = growthbot("roster", "import", write(tmp_path, "staff.csv", text))

    assert run.code == 1
    assert run.err.splitlines() == [
        'staff.csv line 3: invalid email "bad"',
        f'staff.csv line 3: unknown role "principle"; use one of: {ROLES}',
        "staff.csv line 5: empty name",
        "Nothing was saved.",
    ]
    assert count(db, Person) == 0


def test_a_missing_column_is_named(growthbot: Growthbot, db: Database, tmp_path: Path):
    run = growthbot("roster", "import", write(tmp_path, "staff.csv", "email,name,role\na@district.org,A,teacher\n"))

    assert run.code == 1
    assert run.err.startswith('staff.csv line 1: missing columns "school", "evaluator_email"')


def test_evaluator_may_already_be_on_the_roster(growthbot: Growthbot, db: Database, tmp_path: Path, staff: Path):
    growthbot("roster", "import", staff)
    later = HEADER + "new@district.org,New Teacher,teacher,Hillside Elementary,lopez@district.org,\n"

    run = growthbot("roster", "import", write(tmp_path, "later.csv", later))

    assert run.code == 0, run.err
    assert next(p for p in people(db) if p["email"] == "new@district.org")["evaluator"] == "lopez@district.org"


def test_headers_are_forgiving_about_case_spaces_and_byte_order_mark(
    growthbot: Growthbot, db: Database, tmp_path: Path
):
    text = "\ufeffEmail,Name,Role,School,Evaluator Email,Time Zone\r\na@district.org,A,PLC lead;Teacher,,,\r\n"
    run = growthbot("roster", "import", write(tmp_path, "staff.csv", text))

    assert run.code == 0, run.err
    assert people(db)[0]["roles"] == ["teacher", "plc_lead"]


def test_someone_who_chatted_before_the_import_is_linked_not_doubled(
    growthbot: Growthbot, db: Database, bot: Bot, staff: Path
):
    Chat(bot, user="rivera").complete_goal()
    assert count(db, Person) == 1

    run = growthbot("roster", "import", staff)

    assert run.code == 0, run.err
    assert run.out.splitlines()[1:4] == [
        "added 2",
        "updated 1",
        "  rivera@district.org: email, name, roles, school, evaluator",
    ]
    assert count(db, Person) == 3
    with unit_of_work(db) as repos:
        rivera = repos.people.find(repos.workspaces.ensure("console", "local", bot.clock.now()).id, "rivera")
        assert rivera is not None and rivera.email == "rivera@district.org"
        assert len(repos.goals.of_person(rivera.id)) == 1


def test_two_emails_with_the_same_terminal_name_are_refused(growthbot: Growthbot, db: Database, tmp_path: Path):
    text = HEADER + "ana@hillside.org,Ana One,teacher,,,\nana@riverside.org,Ana Two,teacher,,,\n"
    run = growthbot("roster", "import", write(tmp_path, "staff.csv", text))

    assert run.code == 1
    assert run.err.splitlines()[0] == (
        'staff.csv line 3: ana@riverside.org would be terminal user "ana", like ana@hillside.org on line 2'
    )
    assert count(db, Person) == 0


# -- Slack ---------------------------------------------------------------------------------------------


def test_slack_matches_by_email_and_keeps_the_unmatched_as_pending(
    growthbot: Growthbot, db: Database, tmp_path: Path, staff: Path
):
    with FakeSlackAPI(tz="America/Los_Angeles") as api:
        api.emails["rivera@district.org"] = "U1"
        api.emails["lopez@district.org"] = "U2"
        api.zones["U2"] = "America/Denver"
        slack = {"slack_bot_token": "xoxb-test", "slack_api_url": api.url}

        first = growthbot("roster", "import", staff, **slack)

        assert first.code == 0, first.err
        assert first.out.splitlines() == [
            "staff.csv: 3 people for Slack team T1",
            "added 3",
            "updated 0",
            "unchanged 0",
            "unmatched on Slack 1 (saved as pending; import again once they join Slack)",
            "  brooks@district.org (line 4)",
        ]
        stored = {p["email"]: p for p in people(db)}
        assert {email: (p["user_id"], p["time_zone"]) for email, p in stored.items()} == {
            "rivera@district.org": ("U1", "America/Los_Angeles"),  # Slack's zone when the file gives none
            "lopez@district.org": ("U2", "America/Denver"),
            "brooks@district.org": ("pending:brooks@district.org", "America/Chicago"),  # the file's zone wins
        }
        assert {(p["platform"], p["workspace"]) for p in stored.values()} == {("slack", "T1")}
        assert [c.params["email"] for c in api.of("users.lookupByEmail")] == [
            "rivera@district.org",
            "lopez@district.org",
            "brooks@district.org",
        ]

        api.emails["brooks@district.org"] = "U3"
        second = growthbot("roster", "import", staff, **slack)

    assert second.code == 0, second.err
    assert second.out.splitlines() == [
        "staff.csv: 3 people for Slack team T1",
        "added 0",
        "updated 1",
        "  brooks@district.org: user id",
        "unchanged 2",
        "unmatched on Slack 0",
    ]
    assert count(db, Person) == 3
    assert next(p for p in people(db) if p["email"] == "brooks@district.org")["user_id"] == "U3"


def test_a_pending_person_who_has_since_chatted_on_slack_becomes_one_person(
    growthbot: Growthbot, db: Database, bot: Bot, tmp_path: Path
):
    text = HEADER + (
        "lopez@district.org,Maria Lopez,evaluator,Hillside,,\n"
        "rivera@district.org,Ana Rivera,teacher,Hillside,lopez@district.org,\n"
    )
    staff = write(tmp_path, "staff.csv", text)
    with FakeSlackAPI(tz="America/New_York") as api:
        api.emails["rivera@district.org"] = "U1"
        slack = {"slack_bot_token": "xoxb-test", "slack_api_url": api.url}
        assert growthbot("roster", "import", staff, **slack).code == 0
        with unit_of_work(db) as repos:  # Maria joins Slack and talks to the bot before the next import
            workspace = repos.workspaces.ensure("slack", "T1", bot.clock.now())
            chatted = repos.people.ensure(workspace.id, "U9", bot.clock.now(), "maria", "America/New_York")
            repos.goals.add(chatted.id, {"specific": "observe every teacher twice"}, "draft", bot.clock.now())
        api.emails["lopez@district.org"] = "U9"

        run = growthbot("roster", "import", staff, **slack)

    assert run.code == 0, run.err
    assert "  lopez@district.org: email, name, roles, school, user id" in run.out.splitlines()
    stored = {p["email"]: p for p in people(db)}
    assert count(db, Person) == 2
    assert stored["lopez@district.org"]["user_id"] == "U9"
    assert stored["rivera@district.org"]["evaluator"] == "lopez@district.org"
    assert count(db, Goal) == 1


def test_a_rejected_slack_token_stops_before_anything_is_saved(growthbot: Growthbot, db: Database, staff: Path):
    with FakeSlackAPI() as api:
        api.fail_next("auth.test", 200)  # the fake answers ok: false, as Slack does for invalid_auth
        run = growthbot("roster", "import", staff, slack_bot_token="xoxb-test", slack_api_url=api.url)

    assert run.code == 1
    assert run.err.startswith("growthbot: Slack did not accept SLACK_BOT_TOKEN")
    assert count(db, Person) == 0
