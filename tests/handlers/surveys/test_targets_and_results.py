"""Survey targets beyond people and schools (`plc:<team>`, a PLC team's `#channel`), what is said for a team or a
channel growthbot does not know, and long open answers shortened in results but whole in the export."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from handlers.plc.cadence import read_cadence
from handlers.plc.service import NewTeam, PlcService
from storage.unit_of_work import unit_of_work
from tests.handlers.observations.test_observe_dialogs import Org, org  # noqa: F401  (the org fixture)
from tests.handlers.surveys.test_survey_dialogs import PEOPLE, TO_ALL, export


def grade4(org: Org) -> None:  # noqa: F811
    """Grade 4 PLC: Kim leads, Reyes and Patel are members, its channel is #grade4-plc."""
    with unit_of_work(org.runtime.db) as repos:
        ws = repos.workspaces.ensure("console", "local", org.clock.now())
        kim, reyes, patel = (repos.people.find(ws.id, h) for h in ("kim", "reyes", "patel"))
        assert kim and reyes and patel
        PlcService("America/New_York").create(
            repos, ws.id,
            NewTeam(name="Grade 4 PLC", school="", channel="#grade4-plc", lead=kim, members=[reyes, patel],
                    cadence_text="every Monday 3pm", cadence=read_cadence("every Monday 3pm"), assessments=[]),
            org.clock.now(),
        )  # fmt: skip


def test_plc_team_and_its_channel_are_targets_and_a_person_in_both_is_asked_once(org: Org) -> None:  # noqa: F811
    grade4(org)
    lopez = org.chat("lopez")
    sent = lopez.say("/survey send exit_slip to plc:grade_4_plc #grade4-plc @kim confidential")
    assert "Survey #1: Session exit slip (confidential) goes to 3 people now" in sent
    org.ticker.tick()
    assert Counter(item.to for item in org.inbox.take()) == Counter({"kim": 1, "reyes": 1, "patel": 1})

    unknown = lopez.say("/survey send exit_slip to plc:grade_5")
    assert 'I don\'t know a PLC team called "grade_5". Teams: Grade 4 PLC (type plc:Name, with _ for spaces).' \
        in unknown  # fmt: skip
    channel = lopez.say("/survey send exit_slip to #staff-room")
    assert "I can't send to #staff-room: I know the people of a channel only when it is a PLC team's channel " \
           "(#grade4-plc)." in channel  # fmt: skip
    assert "Survey #2" not in channel and "Survey #2" not in unknown


def test_long_open_answers_are_shortened_in_results_and_whole_in_the_export(org: Org) -> None:  # noqa: F811
    org.chat("lopez").say(f"/survey send exit_slip to {TO_ALL} confidential")
    long = "Time to plan   with my team and " + "then some more detail " * 60
    for user in PEOPLE[:5]:
        chat = org.chat(user)
        chat.say("/survey answer 1")
        chat.say("3")
        chat.say("Exit tickets")
        assert "Please check" in chat.say(long + user)  # what I still need: a long answer (1,300 characters)
        assert "They are stored without your name" in chat.say("1")
    shown = org.chat("lopez").say("/survey results 1")
    assert shown.count("   - Time to plan with my team and then some more detail") == 5  # spacing folded
    assert shown.count("…") == 5 and "detail kim" not in shown
    assert "(5 long answers were shortened here; growthbot export responses --survey 1 has them in full.)" in shown
    assert max(len(line) for line in shown.splitlines()) < 300
    rows, _notes = export(org, "--survey", "1")
    assert sorted(r["answer"] for r in rows if r["question"] == "still_need") == sorted(long + u for u in PEOPLE[:5])


def schools(org: Org, **people: str) -> None:  # noqa: F811
    """Put each handle at the named school (made if needed); Lincoln Elementary exists with nobody in it."""
    with unit_of_work(org.runtime.db) as repos:
        ws = repos.workspaces.ensure("console", "local", org.clock.now())
        ids = repos.schools.ensure_all(ws.id, sorted({*people.values(), "Lincoln Elementary"}))
        for handle, school in people.items():
            found = repos.people.find(ws.id, handle)
            assert found is not None
            found.school_id = ids[school]


def test_a_school_in_several_words_quoted_or_by_a_unique_start_reaches_its_people(org: Org) -> None:  # noqa: F811
    schools(org, kim="Hillside Elementary", reyes="Hillside Elementary", patel="Hillcrest Middle School",
            cole="Lincoln Elementary")  # fmt: skip
    lopez = org.chat("lopez")
    sent = lopez.say("/survey send exit_slip to school:Hillside Elementary confidential closes Dec 4 5pm")
    assert "Survey #1: Session exit slip (confidential) goes to 2 people now" in sent
    org.ticker.tick()
    assert sorted(item.to for item in org.inbox.take()) == ["kim", "reyes"]

    assert "Survey #2: Session exit slip (confidential) goes to 2 people now" in lopez.say(
        "/survey send exit_slip to school:hillside"
    )
    assert "Survey #3: Session exit slip (named) goes to 3 people now" in lopez.say(
        '/survey send exit_slip to school:"hillside elementary" @patel named'
    )
    assert "Survey #4: Session exit slip (anonymous) goes to 2 people now" in lopez.say(
        "/survey send exit_slip to school:\u201cHillside Elementary\u201d anonymous"  # a phone's curly quotes
    )
    assert "Survey #5: Session exit slip (confidential) goes to 2 people now" in lopez.say(
        "/survey send exit_slip to school:Hillside_Elementary"
    )
    assert "Survey #6: Session exit slip (confidential) goes to 2 people now" in lopez.say(
        "/survey send exit_slip to school:Lincoln kim"  # the name ends where no school's name goes on
    )
    assert "Survey #7: Session exit slip (confidential) goes to 3 people now" in lopez.say(
        "/survey send exit_slip to school:Hillcrest Middle School school:Lincoln Elementary @kim"
    )

    ambiguous = lopez.say("/survey send exit_slip to school:hill")
    assert ambiguous == (
        '"school:hill" could be Hillcrest Middle School, Hillside Elementary. Type more of the name, or put it '
        'in quotes: school:"Hillcrest Middle School".'
    )
    unknown = lopez.say("/survey send exit_slip to school:Hillsdale Elementary @kim")
    assert unknown == (
        'I don\'t know a school called "Hillsdale Elementary". Schools: Hillcrest Middle School, Hillside Elementary, '
        "Lincoln Elementary (type school:Name)."
    )
    assert "Survey #8" not in lopez.say("/survey")


def test_a_pulse_to_a_school_by_its_start_keeps_reaching_that_school(org: Org) -> None:  # noqa: F811
    """The pulse keeps the school it was sent to, even after another school's name starts the same way."""
    schools(org, kim="Hillside Elementary", reyes="Hillside Elementary", patel="Lincoln Elementary")
    said = org.chat("ames").say("/survey pulse pulse to school:hillside every Friday 2pm anonymous")
    assert "Staff pulse (anonymous) goes to 2 people every Friday" in said
    schools(org, cole="Hillside Middle School")
    org.walk_to(datetime(2026, 12, 5, 0, 0, tzinfo=UTC), step=timedelta(hours=1))
    invites = Counter(item.to for item in org.inbox.take() if "Staff pulse" in item.text)
    assert (
        set(invites) == {"kim", "reyes"} and invites["kim"] == invites["reyes"] >= 1
    )  # never Cole, at Hillside Middle


def test_a_plc_team_in_several_words_or_by_a_unique_start_and_an_ambiguous_start(org: Org) -> None:  # noqa: F811
    grade4(org)
    lopez = org.chat("lopez")
    assert "goes to 3 people now" in lopez.say("/survey send exit_slip to plc:Grade 4 PLC confidential")
    assert "goes to 3 people now" in lopez.say("/survey send exit_slip to plc:grade 4")
    assert "goes to 3 people now" in lopez.say('/survey send exit_slip to plc:"grade 4 plc" @kim')
    with unit_of_work(org.runtime.db) as repos:
        ws = repos.workspaces.ensure("console", "local", org.clock.now())
        cole = repos.people.find(ws.id, "cole")
        assert cole
        PlcService("America/New_York").create(
            repos, ws.id,
            NewTeam(name="Grade 4 Math PLC", school="", channel="", lead=cole, members=[],
                    cadence_text="every Monday 3pm", cadence=read_cadence("every Monday 3pm"), assessments=[]),
            org.clock.now(),
        )  # fmt: skip
    assert lopez.say("/survey send exit_slip to plc:grade 4") == (
        '"plc:grade 4" could be Grade 4 PLC, Grade 4 Math PLC. Type more of the name, or put it in quotes: '
        'plc:"Grade 4 PLC".'
    )
    assert "goes to 1 person now" in lopez.say("/survey send exit_slip to plc:Grade 4 Math")
    assert "goes to 3 people now" in lopez.say("/survey send exit_slip to plc:Grade 4 PLC")
