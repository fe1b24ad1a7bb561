"""The educator plan over a school year: benchmark check-ins the school day before each benchmark, answered on
track / behind / done and logged on the goal; `/goal plan` for the educator and `/goal team` for the evaluator.

The clock walks the 2026-27 district calendar of tests/handlers/plc/harness.py (MLK Day, February and April
vacations, the March DST change), ticking at every instant something falls due, as the background loop does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from storage.database import Database
from storage.goals import GoalPlans
from storage.models import Person
from tests.handlers.plc.harness import NY, District, district, is_school_day
from tests.harness import Chat

START = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Mon Nov 23, 2026, 10:00 in New York
ANSWERS = {
    "goal_type": "1",
    "data_reviewed": "Fall benchmark: 38% of my 4th graders read at grade level; fluency is the gap",
    "specific": "my 4th graders will read grade-level text fluently and with understanding",
    "measurable": "the share of students at benchmark on the DIBELS fluency probe, from 38% to 70%",
    "action": "I will run daily 20-minute guided reading groups; weekly fluency checks",
    "results": "students below benchmark close at least half the gap in reading fluency",
    "completion_date": "June 2027",
    # Tue Jan 19 follows MLK Day; Mon Feb 22 and Mon Apr 26 follow the February and April vacations.
    "benchmarks": "Jan 19: winter fluency probe; Feb 22: running records; April 26: spring probe",
    "alignment": "skip",
}
CHECKIN_DAYS = [date(2027, 1, 15), date(2027, 2, 12), date(2027, 4, 16)]  # the school day before each


def save_goal(chat: Chat, **changes: str) -> str:
    chat.say("/goal")
    reply = ""
    for answer in {**ANSWERS, **changes}.values():
        reply = chat.say(answer)
    assert "Save it, revise a part, or cancel?" in reply, reply
    return chat.say("save")


def checkins_of(place: District, user: str) -> list:  # type: ignore[type-arg]
    return [item for item in place.inbox.of(user) if item.text.startswith("Benchmark check-in")]


@pytest.fixture
def place(db: Database) -> District:
    found = district(db, START)
    with found.repos() as repos:
        okafor = found.people["okafor"]
        for handle in ("rivera", "nguyen"):
            person = repos.session.get(Person, found.people[handle])
            assert person is not None
            person.evaluator_id = okafor
    return found


def test_benchmark_checkins_are_sent_once_each_on_the_school_day_before_at_half_past_three(place: District) -> None:
    rivera = place.chat("rivera")
    saved = save_goal(rivera)
    assert saved.startswith("Saved as goal #1:\nBy June 22, 2027, my 4th graders will read")  # last school day of June

    place.walk_to(datetime(2027, 7, 1, 12, 0, tzinfo=UTC))

    sent = checkins_of(place, "rivera")
    assert [item.local.date() for item in sent] == CHECKIN_DAYS
    assert all(is_school_day(item.local.date()) for item in sent)
    assert all(item.local.time() == time(15, 30) for item in sent)  # EST in January and February, EDT in April
    assert sent[0].first_line == (
        "Benchmark check-in for goal #1: your next benchmark is Tue, January 19, 2027 (winter fluency probe)."
    )
    assert "On track: type /goal checkin 1 on track" in sent[0].text
    assert "Behind: type /goal checkin 1 behind" in sent[0].text
    assert "Done: type /goal checkin 1 done" in sent[0].text
    assert "2027-" not in "\n".join(item.text for item in sent)
    place.walk_to(datetime(2027, 8, 1, 12, 0, tzinfo=UTC))
    assert len(checkins_of(place, "rivera")) == 3  # exactly once each, however long the clock runs


def test_a_checkin_answer_is_logged_on_the_goal_and_shown_in_the_plan(place: District) -> None:
    rivera = place.chat("rivera")
    save_goal(rivera)
    place.walk_to(datetime(2027, 1, 15, 21, 0, tzinfo=UTC))
    assert len(checkins_of(place, "rivera")) == 1

    logged = rivera.say("/goal checkin 1 behind two students were absent for the probe")
    assert logged.startswith('Logged on goal #1 for the benchmark on Tue, January 19, 2027: behind, with the note '
                             '"two students were absent for the probe".')  # fmt: skip
    assert rivera.say("/goal checkin 1 on track").startswith(
        "Logged on goal #1 for the benchmark on Tue, January 19, 2027: on track, with the note"
    )  # the later answer replaces the status and keeps the note

    plan = rivera.say("/goal plan")
    assert plan.startswith("Your educator plan:\n\nGoal #1 (Student learning, by June 22, 2027): By June 22, 2027,")
    assert "Action steps:\n- I will run daily 20-minute guided reading groups\n- weekly fluency checks" in plan
    assert '- Tue, January 19, 2027: winter fluency probe: on track ("two students were absent for the probe")' in plan
    assert "- Mon, February 22, 2027: running records: coming" in plan
    assert "Progress: 1 of 3 benchmarks checked in, latest: on track." in plan
    with place.repos() as repos:
        [row] = GoalPlans(repos.session).checkins(1)
        assert (row.benchmark_on, row.status) == (date(2027, 1, 19), "on_track")


def test_a_checkin_answer_without_a_status_says_what_to_type(place: District) -> None:
    rivera = place.chat("rivera")
    save_goal(rivera)
    assert rivera.say("/goal checkin 1 hmm").startswith("How is goal #1 going? Type /goal checkin 1 followed by")
    assert rivera.say("/goal checkin").startswith("Which goal? Type /goal checkin followed by its number")
    assert rivera.say("/goal checkin 7 done").startswith("You have no goal #7.")
    assert place.chat("kim").say("/goal checkin 1 done").startswith("You have no goal #1.")  # not hers


def test_editing_the_benchmarks_replaces_the_checkins(place: District) -> None:
    rivera = place.chat("rivera")
    save_goal(rivera)
    rivera.say("/goal edit 1")
    rivera.say("2")  # revise a part
    rivera.say("8")  # benchmarks
    rivera.say("March 10: running records")
    assert rivera.say("save").startswith("Saved as goal #1:")
    place.walk_to(datetime(2027, 7, 1, 12, 0, tzinfo=UTC))
    assert [item.local.date() for item in checkins_of(place, "rivera")] == [date(2027, 3, 9)]


def test_goal_team_shows_an_evaluators_educators_goals_and_only_theirs(place: District) -> None:
    save_goal(place.chat("rivera"))
    save_goal(place.chat("kim"), specific="my 2nd graders will add and subtract within 100 fluently")
    team = place.chat("okafor").say("/goal team")
    assert team.startswith("Goals of the educators you evaluate:")
    assert "Ana Rivera\n- Goal #1, by June 22, 2027: By June 22, 2027, my 4th graders" in team
    assert "Next benchmark: Tue, January 19, 2027 (winter fluency probe). Progress: 0 of 3 benchmarks" in team
    assert "Linh Nguyen\n- no saved goals yet" in team
    assert "Joon Kim" not in team and "2nd graders" not in team  # Kim is not Okafor's to evaluate
    assert place.chat("kim").say("/goal team").startswith("Nobody is assigned to you as their evaluator")


def test_goal_plan_with_no_saved_goals(place: District) -> None:
    assert place.chat("nguyen").say("/goal plan").startswith("You have no saved goals yet, so your plan is empty.")


def set_person(place: District, handle: str, **fields: object) -> None:
    with place.repos() as repos:
        person = repos.session.get(Person, place.people[handle])
        assert person is not None
        for name, value in fields.items():
            setattr(person, name, value)


def test_a_checkin_after_the_persons_hours_waits_for_the_next_school_morning(place: District) -> None:
    rivera = place.chat("rivera")
    save_goal(rivera)
    set_person(place, "rivera", quiet_start="07:30", quiet_end="15:00")  # her messaging window ends at 3 pm
    place.walk_to(datetime(2027, 1, 19, 17, 0, tzinfo=UTC))
    [sent] = checkins_of(place, "rivera")
    assert sent.local == datetime(2027, 1, 19, 7, 30, tzinfo=NY)  # the next school-day morning, not at 3:30 pm
    assert "Tue, January 19, 2027" in sent.first_line


def test_no_checkin_is_sent_while_the_educator_is_away(place: District) -> None:
    rivera = place.chat("rivera")
    save_goal(rivera)
    set_person(place, "rivera", away_until=datetime(2027, 1, 20, 12, 0, tzinfo=UTC))
    place.walk_to(datetime(2027, 7, 1, 12, 0, tzinfo=UTC))
    assert [item.local.date() for item in checkins_of(place, "rivera")] == CHECKIN_DAYS[1:]


def test_goal_team_leaves_out_an_educator_who_left_the_district(place: District) -> None:
    save_goal(place.chat("rivera"))
    set_person(place, "rivera", deactivated_at=datetime(2026, 11, 23, 16, 0, tzinfo=UTC))
    team = place.chat("okafor").say("/goal team")
    assert "Ana Rivera" not in team and "Linh Nguyen" in team


def test_schedule_upcoming_lists_the_checkins_and_changes_nothing(place: District) -> None:
    save_goal(place.chat("rivera"))
    seen = place.preview(START, datetime(2027, 5, 1, tzinfo=UTC))
    assert [row for row in seen if row[2] == "goal_benchmark_checkin"] == [
        ("rivera", "Fri Jan 15 15:30", "goal_benchmark_checkin"),
        ("rivera", "Fri Feb 12 15:30", "goal_benchmark_checkin"),
        ("rivera", "Fri Apr 16 15:30", "goal_benchmark_checkin"),
    ]
    with place.repos() as repos:
        assert GoalPlans(repos.session).checkins(1) == []  # the preview's expands were rolled back
    place.walk_to(datetime(2027, 1, 16, tzinfo=UTC))
    assert len(checkins_of(place, "rivera")) == 1
