"""Survey targets beyond people and schools (`plc:<team>`, a PLC team's `#channel`), what is said for a team or a
channel growthbot does not know, and long open answers shortened in results but whole in the export."""

from __future__ import annotations

from collections import Counter

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
