"""Whole-goal critique as a person meets it: `/goal check`, the "paste a goal" start, `growthbot goal check`,
and the coach's dialog details (prefixes, keep after back, a confirmed cancel, later parts read ahead)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from handlers.messages import Reply
from prompts import MRKDWN
from prompts import render as render_template
from storage.database import Database
from tests.conftest import NOW
from tests.harness import GOOD_ANSWERS, Chat, asks, conversations_of, goals_of, open_conversation

WELL_FORMED = (
    "By June 2027, 80% of my 3rd graders will read at grade level on the spring DIBELS, up from 55% this fall, "
    "through daily small-group phonics lessons I lead."
)
ELEMENT_LINES = ("S (Specific & Strategic):", "M (Measurable):", "A (Action-oriented):",
                 "R (Rigorous, Realistic & Results-focused):", "T (Timed & Tracked):")  # fmt: skip

BAD_INPUT = {
    "one word": "reading",
    "5,000 characters": (WELL_FORMED + " ") * 40,
    "bullets": (
        "- Who: my 9th grade Algebra 1 students\n- What: solve multi-step linear equations\n"
        "- Measure: unit test, from 45% to 75% proficient\n"
        "- How: I will teach worked examples and daily retrieval practice\n- When: by May 28, 2027"
    ),
    "another language": (
        "Para junio de 2027, el 80% de mis estudiantes de tercer grado leerán al nivel de grado, "
        "a través de grupos pequeños diarios."
    ),
    "emoji": "📚📈 my kids will read more 🎉🎉",
    "three dates, no deadline": (
        "I will meet with my coach on January 12, February 9 and March 16 to look at student work from my "
        "7th grade science classes."
    ),
}


def tips_in(text: str) -> int:
    return text.count("Tip: ")


# -- /goal check ---------------------------------------------------------------------------------------


def test_goal_check_gives_a_verdict_per_element_and_offers_to_coach_only_the_missing_parts(
    chat: Chat, db: Database
) -> None:
    reply = chat.say(f"/goal check {WELL_FORMED}")
    assert reply.startswith("How your goal reads, element by element:")
    for line in ELEMENT_LINES:
        assert f"{line} present" in reply, line
    assert 'Found: "June 2027"' in reply
    assert tips_in(reply) <= 1  # a well-formed goal gets at most one push-back
    assert "only the missing parts (Goal type, Data reviewed, Benchmarks), with what I found already filled in" in reply
    assert "1. Yes\n  2. No" in reply
    assert goals_of(db) == []  # a check saves nothing

    filled = chat.say("yes")
    assert filled.startswith(
        "From your goal I filled in: Specific & Strategic, Measurable, Action-oriented, "
        "Rigorous, Realistic & Results-focused, Completion date. Now the parts still needed."
    )
    assert asks(filled, "goal_type")
    assert "Paste a goal" not in filled  # that goal is the one being filled in
    assert asks(chat.say("student"), "data_reviewed")
    assert asks(chat.say(GOOD_ANSWERS["data_reviewed"]), "benchmarks")
    review = chat.say("Jan 29: winter DIBELS; March 31: running records")
    assert asks(review, "review")  # only the missing parts: the optional alignment is not asked
    assert "By June 30, 2027" in review  # no calendar loaded: the month's last day
    saved = chat.say("save")
    assert saved.startswith("Saved as goal #1:")
    [goal] = goals_of(db)
    assert goal["completion_date"] == "2027-06-30"
    assert "phonics" in goal["action"]
    assert [b["date"] for b in goal["benchmarks"]] == ["2027-01-29", "2027-03-31"]


def test_goal_check_declined_leaves_nothing_open_or_saved(chat: Chat, db: Database) -> None:
    chat.say(f"/goal check {WELL_FORMED}")
    assert chat.say("no").startswith("All right. Your goal is not saved")
    assert open_conversation(db) is None
    assert goals_of(db) == []


def test_goal_check_with_no_text_says_what_to_type(chat: Chat, db: Database) -> None:
    assert chat.say("/goal check").startswith("Type /goal check followed by your whole goal")
    assert open_conversation(db) is None


@pytest.mark.parametrize("name", list(BAD_INPUT))
def test_goal_check_of_bad_input_gives_a_useful_verdict_and_saves_nothing(name: str, chat: Chat, db: Database) -> None:
    reply = chat.say(f"/goal check {BAD_INPUT[name]}")
    assert reply.startswith("How your goal reads, element by element:"), reply
    for line in ELEMENT_LINES:
        assert line in reply
    assert 1 <= tips_in(reply) <= 5 or name in ("bullets", "5,000 characters")
    if name == "another language":
        assert "I can only read goals written in English for now" in reply
        assert open_conversation(db) is None  # nothing to coach from
    if name == "three dates, no deadline":
        assert "T (Timed & Tracked): missing" in reply
        assert "none of these reads as the completion date" in reply
    if name == "one word":
        assert "missing" in reply and "present" not in reply
    if name == "bullets":
        assert "M (Measurable): present" in reply and "from 45% to 75%" in reply
    assert goals_of(db) == []


def test_goal_check_with_a_draft_open_gives_the_verdicts_and_leaves_the_draft(chat: Chat, db: Database) -> None:
    chat.start_goal()
    chat.say("1")
    reply = chat.say(f"/goal check {WELL_FORMED}")
    assert reply.startswith("How your goal reads")
    assert "You have a goal draft open, so I have not started another" in reply
    assert open_conversation(db).step == "data_reviewed"  # type: ignore[union-attr]


def test_goal_check_escapes_the_goal_text_it_echoes_for_slack(chat: Chat) -> None:
    reply: Reply = chat.send("/goal check By June 2027 <!channel> my 3rd graders will read at grade level")
    shown = "\n".join(render_template(m.template, m.context, MRKDWN) for m in reply.messages if m.template)
    assert "<!channel>" not in shown


# -- the coach's first step: paste a goal I already have -----------------------------------------------


def test_paste_a_goal_at_the_first_step_fills_in_what_it_finds(chat: Chat) -> None:
    opening = chat.start_goal()
    assert "4. Paste a goal I already have" in opening
    assert chat.say("paste").startswith("Paste or type your whole goal as you have it")
    reply = chat.say(WELL_FORMED)
    assert reply.startswith("How your goal reads, element by element:")
    assert "From your goal I filled in: Specific & Strategic" in reply
    assert asks(reply, "goal_type")


def test_a_whole_goal_typed_at_the_first_step_is_recognised(chat: Chat) -> None:
    chat.start_goal()
    reply = chat.say(WELL_FORMED)
    assert reply.startswith("How your goal reads, element by element:")
    assert "From your goal I filled in" in reply


def test_a_paste_with_nothing_to_build_on_asks_again(chat: Chat) -> None:
    chat.start_goal()
    chat.say("4")
    reply = chat.say("🙂")
    assert "There is no goal here yet" in reply
    assert reply.endswith("Paste or type your whole goal as you have it. I'll say what each S.M.A.R.T. part "
                          "looks like and ask only for what is missing.")  # fmt: skip


# -- dialog details -------------------------------------------------------------------------------------


PREFIXES = [("student", "student_learning"), ("Professional", "professional_practice"), ("team", "team")]


@pytest.mark.parametrize(("typed", "stored"), PREFIXES)
def test_a_choice_by_an_unambiguous_prefix(typed: str, stored: str, chat: Chat, db: Database) -> None:
    chat.start_goal()
    assert asks(chat.say(typed), "data_reviewed")
    assert open_conversation(db).answers["goal_type"] == stored  # type: ignore[union-attr]


def test_back_shows_the_previous_answer_and_keep_keeps_it(chat: Chat, db: Database) -> None:
    chat.start_goal()
    chat.answer_through("specific")
    back = chat.say("back")
    assert back.startswith(f'Your answer was: "{GOOD_ANSWERS["specific"]}". Type keep to keep it')
    assert asks(back, "specific")
    assert asks(chat.say("keep"), "measurable")
    assert open_conversation(db).answers["specific"] == GOOD_ANSWERS["specific"]  # type: ignore[union-attr]
    chat.say("back")
    chat.say("keep")
    assert open_conversation(db).answers["specific"] == GOOD_ANSWERS["specific"]  # type: ignore[union-attr]


def test_cancel_of_a_draft_with_answers_asks_once(chat: Chat, db: Database) -> None:
    chat.start_goal()
    chat.answer_through("data_reviewed")
    confirm = chat.say("cancel")
    assert confirm.startswith("This draft has answers you typed. Type cancel again to discard it")
    assert open_conversation(db) is not None
    assert chat.say("cancel").startswith("Cancelled.")
    assert open_conversation(db) is None


def test_cancel_of_an_empty_draft_needs_no_confirmation(chat: Chat, db: Database) -> None:
    chat.start_goal()
    assert chat.say("cancel").startswith("Cancelled.")
    assert open_conversation(db) is None


def test_benchmarks_in_the_timed_answer_fill_the_benchmarks_step(chat: Chat, db: Database) -> None:
    chat.start_goal()
    chat.answer_through("results")
    reply = chat.say("By June 15, 2027, with checkpoints on January 29 and March 31")
    assert reply.startswith("Your answer already names benchmark dates, so I filled in Benchmarks: ")
    assert "2027-" not in reply  # readable dates, never ISO
    assert asks(reply, "alignment")
    answers = open_conversation(db).answers  # type: ignore[union-attr]
    assert answers["completion_date"] == "2027-06-15"
    assert [b["date"] for b in answers["benchmarks"]] == ["2027-01-29", "2027-03-31"]


def test_a_measure_in_the_specific_answer_fills_the_measurable_step(chat: Chat, db: Database) -> None:
    chat.start_goal()
    chat.answer_through("data_reviewed")
    reply = chat.say("my 4th graders will read fluently, from 38% to 70% at benchmark on the DIBELS fluency probe")
    assert reply.startswith('Your answer already names a measure, so I filled in Measurable: "')
    assert asks(reply, "action")
    assert "38%" in open_conversation(db).answers["measurable"]  # type: ignore[union-attr]


# -- growthbot goal check ------------------------------------------------------------------------------


def growthbot(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in ("DATABASE_URL", "DEFAULT_TIMEZONE", "LOG_LEVEL")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", DEFAULT_TIMEZONE="America/New_York",
               PYTHONIOENCODING="utf-8")  # fmt: skip
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          encoding="utf-8", cwd=tmp_path, env=env, timeout=60, check=False)  # fmt: skip


def test_cli_goal_check_json_has_exactly_the_documented_shape(tmp_path: Path) -> None:
    result = growthbot(tmp_path, "goal", "check", "--json", stdin=WELL_FORMED)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["elements"]
    assert list(data["elements"]) == ["S", "M", "A", "R", "T"]
    for verdict in data["elements"].values():
        assert set(verdict) == {"present", "evidence", "tips"}
        assert isinstance(verdict["present"], bool) and isinstance(verdict["evidence"], str)
        assert all(isinstance(tip, str) for tip in verdict["tips"])
    assert all(v["present"] for v in data["elements"].values())
    assert sum(len(v["tips"]) for v in data["elements"].values()) <= 1


def test_cli_goal_check_text_argument_prints_the_verdicts(tmp_path: Path) -> None:
    result = growthbot(tmp_path, "goal", "check", BAD_INPUT["three dates, no deadline"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("How your goal reads, element by element:")
    assert "T (Timed & Tracked): missing" in result.stdout


@pytest.mark.parametrize("stdin", ["", "   \n", "🙂"])
def test_cli_goal_check_of_empty_input_says_there_is_no_goal_yet(stdin: str, tmp_path: Path) -> None:
    result = growthbot(tmp_path, "goal", "check", "-", "--json", stdin=stdin)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert not any(v["present"] for v in data["elements"].values())
    assert data["elements"]["S"]["tips"][0].startswith("There is no goal here yet")


# -- /goal list, the wording, and dates on the district calendar ---------------------------------------


def test_goal_list_shows_a_draft_still_open_in_the_coach(chat: Chat) -> None:
    chat.start_goal()
    chat.answer_through("data_reviewed")
    listing = chat.say("/goal list")
    assert listing.startswith("Open in the coach, not saved yet:\n- a draft at Specific & Strategic (2 parts answered, "
                              "last typed Mon, November 23, 2026): Fall benchmark")  # fmt: skip
    chat.say("cancel")
    chat.say("cancel")
    assert chat.say("/goal list") == "You have no goals yet. Use /goal to draft your first one."


def test_goal_list_shows_saved_goals_and_the_open_draft(chat: Chat) -> None:
    chat.complete_goal()
    chat.start_goal()
    listing = chat.say("/goal list")
    assert listing.startswith("Your goals:\n#1 [saved] Student learning")
    assert "Open in the coach, not saved yet:\n- a draft at Goal type (0 parts answered" in listing


def test_the_teacher_edits_the_wording_before_saving(chat: Chat, db: Database) -> None:
    review = at_review(chat)
    assert "4. Edit the wording" in review
    asked = chat.say("edit the wording")
    assert asked.startswith("The goal reads:\nBy June 15, 2027, my 4th graders will read")
    assert chat.say("too short").startswith("That is too short to be the goal sentence.")
    own = (
        "By June 15, 2027, 70% of my 4th graders will read at benchmark on DIBELS, up from 38%, through guided reading"
    )
    review = chat.say(own)
    assert asks(review, "review")
    assert f"{own}.\nBenchmarks: January 29, 2027 (winter fluency probe)" in review
    saved = chat.say("save")
    assert saved.startswith(f"Saved as goal #1:\n{own}.\nBenchmarks:")
    assert goals_of(db)[0]["statement"].startswith(own + ".")
    reopened = chat.say("/goal edit 1")
    assert f"{own}." in reopened  # reopening keeps the teacher's own sentence


def test_back_from_the_wording_leaves_our_sentence(chat: Chat) -> None:
    at_review(chat)
    chat.say("4")
    assert asks(chat.say("back"), "review")


def at_review(chat: Chat) -> str:
    chat.start_goal()
    return chat.answer_through("alignment")


@pytest.fixture
def town(db: Database):  # type: ignore[no-untyped-def]
    """Alice in a district with the 2026-27 calendar (last day Tue June 22, 2027; Memorial Day May 31)."""
    from tests.handlers.plc.harness import district

    place = district(db, NOW)
    return place.chat("alice")


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        ("June 2027", "2027-06-22", "June 22, 2027"),  # the last school day of June on the calendar
        ("by the end of June 2027", "2027-06-22", "June 22, 2027"),
        ("end of May", "2027-05-28", "May 28, 2027"),  # May 31 is Memorial Day
    ],
)
def test_a_month_means_its_last_school_day_on_the_district_calendar(
    typed: str, stored: str, shown: str, town: Chat, db: Database
) -> None:
    town.start_goal()
    town.answer_through("results")
    reply = town.say(typed)
    assert asks(reply, "benchmarks")
    assert f"a date before {shown}" in reply
    assert open_conversation(db).answers["completion_date"] == stored  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("typed", "tip"),
    [
        ("Jan 30: winter fluency probe", "The benchmark on Sat, January 30, 2027 falls on a day with no school "
         "(weekend). The nearest school day is Fri, January 29, 2027."),
        ("Feb 17: winter fluency probe", "The benchmark on Wed, February 17, 2027 falls on a day with no school "
         "(February vacation). The nearest school day is Fri, February 12, 2027."),
    ],
)  # fmt: skip
def test_a_benchmark_on_a_closed_day_gets_a_tip_naming_the_nearest_school_day(
    typed: str, tip: str, town: Chat, db: Database
) -> None:
    town.start_goal()
    town.answer_through("completion_date")
    reply = town.say(typed)
    assert reply.startswith("A coaching note before we move on:")
    assert tip in reply
    assert "2027-" not in reply
    assert asks(town.say("keep"), "alignment")


def test_a_weekend_benchmark_gets_the_tip_before_any_calendar_is_loaded(chat: Chat) -> None:
    chat.start_goal()
    chat.answer_through("completion_date")
    reply = chat.say("Jan 30: winter fluency probe")
    assert "The benchmark on Sat, January 30, 2027 falls on a day with no school (weekend)." in reply
    assert "The nearest school day is Fri, January 29, 2027." in reply
    assert asks(chat.say("Feb 15: mid-winter probe"), "alignment")  # a Monday: no calendar, no vacation known


def test_goal_check_reads_june_as_the_last_school_day_and_a_repeated_event_opens_one_draft(
    town: Chat, db: Database
) -> None:
    message = town.inbound(f"/goal check {WELL_FORMED}", event_key="evt-check-1")
    first = town.say(message)
    assert "Shall we?" in first
    town.say(message)  # the platform delivered the same event again
    assert len([c for c in conversations_of(db, "alice") if c.status == "open"]) == 1
    town.say("yes")
    assert open_conversation(db).answers["completion_date"] == "2027-06-22"  # type: ignore[union-attr]
