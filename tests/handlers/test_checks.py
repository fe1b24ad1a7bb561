"""Each S.M.A.R.T. check on its own: what it coaches, what it blocks, and that it never raises."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import prompts
from handlers.engine import Check, CheckContext, Problem, State
from handlers.goals import checks
from handlers.goals.dates import spoken
from handlers.goals.flow import GoalCoach
from tests.handlers.test_dates import DATEISH
from tests.harness import GOOD_GOAL

TODAY = date(2026, 11, 23)
CTX = CheckContext(today=TODAY, answers={})
WITH_END = CheckContext(today=TODAY, answers={"completion_date": "2027-06-15"})


def tip_templates(result: Check) -> list[str]:
    return [tip.template for tip in result.tips]


def assert_accepted(result: Check, value: object) -> None:
    assert result.error is None
    assert result.tips == ()
    assert result.value == value


# -- data reviewed -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["test scores", "DIBELS", "looked at data"])
def test_data_thin_is_coached(text: str) -> None:
    result = checks.check_data(text, CTX)
    assert tip_templates(result) == ["goals/tips/data_thin"]
    assert result.value == text  # the answer is kept, so `keep` can use it
    assert result.error is None


@pytest.mark.parametrize(
    "text", ["Fall benchmark: 38% at grade level", "DIBELS: 38%", "running records show fluency is our gap"]
)
def test_data_with_a_number_or_detail_is_accepted(text: str) -> None:
    assert_accepted(checks.check_data(text, CTX), text)


# -- specific --------------------------------------------------------------------------------------------


def test_improve_alone_is_vague_and_short() -> None:
    result = checks.check_specific("improve", CTX)
    assert tip_templates(result) == ["goals/tips/specific_vague", "goals/tips/specific_short"]
    assert result.tips[0].context == {"phrase": "improve"}


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("my students will do better in math", "do better"),
        ("I want my class to get better at writing", "get better"),
        ("our team will focus on student writing", "focus on"),
        ("reading scores of my students will improve", "improve"),
        ("my 5th graders will increase", "increase"),
    ],
)
def test_vague_wording_is_coached(text: str, phrase: str) -> None:
    result = checks.check_specific(text, CTX)
    assert "goals/tips/specific_vague" in tip_templates(result)
    vague = next(t for t in result.tips if t.template == "goals/tips/specific_vague")
    assert vague.context == {"phrase": phrase}
    assert result.error is None


def test_specific_without_who_is_coached() -> None:
    result = checks.check_specific("reading fluency will rise across the board", CTX)
    assert tip_templates(result) == ["goals/tips/specific_who"]


@pytest.mark.parametrize(
    "text",
    [
        "my 4th graders will read grade-level text fluently and with understanding",
        "Improve my students' argument writing with two pieces of text evidence",  # improve, then what
        "ELL students in section 3 will write complete lab reports",
    ],
)
def test_specific_and_strategic_is_accepted(text: str) -> None:
    assert_accepted(checks.check_specific(text, CTX), text)


# -- measurable ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["students will read better", "they will enjoy reading more", "🙂"])
def test_no_measure_is_coached(text: str) -> None:
    assert tip_templates(checks.check_measurable(text, CTX)) == ["goals/tips/measurable_none"]


@pytest.mark.parametrize(
    "text", ["70% at benchmark on the spring probe", "a rubric score of proficient", "words per minute: 90"]
)
def test_measure_without_baseline_and_target_is_coached(text: str) -> None:
    result = checks.check_measurable(text, CTX)
    assert tip_templates(result) == ["goals/tips/measurable_baseline"]
    assert result.value == text


@pytest.mark.parametrize(
    "text",
    [
        "the share of students at benchmark on the DIBELS probe, from 38% to 70%",
        "from level 2 to level 3 on the writing rubric",
        "38% -> 70% at benchmark",
        "38% → 70% at benchmark",
        "baseline 40 words per minute, target 90",
        "from half of my class to every student",
    ],
)
def test_baseline_to_target_is_accepted(text: str) -> None:
    assert_accepted(checks.check_measurable(text, CTX), text)


# -- action ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["more reading", "I will", "reading groups daily", "lots of things"])
def test_no_action_is_coached(text: str) -> None:
    assert tip_templates(checks.check_action(text, CTX)) == ["goals/tips/action_none"]


@pytest.mark.parametrize(
    "text",
    [
        "I will run daily guided reading groups",
        "implement guided reading three times a week",
        "Our team will co-plan units every Friday",
        "confer with each student weekly",
    ],
)
def test_action_is_accepted(text: str) -> None:
    assert_accepted(checks.check_action(text, CTX), text)


# -- results ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["better", "higher scores", "🙂 🙂 🙂"])
def test_short_result_is_coached(text: str) -> None:
    assert tip_templates(checks.check_results(text, CTX)) == ["goals/tips/results_short"]


@pytest.mark.parametrize(
    "text",
    [
        "attend three workshops",
        "complete the PD modules and submit a plan",
        "participate in the book study",
    ],
)
def test_activity_only_result_is_coached(text: str) -> None:
    result = checks.check_results(text, CTX)
    assert tip_templates(result) == ["goals/tips/results_activity"]
    assert result.value == text


@pytest.mark.parametrize("text", ["attend 3 PD workshops this year", "complete 2 PD courses and submit a plan"])
def test_activity_only_result_with_a_count_is_coached(text: str) -> None:
    """Regression: any digit used to exempt an answer from the activity-only rule."""
    assert tip_templates(checks.check_results(text, CTX)) == ["goals/tips/results_activity"]


@pytest.mark.parametrize(
    "text",
    [
        "students use text evidence in every written response",
        "students below benchmark close at least half the gap",
        "attend workshops so that my students' reading improves",
    ],
)
def test_result_is_accepted(text: str) -> None:
    assert_accepted(checks.check_results(text, CTX), text)


# -- completion date -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("June 15, 2027", "2027-06-15"),
        ("6/15/2027", "2027-06-15"),
        ("2027-06-15", "2027-06-15"),
        ("June 2027", "2027-06-30"),
        ("end of May", "2027-05-31"),
        ("by the end of May 2027, I hope", "2027-05-31"),
        ("tomorrow, 11/24/2026", "2026-11-24"),
    ],
)
def test_future_completion_date_is_accepted(text: str, iso: str) -> None:
    assert_accepted(checks.check_completion(text, CTX), iso)


@pytest.mark.parametrize(
    ("text", "iso", "matched"),
    [
        ("June 15, 2026", "2026-06-15", "June 15, 2026"),
        ("11/23/2026", "2026-11-23", "11/23/2026"),  # today is not in the future
        ("2020-01-01", "2020-01-01", "2020-01-01"),
    ],
)
def test_past_completion_date_blocks(text: str, iso: str, matched: str) -> None:
    result = checks.check_completion(text, CTX)
    assert result.error == Problem("goals/errors/past_date", {"date": spoken(date.fromisoformat(iso)), "text": matched})
    assert result.value is None


def test_impossible_month_blocks() -> None:
    result = checks.check_completion("31/31/2026", CTX)
    assert result.error is not None
    assert result.error.template == "goals/errors/impossible_date"
    assert result.error.context["text"] == "31/31/2026"
    assert result.error.context["month_name"] == ""


def test_impossible_day_blocks_and_says_how_many_days_the_month_has() -> None:
    result = checks.check_completion("2/30/2027", CTX)
    assert result.error == Problem(
        "goals/errors/impossible_date",
        {"text": "2/30/2027", "month": 2, "month_name": "February", "year": 2027, "days": 28},
    )


@pytest.mark.parametrize("text", ["soon", "by spring", "next year", "🙂"])
def test_no_completion_date_blocks(text: str) -> None:
    result = checks.check_completion(text, CTX)
    assert result.error == Problem("goals/errors/no_date", {"text": text})


def test_far_completion_date_is_coached_not_blocked() -> None:
    result = checks.check_completion("June 15, 2030", CTX)
    assert result.error is None
    assert result.value == "2030-06-15"
    assert result.tips == (Problem("goals/tips/date_far", {"date": "Sat, June 15, 2030"}),)


@pytest.mark.parametrize("text", ["6/0", "June 0"])
def test_day_zero_completion_date_blocks(text: str) -> None:
    """Regression: a year-less day 0 used to raise ValueError out of the check."""
    result = checks.check_completion(text, CTX)
    assert result.error is not None
    assert result.error.template == "goals/errors/impossible_date"


# -- benchmarks ------------------------------------------------------------------------------------------


def test_benchmarks_are_read_sorted_with_what_is_checked() -> None:
    result = checks.check_benchmarks("March 31: running records; Jan 29: winter fluency probe", WITH_END)
    assert_accepted(
        result,
        [
            {"date": "2027-01-29", "check": "winter fluency probe"},
            {"date": "2027-03-31", "check": "running records"},
        ],
    )


def test_benchmarks_one_per_line_with_bullets() -> None:
    text = "- 1/29/2027: winter probe\n• 2027-03-31 - running records\n\n* April 20: spring probe"
    result = checks.check_benchmarks(text, WITH_END)
    assert result.error is None
    assert [(b["date"], b["check"]) for b in result.value] == [
        ("2027-01-29", "winter probe"),
        ("2027-03-31", "running records"),
        ("2027-04-20", "spring probe"),
    ]


@pytest.mark.parametrize("text", ["July 1, 2027: final probe", "June 15, 2027: final probe"])
def test_benchmark_on_or_after_completion_blocks(text: str) -> None:
    result = checks.check_benchmarks(f"Jan 29: winter probe; {text}", WITH_END)
    assert result.error is not None
    assert result.error.template == "goals/errors/benchmark_after_end"
    assert result.error.context["end"] == "Tue, June 15, 2027"  # readable, never ISO


def test_past_benchmark_blocks() -> None:
    result = checks.check_benchmarks("Oct 1, 2026: fall probe", WITH_END)
    assert result.error == Problem("goals/errors/past_date", {"date": "Thu, October 1, 2026", "text": "Oct 1, 2026"})


@pytest.mark.parametrize("text", ["winter fluency probe", "Jan 29: probe; then the spring probe"])
def test_benchmark_without_a_date_blocks(text: str) -> None:
    result = checks.check_benchmarks(text, WITH_END)
    assert result.error is not None
    assert result.error.template == "goals/errors/benchmark_no_date"


@pytest.mark.parametrize("text", ["", ";;", "\n - \n"])
def test_no_benchmark_at_all_blocks(text: str) -> None:
    result = checks.check_benchmarks(text, WITH_END)
    assert result.error is not None
    assert result.error.template == "goals/errors/benchmark_no_date"


def test_impossible_benchmark_date_blocks() -> None:
    result = checks.check_benchmarks("2/30/2027: winter probe", WITH_END)
    assert result.error is not None
    assert result.error.template == "goals/errors/impossible_date"


def test_benchmark_without_what_is_coached() -> None:
    result = checks.check_benchmarks("Jan 29", WITH_END)
    assert result.error is None
    assert result.value == [{"date": "2027-01-29", "check": ""}]
    assert result.tips == (Problem("goals/tips/benchmark_what", {"date": "Fri, January 29, 2027"}),)


def test_without_a_completion_date_any_future_benchmark_is_accepted() -> None:
    result = checks.check_benchmarks("2030-01-01: final probe", CTX)
    assert_accepted(result, [{"date": "2030-01-01", "check": "final probe"}])


# -- never raise -----------------------------------------------------------------------------------------

CHECKS: list[Callable[[str, CheckContext], Check]] = [
    checks.check_data,
    checks.check_specific,
    checks.check_measurable,
    checks.check_action,
    checks.check_results,
    checks.check_completion,
    checks.check_benchmarks,
]
TEXTS = st.one_of(st.text(), DATEISH, st.text(min_size=200, max_size=2100))
CONTEXTS = st.builds(
    CheckContext,
    today=st.dates(date(2000, 1, 1), date(2090, 12, 31)),
    answers=st.sampled_from([{}, {"completion_date": "2027-06-15"}, {"completion_date": "2001-01-01"}]),
)


def assert_renders(result: Check) -> None:
    """Whatever a check says must render: its template exists and has every value it needs."""
    if result.error is not None:
        assert prompts.render(result.error.template, result.error.context)
    if result.tips:
        tips = [{"template": t.template, "context": t.context} for t in result.tips]
        assert prompts.render("engine/coach", {"tips": tips})


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@given(text=TEXTS, ctx=CONTEXTS)
@example(text="", ctx=CTX)
@example(text="🙂📚🎉" * 30_000, ctx=WITH_END)
@example(text="a" * 100_000, ctx=WITH_END)
@example(text="from " * 20_000 + "to", ctx=WITH_END)
@example(text="1" * 2_000, ctx=WITH_END)  # the longest answer the engine lets through
@example(text="\x00\r\n\t\u202e\ufeff", ctx=WITH_END)
def test_checks_never_raise(check: Callable[[str, CheckContext], Check], text: str, ctx: CheckContext) -> None:
    result = check(text, ctx)
    assert isinstance(result, Check)
    assert all(isinstance(tip, Problem) for tip in result.tips)
    if result.error is None:
        assert result.value is not None
    assert_renders(result)


STEPS = [step.name for step in GoalCoach.steps]


@pytest.mark.parametrize("step", STEPS)
@given(text=TEXTS)
@example(text="keep")
@example(text="skip")
@example(text="back")
def test_the_goal_coach_never_raises_on_typed_text(step: str, text: str) -> None:
    """Flow.handle promises never to raise on any text a person can type, at any step."""
    before = STEPS[: STEPS.index(step)]
    answers = {name: GOOD_GOAL[name] for name in before if name in GOOD_GOAL}  # as if answered in order
    state = State(step=step, answers=answers, history=before)
    turn = GoalCoach().handle(state, text, CheckContext(today=TODAY, answers=state.answers))
    assert turn.messages or turn.finish is not None
