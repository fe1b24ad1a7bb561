"""Whole goal-coach dialogs as typed at the terminal, on SQLite and PostgreSQL.

Each test checks both what the person reads and what ends up stored (export rows, conversation rows).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from handlers.messages import Outbound, Reply
from handlers.router import Bot
from scheduling.clock import FakeClock
from storage.database import Database
from storage.models import ProcessedEvent
from storage.unit_of_work import Conversations, unit_of_work
from tests.conftest import IDLE_DAYS, NOW, test_settings
from tests.harness import (
    GOOD_ANSWERS,
    GOOD_GOAL,
    STEPS,
    Chat,
    asks,
    conversations_of,
    goals_of,
    open_conversation,
    render,
)

STATEMENT = (
    "By June 15, 2027, my 4th graders will read grade-level text fluently and with understanding, "
    "so that students below benchmark close at least half the gap in reading fluency, as measured by "
    "the share of students at benchmark on the DIBELS fluency probe (from 38% to 70%), through daily "
    "20-minute guided reading groups and weekly fluency checks.\n"
    "Benchmarks: January 29, 2027 (winter fluency probe); March 31, 2027 (running records for my focus "
    "group).\n"
    "Supports: School improvement plan goal 2: early literacy."
)
IDLE = timedelta(days=IDLE_DAYS + 1)


def the_goal(db: Database, user: str = "alice") -> dict:
    goals = goals_of(db, user)
    assert len(goals) == 1, goals
    return goals[0]


def at_review(chat: Chat) -> str:
    chat.start_goal()
    return chat.answer_through("alignment")


def count_events(db: Database) -> int:
    with unit_of_work(db) as repos:
        return repos.session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0


def render_messages(messages: list[Outbound]) -> str:
    return render(Reply(messages=messages))


# -- the happy path ------------------------------------------------------------------------------------


def test_a_complete_dialog_saves_the_goal_with_every_field(chat: Chat, db: Database) -> None:
    opening = chat.start_goal()
    assert opening.startswith("Let's draft a S.M.A.R.T. goal together")
    assert asks(opening, "goal_type")
    assert "1. Student learning\n  2. Professional practice\n  3. Team" in opening

    for step, following in zip(STEPS, [*STEPS[1:], "review"], strict=True):
        reply = chat.say(GOOD_ANSWERS[step])
        assert asks(reply, following), (step, reply)
        assert "coaching note" not in reply
    assert STATEMENT in reply

    saved = chat.say("1")
    assert saved.startswith("Saved as goal #1:\n" + STATEMENT)
    assert "/goal edit 1" in saved

    goal = the_goal(db)
    assert {name: goal[name] for name in GOOD_GOAL} == GOOD_GOAL
    assert goal["statement"] == STATEMENT
    assert goal["status"] == "saved"
    assert (goal["id"], goal["platform"], goal["workspace_id"], goal["user_id"]) == (1, "console", "local", "alice")
    assert goal["created_at"] == NOW.isoformat()

    [conversation] = conversations_of(db)
    assert (conversation.status, conversation.result_ref) == ("saved", 1)
    assert chat.say("hello").startswith("I'm not in the middle of anything with you")


def test_goal_list_and_show(chat: Chat) -> None:
    assert chat.say("/goal list") == "You have no goals yet. Use /goal to draft your first one."
    chat.complete_goal()
    listing = chat.say("/goal list")
    assert listing.startswith("Your goals:\n#1 [saved] Student learning, by June 15, 2027: my 4th graders will")
    shown = chat.say("/goal show 1")
    assert shown.startswith("Goal #1 (Student learning, saved)\n" + STATEMENT)
    assert f"Data reviewed: {GOOD_ANSWERS['data_reviewed']}" in shown
    assert chat.say("/goal show #1") == shown


def test_goal_show_names_the_alignment_once(chat: Chat) -> None:
    """Regression: goals/show.j2 repeated the "Supports:" line the statement already ends with."""
    chat.complete_goal()
    shown = chat.say("/goal show 1")
    assert shown.count("Supports:") == 1
    assert f"Supports: {GOOD_ANSWERS['alignment']}." in shown


def test_choices_by_name_and_alignment_skipped(chat: Chat, db: Database) -> None:
    chat.start_goal()
    assert asks(chat.say("Professional practice."), "data_reviewed")
    for step in STEPS[1:-1]:
        chat.say(GOOD_ANSWERS[step])
    review = chat.say("skip")  # alignment is the one skippable step
    assert asks(review, "review")
    assert "Supports:" not in review
    assert chat.say("save").startswith("Saved as goal #1")
    goal = the_goal(db)
    assert goal["alignment"] is None
    assert goal["goal_type"] == "professional_practice"


# -- coaching ------------------------------------------------------------------------------------------


def test_coaching_tip_then_keep_uses_the_answer(chat: Chat, db: Database) -> None:
    chat.start_goal()
    chat.answer_through("data_reviewed")
    coached = chat.say("improve")
    assert coached.startswith("A coaching note before we move on:")
    assert '"improve" on its own is vague' in coached
    assert "This is quite short" in coached
    assert coached.endswith("Type a revised answer, or type keep to use what you wrote.")
    conversation = open_conversation(db)
    assert conversation is not None
    assert conversation.step == "specific"
    assert "specific" not in conversation.answers

    assert asks(chat.say("keep"), "measurable")
    conversation = open_conversation(db)
    assert conversation is not None
    assert conversation.answers["specific"] == "improve"
    assert conversation.pending is None


def test_coaching_tip_then_a_revised_answer(chat: Chat, db: Database) -> None:
    chat.start_goal()
    chat.answer_through("specific")
    assert "I can't find a measure here" in chat.say("students will read better")
    assert "Add where you start and where you aim to be" in chat.say("70% at benchmark")
    assert asks(chat.say(GOOD_ANSWERS["measurable"]), "action")
    conversation = open_conversation(db)
    assert conversation is not None
    assert conversation.answers["measurable"] == GOOD_ANSWERS["measurable"]


def test_keep_without_a_tip_is_just_an_answer(chat: Chat, db: Database) -> None:
    chat.start_goal()
    chat.answer_through("goal_type")
    assert "That's brief for the data" in chat.say("keep")  # "keep" is coached like any short answer
    assert asks(chat.say("keep"), "specific")
    conversation = open_conversation(db)
    assert conversation is not None
    assert conversation.answers["data_reviewed"] == "keep"


# -- review, revise, back, help, cancel ----------------------------------------------------------------


def test_revise_a_part_from_the_review_then_save(chat: Chat, db: Database) -> None:
    assert asks(at_review(chat), "review")
    picker = chat.say("2")
    assert asks(picker, "revise_pick")
    assert "3. Specific & Strategic" in picker
    assert asks(chat.say("3"), "specific")
    new_specific = "my 4th grade ELL students will read grade-level science text fluently"
    review = chat.say(new_specific)
    assert asks(review, "review")
    assert f"By June 15, 2027, {new_specific}, so that" in review

    saved = chat.say("Save")
    assert saved.startswith("Saved as goal #1:")
    goal = the_goal(db)
    assert goal["specific"] == new_specific
    assert new_specific in goal["statement"]
    assert GOOD_ANSWERS["specific"] not in goal["statement"]
    assert {k: goal[k] for k in GOOD_GOAL if k != "specific"} == {k: v for k, v in GOOD_GOAL.items() if k != "specific"}


def test_revising_the_date_before_the_benchmarks_asks_for_benchmarks_again(chat: Chat, db: Database) -> None:
    at_review(chat)
    chat.say("Revise a part")
    chat.say("Completion date")
    again = chat.say("February 15, 2027")
    assert asks(again, "benchmarks")
    assert "a date before February 15, 2027" in again
    assert "falls on or after your completion date" in chat.say("March 31: running records")
    assert asks(chat.say("Jan 29: winter fluency probe"), "review")
    chat.say("1")
    goal = the_goal(db)
    assert goal["completion_date"] == "2027-02-15"
    assert goal["benchmarks"] == [{"date": "2027-01-29", "check": "winter fluency probe"}]


def test_back_cannot_leave_a_goal_without_benchmarks(chat: Chat, db: Database) -> None:
    """Regression: `back` at the re-asked benchmarks used to jump to the review and save none."""
    at_review(chat)
    chat.say("2")
    chat.say("7")
    assert asks(chat.say("February 15, 2027"), "benchmarks")
    still = chat.say("back")
    assert not asks(still, "review")
    assert asks(still, "benchmarks")
    assert "still needed" in still
    assert asks(chat.say("Jan 29: winter fluency probe"), "review")
    assert chat.say("1").startswith("Saved as goal #1")
    goal = the_goal(db)
    assert (goal["completion_date"], goal["benchmarks"]) == (
        "2027-02-15",
        [{"date": "2027-01-29", "check": "winter fluency probe"}],
    )


def test_back_from_a_revision_returns_to_the_review_unchanged(chat: Chat, db: Database) -> None:
    at_review(chat)
    chat.say("2")
    chat.say("4")
    review = chat.say("back")
    assert asks(review, "review")
    assert STATEMENT in review
    chat.say("1")
    assert the_goal(db)["statement"] == STATEMENT


def test_back_goes_to_the_previous_question(chat: Chat, db: Database) -> None:
    chat.start_goal()
    at_start = chat.say("back")
    assert at_start.startswith("This is the first question, so there is nothing to go back to.")
    assert asks(at_start, "goal_type")
    chat.answer_through("specific")
    assert asks(chat.say("back"), "specific")
    assert asks(chat.say("/back"), "data_reviewed")
    assert asks(chat.say(GOOD_ANSWERS["data_reviewed"]), "specific")
    new_specific = "my 4th graders in the reading group will read aloud with expression"
    assert asks(chat.say(new_specific), "measurable")
    conversation = open_conversation(db)
    assert conversation is not None
    assert conversation.answers["specific"] == new_specific


def test_back_clears_a_pending_tip(chat: Chat, db: Database) -> None:
    chat.start_goal()
    chat.answer_through("data_reviewed")
    chat.say("improve")
    chat.say("back")
    assert asks(chat.say(GOOD_ANSWERS["data_reviewed"]), "specific")
    assert "coaching note" in chat.say("keep")  # no tip to keep any more; "keep" is a (short) answer


def test_help_explains_and_stays_on_the_question(chat: Chat, db: Database) -> None:
    chat.start_goal()
    chat.answer_through("specific")
    helped = chat.say("help")
    assert helped.startswith("Name the measure (a score, a percentage, a count, a rubric level)")
    assert chat.say("?") == helped
    conversation = open_conversation(db)
    assert conversation is not None
    assert conversation.step == "measurable"


@pytest.mark.parametrize("word", ["cancel", "/cancel", "Cancel."])
def test_cancel_saves_nothing(chat: Chat, db: Database, word: str) -> None:
    chat.start_goal()
    chat.answer_through("results")
    assert chat.say(word).startswith("This draft has answers you typed. Type cancel again to discard it")
    assert open_conversation(db) is not None
    assert chat.say(word) == "Cancelled. This draft was discarded. Use /goal whenever you want to start again."
    assert goals_of(db) == []
    assert open_conversation(db) is None
    assert [c.status for c in conversations_of(db)] == ["cancelled"]
    assert chat.say(GOOD_ANSWERS["completion_date"]).startswith("I'm not in the middle of anything")
    assert goals_of(db) == []


def test_cancel_from_the_review(chat: Chat, db: Database) -> None:
    at_review(chat)
    assert chat.say("3").startswith("Cancelled. This draft was discarded.")
    assert goals_of(db) == []


def test_a_second_goal_while_one_is_open_continues_the_open_one(chat: Chat, db: Database) -> None:
    chat.start_goal()
    chat.answer_through("data_reviewed")
    reply = chat.say("/goal")
    assert reply.startswith("You already have a goal draft open.")
    assert asks(reply, "specific")
    assert len(conversations_of(db)) == 1
    assert asks(chat.say(GOOD_ANSWERS["specific"]), "measurable")


# -- restart -------------------------------------------------------------------------------------------


def test_a_restarted_bot_resumes_mid_dialog(chat: Chat, db: Database, clock: FakeClock) -> None:
    chat.start_goal()
    chat.answer_through("measurable")
    clock.advance(timedelta(hours=20))
    restarted = Chat(Bot(db, clock, test_settings()))
    assert asks(restarted.say(GOOD_ANSWERS["action"]), "results")
    for step in STEPS[STEPS.index("results") :]:
        restarted.say(GOOD_ANSWERS[step])
    assert restarted.say("1").startswith("Saved as goal #1:\n" + STATEMENT)
    goal = the_goal(db)
    assert {name: goal[name] for name in GOOD_GOAL} == GOOD_GOAL


# -- /goal edit and other people -----------------------------------------------------------------------


def test_edit_a_saved_goal_updates_the_same_goal(chat: Chat, db: Database, clock: FakeClock) -> None:
    chat.complete_goal()
    clock.advance(timedelta(days=3))
    reopened = chat.say("/goal edit 1")
    assert reopened.startswith("Reopened goal #1. Nothing changes until you choose Save.")
    assert "Here is your draft (goal #1):" in reopened
    assert STATEMENT in reopened
    chat.say("2")
    assert asks(chat.say("5"), "action")
    new_action = "I will confer with each reader weekly and run guided reading groups"
    assert "through conferring with each reader weekly and running guided reading groups." in chat.say(new_action)
    assert chat.say("1").startswith("Saved as goal #1:")

    goal = the_goal(db)
    assert goal["id"] == 1
    assert goal["action"] == new_action
    assert "through conferring with each reader weekly and running guided reading groups." in goal["statement"]
    assert goal["created_at"] == NOW.isoformat()
    assert goal["status"] == "saved"
    assert chat.say("/goal list").count("#1 [saved]") == 1


def test_cancelling_an_edit_keeps_the_saved_goal(chat: Chat, db: Database) -> None:
    chat.complete_goal()
    before = the_goal(db)
    chat.say("/goal edit 1")
    chat.say("2")
    chat.say("3")
    assert chat.say("cancel").startswith("Cancelled. Goal #1 stays as it was")
    assert the_goal(db) == before


def test_another_user_cannot_show_or_edit_alices_goal(chat: Chat, bot: Bot, db: Database) -> None:
    chat.complete_goal()
    before = the_goal(db)
    bob = Chat(bot, user="bob")
    assert bob.say("/goal show 1") == "You have no goal #1. /goal list shows your goals and their numbers."
    assert bob.say("/goal edit 1") == "You have no goal #1. /goal list shows your goals and their numbers."
    assert bob.say("/goal list") == "You have no goals yet. Use /goal to draft your first one."
    assert open_conversation(db, "bob") is None
    assert bob.say("1").startswith("I'm not in the middle of anything")
    assert the_goal(db) == before
    assert goals_of(db, "bob") == []


def test_bob_and_alice_draft_at_the_same_time(chat: Chat, bot: Bot, db: Database) -> None:
    bob = Chat(bot, user="bob")
    chat.start_goal()
    bob.start_goal()
    chat.say("1")
    bob.say("3")
    for step in STEPS[1:]:
        chat.say(GOOD_ANSWERS[step])
        bob.say(GOOD_ANSWERS[step])
    chat.say("1")
    bob.say("1")
    assert the_goal(db, "alice")["goal_type"] == "student_learning"
    assert the_goal(db, "bob")["goal_type"] == "team"
    assert bob.say("/goal show 2").startswith("Goal #2 (Team, saved)")
    assert chat.say("/goal show 2").startswith("You have no goal #2.")


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        ("/goal show", "Which goal? Type /goal show followed by its number"),
        ("/goal edit abc", "Which goal? Type /goal edit followed by its number"),
        ("/goal show 99", "You have no goal #99."),
        ("/goal show 99999999999999999999", "Which goal? Type /goal show followed by its number"),
        ("/goal frobnicate", 'I don\'t know "/goal frobnicate". Use /goal to start a goal'),
        ("/goal help", "Use /goal to start a goal, /goal check followed by a goal you already have, /goal list,"),
        ("/frobnicate", "I don't know the command frobnicate. Try /goal, /observe, "),
    ],
)
def test_command_mistakes(chat: Chat, db: Database, command: str, reply: str) -> None:
    assert chat.say(command).startswith(reply)
    assert conversations_of(db) == []
    assert goals_of(db) == []


def test_an_unknown_command_mid_dialog_leaves_the_dialog_alone(chat: Chat, db: Database) -> None:
    chat.start_goal()
    chat.answer_through("specific")
    assert chat.say("/frobnicate").startswith("I don't know the command frobnicate.")
    conversation = open_conversation(db)
    assert conversation is not None
    assert conversation.step == "measurable"
    assert asks(chat.say(GOOD_ANSWERS["measurable"]), "action")


# -- idle drafts ---------------------------------------------------------------------------------------


def test_an_idle_draft_is_kept_by_the_sweep_and_resumed_by_edit(
    chat: Chat, bot: Bot, db: Database, clock: FakeClock
) -> None:
    chat.start_goal()
    chat.answer_through("specific")
    clock.advance(IDLE)
    [kept] = bot.expire_idle()
    assert render_messages(kept.messages) == (
        "Your goal draft sat idle too long, so I set it aside as draft goal #1 with every answer you gave. "
        "Use /goal edit 1 to pick it up again."
    )
    draft = the_goal(db)
    assert draft["status"] == "draft"
    assert draft["statement"] is None
    assert {k: draft[k] for k in ("goal_type", "data_reviewed", "specific")} == {
        k: GOOD_GOAL[k] for k in ("goal_type", "data_reviewed", "specific")
    }
    assert draft["measurable"] is None
    assert draft["benchmarks"] == []
    assert [(c.status, c.result_ref) for c in conversations_of(db)] == [("expired", 1)]
    assert chat.say("/goal list").startswith("Your goals:\n#1 [draft] Student learning: my 4th graders")

    reopened = chat.say("/goal edit 1")
    assert reopened.startswith("Reopened draft goal #1.")
    assert asks(reopened, "measurable")
    for step in STEPS[STEPS.index("measurable") :]:
        chat.say(GOOD_ANSWERS[step])
    assert chat.say("1").startswith("Saved as goal #1:\n" + STATEMENT)
    goal = the_goal(db)
    assert {name: goal[name] for name in GOOD_GOAL} == GOOD_GOAL
    assert goal["status"] == "saved"


def test_expire_idle_keeps_the_draft_and_tells_the_person(chat: Chat, bot: Bot, db: Database, clock: FakeClock) -> None:
    chat.start_goal()
    chat.answer_through("completion_date")
    clock.advance(timedelta(days=IDLE_DAYS) - timedelta(seconds=1))
    assert bot.expire_idle() == []
    clock.advance(timedelta(seconds=1))
    [delivery] = bot.expire_idle()
    assert (delivery.platform, delivery.workspace, delivery.channel, delivery.user_id) == (
        "console",
        "local",
        "console:alice",
        "alice",
    )
    assert render_messages(delivery.messages).startswith("Your goal draft sat idle too long")
    assert bot.expire_idle() == []

    draft = the_goal(db)
    assert draft["status"] == "draft"
    assert draft["completion_date"] == "2027-06-15"
    assert draft["benchmarks"] == []
    assert chat.say("hello").startswith("I'm not in the middle of anything")
    assert asks(chat.say("/goal edit 1"), "benchmarks")


def test_an_answer_to_an_idle_draft_not_yet_swept_is_recorded_not_lost(
    chat: Chat, db: Database, clock: FakeClock
) -> None:
    chat.start_goal()
    chat.answer_through("specific")
    clock.advance(IDLE)
    assert asks(chat.say(GOOD_ANSWERS["measurable"]), "action")
    conversation = open_conversation(db)
    assert conversation is not None
    assert conversation.answers["measurable"] == GOOD_ANSWERS["measurable"]
    assert goals_of(db) == []


def test_each_message_restarts_the_idle_period(chat: Chat, db: Database, clock: FakeClock) -> None:
    chat.start_goal()
    for step in STEPS[:4]:
        clock.advance(timedelta(days=IDLE_DAYS - 1))
        assert "sat idle" not in chat.say(GOOD_ANSWERS[step])
    conversation = open_conversation(db)
    assert conversation is not None
    assert conversation.step == "action"
    assert goals_of(db) == []


def test_an_idle_draft_with_no_answers_is_closed_without_a_goal(
    chat: Chat, bot: Bot, db: Database, clock: FakeClock
) -> None:
    chat.start_goal()
    clock.advance(IDLE)
    [delivery] = bot.expire_idle()
    assert render_messages(delivery.messages).startswith("Your goal draft sat idle before you answered anything")
    assert goals_of(db) == []
    assert [c.status for c in conversations_of(db)] == ["expired"]


def test_an_idle_edit_of_a_saved_goal_leaves_it_saved(chat: Chat, bot: Bot, db: Database, clock: FakeClock) -> None:
    chat.complete_goal()
    before = the_goal(db)
    chat.say("/goal edit 1")
    chat.say("2")
    chat.say("3")
    clock.advance(IDLE)
    [delivery] = bot.expire_idle()
    assert render_messages(delivery.messages).startswith("Your edit of goal #1 sat idle too long")
    assert the_goal(db) == before
    assert "already saved" not in chat.say("something else entirely")


def test_goal_after_an_idle_draft_keeps_the_draft_and_starts_afresh(chat: Chat, db: Database, clock: FakeClock) -> None:
    """Regression: /goal used to call an idle (not yet swept) draft "already open"; the next answer then
    expired it and was lost."""
    chat.start_goal()
    chat.answer_through("data_reviewed")
    clock.advance(IDLE)
    reply = chat.say("/goal")
    assert "already have a goal draft open" not in reply
    assert reply.startswith("Your goal draft sat idle too long, so I set it aside as draft goal #1")
    assert "Let's draft a S.M.A.R.T. goal together" in reply
    assert asks(reply, "goal_type")
    draft = the_goal(db)
    assert draft["status"] == "draft"
    assert (draft["goal_type"], draft["data_reviewed"]) == ("student_learning", GOOD_ANSWERS["data_reviewed"])
    assert [c.status for c in conversations_of(db)] == ["expired", "open"]
    assert asks(chat.say("2"), "data_reviewed")  # the new draft takes answers; the old one is untouched
    assert the_goal(db) == draft


def test_cancelling_the_edit_of_a_draft_tells_the_truth(chat: Chat, bot: Bot, db: Database, clock: FakeClock) -> None:
    """Regression: cancelling the edit of a draft goal said "This draft was discarded" but kept it."""
    chat.start_goal()
    chat.answer_through("specific")
    clock.advance(IDLE)
    bot.expire_idle()
    draft = the_goal(db)
    assert chat.say("/goal edit 1").startswith("Reopened draft goal #1.")
    chat.say(GOOD_ANSWERS["measurable"])
    reply = chat.say("cancel")
    assert the_goal(db) == draft  # the draft is still there, without the answer given during the edit...
    assert "discarded" not in reply  # ...so the reply must not say it is gone
    assert reply.startswith("Cancelled. Goal #1 stays as it was")


# -- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("line", ["", "   ", "\t"])
def test_an_empty_message_asks_again(chat: Chat, db: Database, line: str) -> None:
    chat.start_goal()
    chat.answer_through("goal_type")
    assert chat.say(line) == "I didn't get any text. Please type your answer (help for an example, cancel to stop)."
    conversation = open_conversation(db)
    assert conversation is not None
    assert (conversation.step, "data_reviewed" in conversation.answers) == ("data_reviewed", False)


def test_an_empty_message_at_a_skippable_step_mentions_skip(chat: Chat) -> None:
    chat.start_goal()
    chat.answer_through("benchmarks")
    assert ", or type skip" in chat.say("")


def test_a_5000_character_answer_is_refused_and_not_stored(chat: Chat, db: Database) -> None:
    chat.start_goal()
    chat.answer_through("data_reviewed")
    answer = ("my students will read well " * 200)[:4999] + "!"
    assert len(answer) == 5000
    reply = chat.say(answer)
    assert reply.startswith("That answer is 5000 characters; please keep it under 2000.")
    conversation = open_conversation(db)
    assert conversation is not None
    assert conversation.step == "specific"
    assert "specific" not in conversation.answers
    assert conversation.pending is None


def test_a_2000_character_answer_is_stored_whole(chat: Chat, db: Database, clock: FakeClock) -> None:
    long_specific = ("my 4th graders will read grade-level text fluently " * 40)[:2000]
    assert len(long_specific.strip()) == 2000
    chat.complete_goal(specific=long_specific)
    assert the_goal(db)["specific"] == long_specific


def test_emoji_answers_are_kept_verbatim(chat: Chat, db: Database) -> None:
    chat.start_goal()
    assert chat.say("🙂").startswith("Please pick one of the options")
    specific = "my 4th graders 📚 will read grade-level text fluently 🎉 — ñ, 中文, עברית"
    chat.answer_through("specific", specific=specific)
    assert "I can't find a measure here" in chat.say("🚀🚀🚀")
    chat.say("keep")
    for step in STEPS[STEPS.index("action") :]:
        chat.say(GOOD_ANSWERS[step])
    assert "🚀🚀🚀" in chat.say("1")
    goal = the_goal(db)
    assert goal["specific"] == specific
    assert goal["measurable"] == "🚀🚀🚀"
    assert specific in goal["statement"]


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        ("June 15, 2026", "Mon, June 15, 2026 is not in the future. Please give a date after today."),
        ("11/23/2026", "Mon, November 23, 2026 is not in the future. Please give a date after today."),
        (
            "31/31/2026",
            '"31/31/2026" is not a real date: months run from 1 to 12 and dates are read month first, '
            "like 6/15/2027. Please type the date again.",
        ),
        ("2/30/2027", '"2/30/2027" is not a real date: February 2027 has 28 days. Please type the date again.'),
        ("someday 🙂", "I couldn't find a date in that."),
    ],
)
def test_a_bad_completion_date_is_refused(chat: Chat, db: Database, line: str, reply: str) -> None:
    chat.start_goal()
    chat.answer_through("results")
    assert chat.say(line).startswith(reply)
    conversation = open_conversation(db)
    assert conversation is not None
    assert conversation.step == "completion_date"
    assert "completion_date" not in conversation.answers
    assert asks(chat.say("June 15, 2027"), "benchmarks")


def test_day_zero_is_refused_as_not_a_real_date(chat: Chat) -> None:
    """Regression: "6/0" used to raise ValueError, and the person read "something went wrong"."""
    chat.start_goal()
    chat.answer_through("results")
    assert "is not a real date" in chat.say("6/0")


def test_today_is_read_in_the_persons_time_zone(chat: Chat, bot: Bot, db: Database, clock: FakeClock) -> None:
    clock.set(NOW.replace(day=24, hour=3))  # 2026-11-24 03:00 UTC is still the 23rd in New York
    chat.start_goal()
    chat.answer_through("results")
    assert asks(chat.say("11/24/2026"), "benchmarks")
    tokyo = Chat(bot, user="kenji", time_zone="Asia/Tokyo")  # already the 24th in Tokyo
    tokyo.start_goal()
    tokyo.answer_through("results")
    assert tokyo.say("11/24/2026").startswith("Tue, November 24, 2026 is not in the future.")


@pytest.mark.parametrize("line", ["hello", "1", "🙂", "", "keep", "cancel", "back"])
def test_a_message_without_an_open_conversation(chat: Chat, db: Database, line: str) -> None:
    assert chat.say(line).startswith("I'm not in the middle of anything with you right now.")
    assert conversations_of(db) == []
    assert goals_of(db) == []


def test_help_without_an_open_conversation_lists_what_the_bot_does(chat: Chat) -> None:
    assert chat.say("help").startswith("Here is what I can do:")
    assert chat.say("/help").startswith("Here is what I can do:")


# -- redelivery, retries and crashes -------------------------------------------------------------------


def test_a_repeated_event_key_has_no_effect(chat: Chat, db: Database) -> None:
    chat.start_goal()
    chat.answer_through("data_reviewed")
    specific = chat.inbound(GOOD_ANSWERS["specific"], event_key="Ev-1")
    assert asks(chat.say(specific), "measurable")
    assert chat.send(specific).messages == []
    assert count_events(db) == 1
    conversation = open_conversation(db)
    assert conversation is not None
    assert conversation.step == "measurable"  # a second recording would have answered `measurable`
    assert "measurable" not in conversation.answers
    assert asks(chat.say(chat.inbound(GOOD_ANSWERS["measurable"], event_key="Ev-2")), "action")


def test_a_repeated_event_key_cannot_save_twice(chat: Chat, db: Database) -> None:
    at_review(chat)
    save = chat.inbound("1", event_key="Ev-save")
    assert chat.say(save).startswith("Saved as goal #1")
    assert chat.say(save) == ""
    assert len(goals_of(db)) == 1


def test_a_crash_records_nothing_and_the_redelivery_is_handled(
    chat: Chat, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_review(chat)
    real_flush = Conversations.flush
    calls = {"n": 0}

    def crash_once(self: Conversations) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("disk on fire")
        real_flush(self)

    monkeypatch.setattr(Conversations, "flush", crash_once)
    save = chat.inbound("1", event_key="Ev-crash")
    sorry = chat.say(save)
    assert sorry.startswith("Sorry, something went wrong on my side and your last message was not recorded.")
    assert goals_of(db) == []
    assert count_events(db) == 0
    conversation = open_conversation(db)
    assert conversation is not None
    assert conversation.step == "review"

    assert chat.say(save).startswith("Saved as goal #")  # PostgreSQL does not hand back a rolled-back id
    assert len(goals_of(db)) == 1
    assert count_events(db) == 1


def test_a_stale_conversation_is_retried_once_and_recorded_once(
    chat: Chat, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat.start_goal()
    chat.answer_through("goal_type")
    real_flush = Conversations.flush
    calls = {"n": 0}

    def stale_once(self: Conversations) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise StaleDataError("changed under us")
        real_flush(self)

    monkeypatch.setattr(Conversations, "flush", stale_once)
    assert asks(chat.say(chat.inbound(GOOD_ANSWERS["data_reviewed"], event_key="Ev-stale")), "specific")
    assert calls["n"] == 2
    assert count_events(db) == 1
    conversation = open_conversation(db)
    assert conversation is not None
    assert conversation.answers["data_reviewed"] == GOOD_ANSWERS["data_reviewed"]
    assert conversation.step == "specific"


def test_a_conversation_that_keeps_changing_gives_up_politely(
    chat: Chat, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat.start_goal()

    def always_stale(self: Conversations) -> None:
        raise StaleDataError("changed under us")

    monkeypatch.setattr(Conversations, "flush", always_stale)
    assert chat.say("1").startswith("Sorry, something went wrong on my side")
    monkeypatch.undo()
    conversation = open_conversation(db)
    assert conversation is not None
    assert conversation.step == "goal_type"
