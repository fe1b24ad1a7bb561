"""`growthbot demo load`: a clearly labelled sample district, loaded through the real importers."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import yaml

from handlers.org.demo import FILES, WORKSPACE_NAME
from handlers.router import Bot
from storage.database import Database
from storage.models import Person, School
from storage.unit_of_work import unit_of_work
from tests.harness import Chat
from tests.org.helpers import Growthbot, closed_days, count, people, school_years, workspaces, write

DEMO_EVALUATOR = "lopez@demo.growthbot.example"


def test_demo_is_labelled_as_sample_data_everywhere(growthbot: Growthbot, db: Database):
    run = growthbot("demo", "load")

    assert run.code == 0, run.err
    assert run.out.startswith(f"Demo data loaded ({WORKSPACE_NAME}): 10 people (10 added, 0 updated) in 3 schools")
    assert workspaces(db) == [("console", "local", WORKSPACE_NAME, True)]
    staff = people(db)
    assert all(person["name"].endswith("(demo)") for person in staff)
    assert {person["time_zone"] for person in staff} == {"America/New_York"}
    assert all(person["user_id"] == person["email"].split("@")[0] for person in staff)


def test_demo_has_every_role_and_one_evaluator_of_most_teachers(growthbot: Growthbot, db: Database):
    growthbot("demo", "load")
    staff = people(db)

    roles = Counter(role for person in staff for role in person["roles"])
    assert set(roles) == {"teacher", "evaluator", "plc_lead", "facilitator", "partnership_lead", "admin"}
    assert 4 <= roles["teacher"] <= 6
    teachers = [person for person in staff if "teacher" in person["roles"]]
    evaluators = Counter(person["evaluator"] for person in teachers)
    assert evaluators.most_common(1)[0] == (DEMO_EVALUATOR, len(teachers) - 1)
    lopez = next(person for person in staff if person["email"] == DEMO_EVALUATOR)
    assert lopez["user_id"] == "lopez" and "evaluator" in lopez["roles"]
    assert count(db, School) == 3


def test_demo_calendar_has_massachusetts_holidays_on_weekdays(growthbot: Growthbot, db: Database):
    growthbot("demo", "load")

    closed = closed_days(db)
    expected = {
        "2026-11-26": "Thanksgiving",
        "2026-11-27": "Thanksgiving",
        "2026-12-24": "Winter vacation",
        "2027-01-01": "Winter vacation",
        "2027-01-18": "Martin Luther King Jr. Day",
        "2027-02-15": "February vacation",
        "2027-02-19": "February vacation",
        "2027-04-19": "April vacation",
        "2027-04-23": "April vacation",
        "2027-05-31": "Memorial Day",
        "2027-06-18": "Juneteenth",
    }
    assert {day: closed.get(day) for day in expected} == expected
    assert all(date.fromisoformat(day).weekday() < 5 for day in closed)
    assert [name for name, _, _ in school_years(db)] == ["2026-2027"]


def test_loading_the_demo_twice_changes_nothing(growthbot: Growthbot, db: Database):
    growthbot("demo", "load")
    before = (people(db), closed_days(db), school_years(db), workspaces(db))

    again = growthbot("demo", "load")

    assert again.code == 0, again.err
    assert "10 people (0 added, 0 updated)" in again.out
    assert (people(db), closed_days(db), school_years(db), workspaces(db)) == before


def test_if_empty_loads_into_an_empty_database_only(growthbot: Growthbot, db: Database, bot: Bot):
    Chat(bot, user="someone").say("help")

    skipped = growthbot("demo", "load", "--if-empty")

    assert (skipped.code, skipped.out, skipped.err) == (0, "", "")
    assert count(db, Person) == 1


def test_if_empty_on_a_fresh_database_loads(growthbot: Growthbot, db: Database):
    run = growthbot("demo", "load", "--if-empty")

    assert run.code == 0 and run.out.startswith("Demo data loaded")
    assert count(db, Person) == 10


def test_the_demo_evaluator_chats_as_the_demo_person(growthbot: Growthbot, db: Database, bot: Bot):
    growthbot("demo", "load")

    Chat(bot, user="lopez").say("help")

    assert count(db, Person) == 10
    with unit_of_work(db) as repos:
        workspace = repos.workspaces.ensure("console", "local", bot.clock.now())
        lopez = repos.people.find(workspace.id, "lopez")
        assert lopez is not None and lopez.display_name == "Maria Lopez (demo)"


def test_demo_never_mixes_into_a_real_roster(growthbot: Growthbot, db: Database, tmp_path: Path):
    real = "email,name,role,school,evaluator_email\nann@district.org,Ann,teacher,Hillside,\n"
    growthbot("roster", "import", write(tmp_path, "staff.csv", real))

    run = growthbot("demo", "load")

    assert run.code == 1
    assert run.err.splitlines()[0] == (
        "the terminal workspace already holds a real roster; demo data would mix with it"
    )
    assert count(db, Person) == 1


def test_demo_teams_file_names_only_demo_staff():
    """demo.yaml is for features still to come; its people must exist in staff.csv when they arrive."""
    staff = {line.split(",")[0] for line in (FILES / "staff.csv").read_text(encoding="utf-8").splitlines()[1:]}
    teams = yaml.safe_load((FILES / "demo.yaml").read_text(encoding="utf-8"))

    named = {email for plc in teams["plcs"] for email in [plc["lead"], *plc["members"]]}
    named |= {email for partnership in teams["partnerships"] for email in partnership["leads"]}
    assert named and named <= staff
    assert all(team["name"].endswith("(demo)") for team in teams["plcs"] + teams["partnerships"])


def test_a_roster_imported_into_the_demo_workspace_says_so(growthbot: Growthbot, tmp_path: Path):
    growthbot("demo", "load")
    real = "email,name,role,school,evaluator_email\nann@district.org,Ann,teacher,Hillside,\n"

    run = growthbot("roster", "import", write(tmp_path, "staff.csv", real), "--dry-run")

    assert run.code == 0, run.err
    assert f'note: the terminal workspace holds demo data ("{WORKSPACE_NAME}"); these people join it' in run.out
