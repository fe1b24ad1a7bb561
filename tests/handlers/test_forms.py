"""Neutral forms in the terminal: one question at a time, back/skip/keep/cancel, a review, and one check path.

A test-only feature carries a form with every field kind, so the form machinery is pinned without
depending on any real feature's questions; `/settings` is the real form users meet first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handlers.engine import CheckContext, Problem
from handlers.features import Command, Feature, Invocation, Setup
from handlers.forms import FormResult, FormSpec, Submission, check_form, read_field
from handlers.messages import Choice, Form, FormField, Outbound, Reply
from handlers.registry import FEATURES
from handlers.router import Bot
from scheduling.clock import FakeClock
from storage.database import Database
from storage.unit_of_work import unit_of_work
from tests.conftest import test_settings
from tests.handlers.observations.test_observe_dialogs import Org, org  # noqa: F401  (the org fixture)
from tests.harness import Chat, open_conversation

SAVED: list[dict[str, Any]] = []

EVERY_KIND = Form(
    id="sampler",
    title="Sampler",
    intro="One of each kind of question.",
    submit="Send it",
    fields=[
        FormField(name="name", kind="short_text", label="Your name?", max_length=20),
        FormField(name="notes", kind="long_text", label="Anything else?", required=False),
        FormField(name="count", kind="number", label="How many students?", min=0, max=40),
        FormField(name="day", kind="date", label="Which day?"),
        FormField(name="at", kind="time", label="What time?"),
        FormField(name="color", kind="single_choice", label="Which colour?",
                  options=[Choice(label="Red", value="red"), Choice(label="Blue", value="blue")]),
        FormField(name="tags", kind="multiple_choice", label="Which tags?",
                  options=[Choice(label="Math", value="math"), Choice(label="Reading", value="reading"),
                           Choice(label="Science", value="science")]),
        FormField(name="stars", kind="rating", label="How useful, 1 to 5?", scale=5),
        FormField(name="agree", kind="likert", label="I will use this.", default="agree",
                  options=[Choice(label="Disagree", value="disagree"), Choice(label="Agree", value="agree")]),
    ],
)  # fmt: skip


def no_more_than_count(values: dict[str, Any], _ctx: CheckContext) -> dict[str, Problem]:
    if values.get("stars") == "1" and values.get("count", 0) > 30:
        return {"count": Problem("forms/errors/number_range", {"low": "0", "high": "30", "got": values["count"]})}
    return {}


def sampler(setup: Setup) -> Feature:
    """A ten-line feature, as docs/ARCHITECTURE.md shows: one command that opens one form."""

    def submit(submission: Submission) -> FormResult:
        SAVED.append(submission.values)
        return FormResult(messages=[Outbound(template="forms/already_submitted")])

    def run(invocation: Invocation) -> Reply:
        return setup.port.open_form(invocation.repos, invocation, "sampler", {})

    spec = FormSpec(id="sampler", submit=submit, words=EVERY_KIND, cross_check=no_more_than_count)
    return Feature(name="sampler", commands=(Command("sample", "try every kind of question", "", run),), forms=(spec,))


@pytest.fixture
def chat(db: Database, clock: FakeClock) -> Chat:
    SAVED.clear()
    return Chat(Bot(db, clock, test_settings(), features=(*FEATURES, sampler)))


def answer_all(chat: Chat, start: str = "name", **changes: str) -> str:
    """Answer from the question `start` to the last; returns the reply to the last answer (the review)."""
    answers = {"name": "Ana", "notes": "skip", "count": "24", "day": "Dec 3", "at": "3:15pm", "color": "2",
               "tags": "1, 3", "stars": "4", "agree": "keep", **changes}  # fmt: skip
    names = list(answers)
    reply = ""
    for name in names[names.index(start) :]:
        reply = chat.say(answers[name])
    return reply


def test_a_form_in_the_terminal_asks_each_question_then_reviews_before_submitting(chat: Chat) -> None:
    first = chat.say("/sample")
    assert "Sampler" in first and "(1 of 9) Your name?" in first
    review = answer_all(chat)
    assert "Please check Sampler" in review
    assert "- Which colour? Blue" in review and "- Which tags? Math, Science" in review
    assert "- I will use this. Agree" in review and "Anything else?" not in review  # skipped
    assert "1. Send it" in review
    assert SAVED == []  # nothing is submitted before the review says so
    chat.say("1")
    assert SAVED == [{"name": "Ana", "notes": None, "count": 24, "day": "2026-12-03", "at": "15:15",
                      "color": "blue", "tags": ["math", "science"], "stars": "4", "agree": "agree"}]  # fmt: skip
    assert open_conversation(chat.bot.db) is None


@pytest.mark.parametrize(
    ("step", "typed", "says"),
    [
        ("name", "x" * 21, "That is 21 characters; the limit is 20."),
        ("count", "lots", "Please type a number from 0 to 40"),
        ("count", "41", "41 is out of range: type a number from 0 to 40."),
        ("day", "someday", "I couldn't read that as a day. Type a date such as Nov 23"),
        ("at", "25:00", "I couldn't read that as a time. Type a time such as 3:15pm"),
        ("tags", "1, 7", "Please pick from: Math, Reading, Science."),
        ("stars", "6", "Please pick one of the options: type its number or its name."),
    ],
)
def test_each_bad_answer_says_what_to_type_and_the_question_stays(chat: Chat, step: str, typed: str, says: str) -> None:
    chat.say("/sample")
    order = [f.name for f in EVERY_KIND.fields]
    good = {"name": "Ana", "notes": "skip", "count": "24", "day": "Dec 3", "at": "3:15pm", "color": "2",
            "tags": "1, 3", "stars": "4"}  # fmt: skip
    for name in order[: order.index(step)]:
        chat.say(good[name])
    assert says in chat.say(typed)
    conversation = open_conversation(chat.bot.db)
    assert conversation is not None and conversation.step == step


def test_back_keep_change_and_cancel(chat: Chat) -> None:
    chat.say("/sample")
    chat.say("Ana")
    back = chat.say("back")
    assert "Your name?" in back and "Your answer was: Ana. Type keep to keep it." in back
    assert "Anything else?" in chat.say("keep")
    review = answer_all(chat, start="notes", notes="Bring exit tickets")
    assert "- Your name? Ana" in review and "- Anything else? Bring exit tickets" in review
    assert "Which answer would you like to change?" in chat.say("2")
    assert "Which colour?" in chat.say("Which colour?")
    assert "Please check Sampler" in chat.say("red")  # straight back to the review
    assert "Cancelled: Sampler. Nothing was saved." in chat.say("cancel")
    assert SAVED == [] and open_conversation(chat.bot.db) is None


def test_a_rule_across_answers_sends_the_person_back_to_the_question(chat: Chat) -> None:
    chat.say("/sample")
    review = answer_all(chat, count="35", stars="1")
    assert "Please check" in review
    again = chat.say("1")
    assert "35 is out of range: type a number from 0 to 30." in again and "How many students?" in again
    assert "Please check" in chat.say("12")
    chat.say("1")
    assert SAVED[0]["count"] == 12


def test_the_one_check_path_reads_modal_values_the_same_way() -> None:
    """What a modal sends (ISO dates, option values, lists) and what the terminal sends agree."""
    ctx = CheckContext(today=datetime(2026, 11, 23, tzinfo=UTC).date(), answers={})
    spec = FormSpec(id="sampler", submit=lambda s: FormResult(), words=EVERY_KIND)
    raw = {"name": "Ana", "count": "24", "day": "2026-12-03", "at": "15:15", "color": "blue",
           "tags": ["math", "science"], "stars": "4", "agree": "agree"}  # fmt: skip
    values, errors = check_form(spec, EVERY_KIND, raw, ctx)
    assert errors == {}
    assert values["day"] == "2026-12-03" and values["tags"] == ["math", "science"] and values["notes"] is None
    _values, errors = check_form(spec, EVERY_KIND, {**raw, "name": "", "count": "NaN"}, ctx)
    assert set(errors) == {"name", "count"}
    assert read_field(EVERY_KIND.field("count"), "inf", ctx).error is not None


# -- /settings -------------------------------------------------------------------------------------------


def test_settings_in_the_terminal_show_defaults_refuse_bad_answers_and_save(chat: Chat, db: Database) -> None:
    first = chat.say("/settings")
    assert "Which time zone are you in?" in first and "Type keep for: America/New_York." in first
    assert 'I don\'t know the time zone "Mars/Olympus"' in chat.say("Mars/Olympus")
    start = chat.say("pacific")
    assert "from what time may I message you?" in start and "Type keep for: 07:00." in start
    assert "Your answer was: America/Los_Angeles" in chat.say("back")
    chat.say("keep")
    chat.say("9:30am")
    assert "Please check Your settings" in chat.say("10am")
    too_short = chat.say("1")
    assert "Messages must be allowed for at least an hour" in too_short and "And until what time?" in too_short
    review = chat.say("3pm")
    assert "America/Los_Angeles" in review and "09:30" in review and "15:00" in review
    assert "between 09:30 and 15:00, America/Los_Angeles time" in chat.say("1")
    with unit_of_work(db) as repos:
        person = repos.people.find(repos.workspaces.ensure("console", "local", datetime.now(UTC)).id, "alice")
        assert person is not None
        assert (person.time_zone, person.quiet_start, person.quiet_end, person.zone_chosen) == (
            "America/Los_Angeles", "09:30", "15:00", True)  # fmt: skip
    assert "America/Los_Angeles" in chat.say("/settings show")  # the terminal's own zone no longer overrides it


def test_quiet_hours_set_in_settings_hold_a_notice_until_the_window_opens(org: Org) -> None:  # noqa: F811
    """Mon Nov 23, 08:00 in New York: Kim starts at 09:30 and hears then; Reyes hears at 07:00, his default, in LA."""
    kim = org.chat("kim")
    kim.say("/settings")
    for answer in ("keep", "9:30", "4pm", "1"):
        kim.say(answer)
    org.clock.set(datetime(2026, 11, 23, 13, 0, tzinfo=UTC))  # 08:00 New York, 05:00 Los Angeles
    lopez = org.chat("lopez")
    assert "Scheduled #1" in lopez.say("/observe @kim Dec 3 10am announced 30")
    assert "Scheduled #2" in lopez.say("/observe @reyes Dec 3 11am announced 30")
    org.walk_to(datetime(2026, 11, 23, 17, 0, tzinfo=UTC), step=timedelta(minutes=5))
    kim_notice = next(item for item in org.inbox.of("kim") if "will observe your class" in item.text)
    reyes_notice = next(item for item in org.inbox.of("reyes") if "will observe your class" in item.text)
    assert kim_notice.local.strftime("%H:%M") == "09:30"
    assert reyes_notice.at.astimezone(reyes_zone()).strftime("%H:%M") == "07:00"  # his own zone's default start


def reyes_zone():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("America/Los_Angeles")
