"""The composed goal statement: one sentence in the seeds' shape, with each answer fitted to its slot."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from handlers.goals.statement import collapse_doubles, compose, gerund, lower_first
from tests.harness import GOOD_GOAL

EXPECTED = (
    "By June 15, 2027, my 4th graders will read grade-level text fluently and with understanding, so that students "
    "below benchmark close at least half the gap in reading fluency, as measured by the share of students at "
    "benchmark on the DIBELS fluency probe (from 38% to 70%), through daily 20-minute guided reading groups and "
    "weekly fluency checks.\n"
    "Benchmarks: January 29, 2027 (winter fluency probe); March 31, 2027 (running records for my focus group).\n"
    "Supports: School improvement plan goal 2: early literacy."
)


def goal(**changes: Any) -> dict[str, Any]:
    return {**GOOD_GOAL, **changes}


def first_line(answers: dict[str, Any]) -> str:
    return compose(answers).split("\n")[0]


def test_the_good_goal_reads_as_one_sentence_then_its_benchmarks() -> None:
    assert compose(GOOD_GOAL) == EXPECTED


def test_the_awkward_statement_from_issue_13_reads_well() -> None:
    """Regression: "By June 12, 2027, My 12 second graders … so that Reaching 80% … as measured by From …"."""
    sentence = first_line(
        goal(
            completion_date="2027-06-12",
            specific="My 12 second graders will read grade-level text fluently",
            results="Reaching 80% at benchmark",
            measurable="From a baseline of 40% to 80% on the DIBELS ORF probe",
        )
    )
    assert sentence.startswith(
        "By June 12, 2027, my 12 second graders will read grade-level text fluently, reaching 80%"
    )
    assert "as measured by the DIBELS ORF probe (from 40% to 80%)" in sentence
    assert "From" not in sentence and "Reaching" not in sentence and "My" not in sentence


@pytest.mark.parametrize(
    ("specific", "start"),
    [
        ("By June 2027, my students will write arguments", "By June 15, 2027, my students will write arguments"),
        ("by the end of the school year, our team will co-plan units", "By June 15, 2027, our team will co-plan units"),
        ("Improve my students' argument writing", "By June 15, 2027, I will improve my students' argument writing"),
        (
            "ELL students in section 3 will write lab reports",
            "By June 15, 2027, ELL students in section 3 will write lab reports",
        ),
        ("I will confer weekly", "By June 15, 2027, I will confer weekly"),
        ("reading fluency for my focus group", "By June 15, 2027, the focus is reading fluency for my focus group"),
    ],
)
def test_the_main_clause_is_fitted_and_keeps_names_capitalised(specific: str, start: str) -> None:
    assert first_line(goal(specific=specific)).startswith(start)


def test_without_a_date_the_sentence_starts_with_a_capital() -> None:
    assert first_line(goal(completion_date=None)).startswith("My 4th graders will read")


@pytest.mark.parametrize(
    ("results", "joined"),
    [
        ("so that students below benchmark close the gap", ", so that students below benchmark close the gap,"),
        ("Reaching 80% at benchmark", ", reaching 80% at benchmark,"),
        ("higher scores on the spring probe", ", resulting in higher scores on the spring probe,"),
        ("to close the gap for my focus group", ", in order to close the gap for my focus group,"),
    ],
)
def test_the_result_joins_by_its_shape(results: str, joined: str) -> None:
    assert joined in first_line(goal(results=results))


def test_a_result_already_in_the_main_clause_is_not_repeated() -> None:
    sentence = first_line(goal(results="read grade-level text fluently"))
    assert sentence.count("read grade-level text fluently") == 1


@pytest.mark.parametrize(
    ("measurable", "shown"),
    [
        ("as measured by the district argument rubric", "as measured by the district argument rubric,"),
        ("the DIBELS probe, from 38% to 70%", "as measured by the DIBELS probe (from 38% to 70%)"),
        ("baseline 40 words per minute, target 90", "(from 40 words per minute to 90 words per minute)"),
        ("38% -> 70% at benchmark", "fluency (from 38% to 70% at benchmark), through"),
        ("70% at benchmark on the spring probe", "as measured by the spring probe (70% at benchmark)"),
        ("🚀🚀🚀", "as measured by 🚀🚀🚀"),
    ],
)
def test_the_measure_and_its_baseline_to_target(measurable: str, shown: str) -> None:
    assert shown in first_line(goal(measurable=measurable))


@pytest.mark.parametrize(
    ("action", "shown"),
    [
        (
            "I will run daily 20-minute guided reading groups and weekly fluency checks",
            "through daily 20-minute guided reading groups and weekly fluency checks.",
        ),
        (
            "I will confer with each reader weekly and run guided reading groups",
            "through conferring with each reader weekly and running guided reading groups.",
        ),
        (
            "We will co-plan units every Friday and model think-alouds",
            "through co-planning units every Friday and modeling think-alouds.",
        ),
        ("through weekly writing conferences", "through weekly writing conferences."),
        ("Weekly mini-lessons; peer feedback", "through weekly mini-lessons and peer feedback."),
        ("implement guided reading three times a week", "through guided reading three times a week."),
        (
            "By January I will analyze the data. I will reteach on Fridays.",
            "through analyzing the data and reteaching on Fridays.",
        ),
    ],
)
def test_key_actions_follow_through(action: str, shown: str) -> None:
    assert first_line(goal(action=action)).endswith(shown)


@pytest.mark.parametrize(
    ("verb", "ing"),
    [
        ("run", "running"),
        ("confer", "conferring"),
        ("use", "using"),
        ("co-plan", "co-planning"),
        ("model", "modeling"),
        ("analyze", "analyzing"),
        ("see", "seeing"),
        ("tie", "tying"),
        ("visit", "visiting"),
        ("teach", "teaching"),
        ("plan", "planning"),
        ("chart", "charting"),
        ("submit", "submitting"),
        ("text", "texting"),
        ("free", "freeing"),
    ],
)
def test_gerunds(verb: str, ing: str) -> None:
    assert gerund(verb) == ing


def test_small_grammar_helpers() -> None:
    assert lower_first("My students") == "my students"
    assert lower_first("DIBELS scores") == "DIBELS scores"
    assert lower_first("Ms. Rivera's class") == "Ms. Rivera's class"
    assert lower_first("I will") == "I will"
    assert collapse_doubles("the the students will will read") == "the students will read"


def test_no_doubled_words_where_answers_meet() -> None:
    sentence = first_line(
        goal(specific="By June 2027, my 4th graders will read fluently", measurable="as measured by by the probe")
    )
    assert not re.search(r"\b(\w+)\s+\1\b", sentence, re.I), sentence
    assert "By June 15, 2027, my 4th graders" in sentence


def test_emoji_and_other_scripts_are_kept_verbatim() -> None:
    specific = "my 4th graders 📚 will read grade-level text fluently 🎉 — ñ, 中文, עברית"
    assert specific in compose(goal(specific=specific))


def test_empty_answers_give_an_empty_statement() -> None:
    assert compose({}) == ""
    assert compose({"completion_date": "2027-06-15"}) == "By June 15, 2027."


PARTS = st.one_of(
    st.none(),
    st.text(max_size=120),
    st.sampled_from(["", "I will", "so that", "from 1 to", "By June,", "🚀", "will will"]),
)


@settings(max_examples=150, deadline=None)
@given(specific=PARTS, measurable=PARTS, action=PARTS, results=PARTS, alignment=PARTS)
@example(specific="x" * 2000, measurable="from " * 400, action="and " * 400, results="so that " * 200, alignment=None)
def test_compose_never_raises(
    specific: str | None, measurable: str | None, action: str | None, results: str | None, alignment: str | None
) -> None:
    text = compose(goal(specific=specific, measurable=measurable, action=action, results=results, alignment=alignment))
    assert isinstance(text, str)
    assert not text.startswith(("By June 15, 2027, ,", " ")), text


README_EXAMPLE = {
    "goal_type": "student_learning",
    "data_reviewed": "Fall benchmark: 38% of my 4th graders at grade level",
    "specific": "my 4th graders will read grade-level text fluently",
    "measurable": "share at benchmark on DIBELS from 38% to 70%",
    "action": "I will run daily guided reading groups",
    "results": "students below benchmark close half the gap",
    "completion_date": "2027-06-15",
    "benchmarks": [
        {"date": "2027-01-30", "check": "winter fluency probe"},
        {"date": "2027-03-31", "check": "running records"},
    ],
    "alignment": None,
}


def test_the_readme_example_goal_reads_as_one_correct_sentence() -> None:
    """The answers README's piped console example types; the sentence README shows."""
    assert compose(README_EXAMPLE) == (
        "By June 15, 2027, my 4th graders will read grade-level text fluently, so that students below benchmark "
        "close half the gap, as measured by the share at benchmark on DIBELS (from 38% to 70%), through daily "
        "guided reading groups.\n"
        "Benchmarks: January 30, 2027 (winter fluency probe); March 31, 2027 (running records)."
    )


@pytest.mark.parametrize(
    ("measurable", "shown"),
    [
        ("number of referrals per month, from 12 to 6", "as measured by the number of referrals per month (from 12"),
        ("the share of students at benchmark, from 38% to 70%", "as measured by the share of students at benchmark"),
        ("DIBELS composite, from 38% to 70%", "as measured by DIBELS composite (from 38%"),
    ],
)
def test_a_bare_measure_noun_gets_its_article(measurable: str, shown: str) -> None:
    assert shown in first_line(goal(measurable=measurable))
