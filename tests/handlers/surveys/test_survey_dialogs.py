"""Surveys in the terminal: a facilitator sends to a group, the outbox fans it out, people answer one question
at a time, non-responders are nudged, and results appear only once enough people have answered."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.models import Person, Schedule, SurveyInvitation, SurveyNamedAnswer, SurveySealedAnswer
from storage.unit_of_work import unit_of_work
from tests.handlers.observations.test_observe_dialogs import Org, org  # noqa: F401  (the org fixture)
from tests.harness import open_conversation

PEOPLE = ("kim", "reyes", "patel", "cole", "okafor", "ames")
TO_ALL = " ".join("@" + p for p in PEOPLE)


def answer_exit_slip(
    org: Org,  # noqa: F811
    user: str,
    useful: str = "3",
    try_: str = "Turn and talk",
    why: str = "",
    survey: int = 1,
) -> str:
    """Answer an exit slip (survey 1 unless told) in the terminal; returns what the bot says after the submit."""
    chat = org.chat(user)
    first = chat.say(f"/survey answer {survey}")
    assert "(1 of 4) This session was a good use of my time." in first
    asked = chat.say(useful)
    if why:
        assert "What would have made it worth your time?" in asked
        chat.say(why)
    else:
        assert "(3 of 4) One thing you will try" in asked  # the follow-up question is skipped
    chat.say(try_)
    assert "Please check" in chat.say("skip")
    return chat.say("1")


def test_a_confidential_exit_slip_reaches_each_person_once_and_shows_results_only_at_five(org: Org) -> None:  # noqa: F811
    lopez = org.chat("lopez")
    sent = lopez.say(f"/survey send exit_slip to {TO_ALL} @kim confidential closes Dec 4 5pm remind Dec 3 9am")
    assert "Survey #1: Session exit slip (confidential) goes to 6 people now" in sent
    assert "it closes Fri Dec 4, 5:00 PM EST" in sent and "reminder Thu Dec 3, 9:00 AM EST" in sent
    org.ticker.tick()
    org.ticker.tick()  # a second tick sends nothing again
    invites = org.inbox.take()
    assert Counter(item.to for item in invites) == Counter(PEOPLE)  # kim, named twice, hears once
    assert "Maria Lopez asks for your answers to Session exit slip (survey #1" in invites[0].text
    assert invites[0].text.endswith("Answer: type /survey answer 1")  # the Slack and Teams button, to type

    first = org.chat("kim").say("/survey answer 1")
    before = first.split("(1 of 4)")[0]
    assert before.startswith("Confidential survey: Maria Lopez will see that you answered, never which answers")
    org.chat("kim").say("cancel")

    for user, useful in zip(("kim", "reyes", "patel", "cole"), ("4", "3", "3", "4"), strict=True):
        assert "are in. They are stored without your name." in answer_exit_slip(org, user, useful)
    withheld = lopez.say("/survey results 1")
    assert "4 of 6 answered (67%)" in withheld and "Results are hidden until at least 5 people" in withheld
    assert "Turn and talk" not in withheld

    assert "already answered" in org.chat("kim").say("/survey answer 1")  # a second submit never doubles

    org.walk_to(datetime(2026, 12, 3, 15, 0, tzinfo=UTC), step=timedelta(hours=2))
    reminders = [item for item in org.inbox.take() if "Reminder:" in item.text]
    assert sorted(item.to for item in reminders) == ["ames", "okafor"]  # only those who have not answered

    answer_exit_slip(org, "okafor", "2", why="More time to practise")
    shown = lopez.say("/survey results 1")
    assert "5 of 6 answered (83%)" in shown
    assert "Agree: 2 (40%)" in shown and "Strongly agree: 2 (40%)" in shown and "Disagree: 1 (20%)" in shown
    assert "mean 3.2 of 4" in shown
    assert "What would have made it worth your time?: hidden (1 answer, fewer than 5)" in shown
    assert shown.count("- Turn and talk") == 5 and "(Dana Kim)" not in shown
    assert "Only the person who sent survey #1" in org.chat("kim").say("/survey results 1")


def test_answers_after_the_close_are_refused_and_nothing_is_saved(org: Org, db) -> None:  # noqa: F811
    org.chat("lopez").say("/survey send exit_slip to @kim @reyes named closes today 11am")
    chat = org.chat("kim")
    chat.say("/survey answer 1")
    chat.say("3")
    chat.say("Exit tickets")
    chat.say("skip")
    org.clock.set(datetime(2026, 11, 23, 16, 30, tzinfo=UTC))  # 11:30 in New York: closed meanwhile
    said = chat.say("1")
    assert "is closed and no longer takes answers" in said and "not saved" in said
    assert "is closed" in chat.say("/survey answer 1")
    with unit_of_work(db) as repos:
        assert repos.session.scalars(select(SurveyNamedAnswer)).all() == []


def test_named_answers_can_be_changed_and_a_second_submit_replaces(org: Org, db) -> None:  # noqa: F811
    org.chat("lopez").say("/survey send exit_slip to @kim @reyes named")
    assert "Thank you" in answer_exit_slip(org, "kim", "3", try_="Exit tickets")
    chat = org.chat("kim")
    again = chat.say("/survey answer 1")
    assert again.startswith("Named survey: Maria Lopez will see your name with your answers.")
    assert "Your answer was: Agree" in again or "Type keep for: Agree" in again
    assert "Type keep for: Exit tickets" in chat.say("4")
    chat.say("Cold calling")
    chat.say("skip")
    assert "replace the ones you sent before" in chat.say("1")
    with unit_of_work(db) as repos:
        rows = repos.session.scalars(select(SurveyNamedAnswer)).all()
        assert [r.answers for r in rows] == [{"useful": "Strongly agree", "try": "Cold calling"}]


def test_anonymous_keeps_nothing_about_who_and_reminds_everyone_saying_so(org: Org, db) -> None:  # noqa: F811
    org.chat("lopez").say("/survey send exit_slip to @kim @reyes @patel anonymous remind tomorrow 9am")
    org.ticker.tick()
    answer_exit_slip(org, "kim")
    with unit_of_work(db) as repos:
        assert all(not i.answered for i in repos.session.scalars(select(SurveyInvitation)))
        (row,) = repos.session.scalars(select(SurveySealedAnswer)).all()
        assert set(row.answers) == {"useful", "try"}
    org.inbox.take()
    org.walk_to(datetime(2026, 11, 24, 15, 0, tzinfo=UTC), step=timedelta(hours=2))
    reminders = org.inbox.take()
    assert sorted(r.to for r in reminders) == ["kim", "patel", "reyes"]
    assert (
        "It is anonymous, so I cannot tell whether you answered: this reminder goes to everyone." in reminders[0].text
    )


def test_bad_sends_say_what_to_type_and_send_nothing(org: Org, db) -> None:  # noqa: F811
    lopez = org.chat("lopez")
    unknown = lopez.say("/survey send exit_ticket to @kim")
    assert 'There is no instrument "exit_ticket". You can send: exit_slip' in unknown and "pulse" in unknown
    assert 'I couldn\'t find "@nobody"' in lopez.say("/survey send exit_slip to @kim @nobody")
    assert "I can't send to #pd-day: I know the people of a channel only when it is a PLC team's channel." in lopez.say(
        "/survey send exit_slip to #pd-day"
    )
    assert 'I don\'t know a school called "Mars"' in lopez.say("/survey send exit_slip to school:Mars")
    assert "Type: /survey send <instrument> to" in lopez.say("/survey send exit_slip")
    assert "has already passed" in lopez.say("/survey send exit_slip to @kim closes today 9am")
    assert "would come after the survey closes" in lopez.say(
        "/survey send exit_slip to @kim closes Nov 24 3pm remind Nov 25 9am"
    )
    assert "Which survey? Type /survey answer and its number" in lopez.say("/survey answer soon")
    assert "There is no survey #9" in lopez.say("/survey answer 9")
    with unit_of_work(db) as repos:
        assert repos.surveys.all_in() == []


def test_a_bad_answer_says_what_to_type_and_the_question_stays(org: Org) -> None:  # noqa: F811
    org.chat("lopez").say("/survey send exit_slip to @kim")
    chat = org.chat("kim")
    chat.say("/survey answer 1")
    assert "Please pick one of the options" in chat.say("7") or "type its number" in chat.say("7")
    conversation = open_conversation(chat.bot.db, "kim")
    assert conversation is not None and conversation.step == "useful"
    chat.say("3")
    long = chat.say("x" * 10_000)
    assert "limit is 300" in long or "characters" in long
    conversation = open_conversation(chat.bot.db, "kim")
    assert conversation is not None and conversation.step == "try"
    assert "Survey #1 was not sent to you" in org.chat("patel").say("/survey answer 1")


def test_a_survey_to_a_school_goes_to_its_people_and_says_when_the_group_is_small(org: Org, db) -> None:  # noqa: F811
    with unit_of_work(db) as repos:
        ws = repos.workspaces.ensure("console", "local", org.clock.now())
        school = repos.schools.ensure_all(ws.id, ["Lincoln Elementary"])["Lincoln Elementary"]
        for person in repos.session.scalars(select(Person).where(Person.platform_user_id.in_(["kim", "cole"]))):
            person.school_id = school
    sent = org.chat("lopez").say("/survey send pulse to school:Lincoln_Elementary @kim")
    assert "goes to 2 people" in sent and "results stay hidden unless at least 5 answer" in sent
    org.ticker.tick()
    assert sorted(item.to for item in org.inbox.take()) == ["cole", "kim"]


def export(org: Org, *argv: str) -> tuple[list[dict], tuple[str, ...]]:  # noqa: F811
    """`growthbot export responses ARGV --format json`, parsed by the real command line: rows and notes."""
    from bot.cli import _parser
    from handlers.router import Bot
    from tests.conftest import test_settings

    features = Bot.catalogue(test_settings())
    args = _parser(features).parse_args(["export", "responses", *argv, "--format", "json"])
    table = next(e for f in features for e in f.exports if e.name == args.what)
    selection = table.run(org.runtime.db, args)
    return selection.rows, selection.notes


def test_the_export_follows_the_mode_and_the_minimum(org: Org) -> None:  # noqa: F811
    import pytest

    from handlers.features import ExportRefused

    org.chat("lopez").say(f"/survey send exit_slip to {TO_ALL} confidential")
    for user in PEOPLE[:4]:
        answer_exit_slip(org, user, try_=f"plan of {user}")
    rows, notes = export(org, "--survey", "1")
    assert rows == [] and notes == ("Survey 1 has 4 responses; exports start at 5, so none are written.",)
    answer_exit_slip(org, PEOPLE[4], try_=f"plan of {PEOPLE[4]}", useful="1", why="more examples")
    rows, notes = export(org, "--survey", "1")
    assert notes == ()
    assert len(rows) == 10 and {r["respondent"] for r in rows} == {""} and {r["mode"] for r in rows} == {"confidential"}
    assert {r["response"] for r in rows} == {""}  # answers are not tied to each other across questions
    assert sorted(r["answer"] for r in rows if r["question"] == "try") == sorted(f"plan of {u}" for u in PEOPLE[:5])
    assert "more examples" not in str(rows)  # a question only one person answered stays withheld, as in results
    with pytest.raises(ExportRefused, match="there is no survey 9"):
        export(org, "--survey", "9")

    org.chat("lopez").say(f"/survey send exit_slip to {TO_ALL} named")
    for user in PEOPLE[:5]:
        answer_exit_slip(org, user, try_=f"named plan of {user}", survey=2)
    every, notes = export(org)  # every survey
    named = [r for r in every if r["survey"] == 2]
    assert {r["respondent"] for r in named} >= {"Dana Kim"} and all(isinstance(r["response"], int) for r in named)
    assert len([r for r in every if r["survey"] == 1]) == 10


def test_a_recurring_pulse_goes_out_on_its_day_as_a_survey_of_its_own(org: Org) -> None:  # noqa: F811
    said = org.chat("ames").say("/survey pulse pulse to @kim @reyes every other Friday 2pm anonymous for 3 days")
    assert "goes to 2 people every other Friday, first Fri Nov 27" in said or "every other Friday" in said
    org.walk_to(datetime(2026, 12, 5, 0, 0, tzinfo=UTC), step=timedelta(hours=1))
    invites = [item for item in org.inbox.take() if "Staff pulse" in item.text]
    assert sorted(item.to for item in invites) == ["kim", "reyes"]
    assert "anonymous" in invites[0].text


def test_odd_digits_and_huge_numbers_are_not_survey_numbers(org: Org) -> None:  # noqa: F811
    chat = org.chat("lopez")
    assert 'I don\'t know "/survey ²"' in chat.say("/survey ²")
    assert "Which survey?" in chat.say("/survey answer ²")
    assert "Which survey?" in chat.say("/survey results 99999999999999999999999")


def test_a_guest_cannot_send_or_set_up_a_pulse_and_is_told_who_can(org: Org, db) -> None:  # noqa: F811
    """Someone not on the roster (they have only chatted with the bot) is told who may send; nothing is saved."""
    guest = org.chat("visitor")
    said = guest.say("/survey send exit_slip to @kim confidential")
    assert said == (
        "Only people on the roster, with a role (teacher, evaluator, plc_lead, facilitator, partnership_lead, "
        "admin), can send surveys, and you are not on it. Ask a district admin to add you (growthbot roster "
        "import). You can still answer surveys sent to you: type /survey."
    )
    said = guest.say("/survey pulse pulse to @kim every Friday 2pm")
    assert (
        "with a role (teacher, evaluator, plc_lead, facilitator, partnership_lead, admin), can set up a pulse" in said
    )
    org.ticker.tick()
    assert org.inbox.take() == []
    with unit_of_work(db) as repos:
        assert repos.surveys.all_in() == []
        assert repos.session.scalars(select(Schedule).where(Schedule.kind == "survey.pulse")).all() == []
        visitor = repos.session.scalars(select(Person).where(Person.platform_user_id == "visitor")).one()
        visitor.roles = ["teacher"]  # put on the roster
    assert "Survey #1: Session exit slip (confidential) goes to 1 person now" in guest.say(
        "/survey send exit_slip to @kim confidential"
    )
