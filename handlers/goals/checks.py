"""Deterministic, explainable checks of each S.M.A.R.T. part, each returning coaching tips.

Every rule is a plain word list or pattern, so a teacher can be told exactly why an answer was flagged,
and a district can see (and change) what the coach looks for.
"""

from __future__ import annotations

import re
from datetime import date

from handlers.engine import Check, CheckContext, Problem
from handlers.goals.dates import DateProblem, FoundDate, find_date, spoken
from handlers.goals.reader import month_end
from scheduling.calendar import SchoolCalendar

WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")

NUMBER = re.compile(r"\d")
NUMBERS = re.compile(r"\d+(?:\.\d+)?")
NUMBER_WORDS = {
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twenty", "thirty",
    "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "half", "percent", "all", "every",
}  # fmt: skip
MEASURE_WORDS = {
    "rubric", "level", "levels", "score", "scores", "scoring", "proficient", "proficiency", "percent",
    "percentage", "rate", "count", "points", "benchmark", "mastery", "growth", "exemplary", "grade-level",
}  # fmt: skip
FROM_TO = re.compile(r"\bfrom\b.*?\bto\b|\bbaseline\b", re.I)
TOWARDS = re.compile(r"->|→|\bto\b", re.I)

VAGUE_PHRASES = ("do better", "get better", "be better", "work on", "try to", "try harder", "focus on")
VAGUE_VERBS = {"improve", "increase", "enhance", "better", "grow", "boost", "strengthen", "develop"}
WHO_WORDS = {
    "students", "student", "learners", "scholars", "class", "classes", "grade", "graders", "team",
    "colleagues", "teachers", "families", "parents", "i", "my", "our", "we", "ell", "ells", "el", "els",
    "kindergarten", "kindergartners", "readers", "writers", "group", "section", "sections", "caseload",
}  # fmt: skip

ACTION_VERBS = {
    "implement", "use", "teach", "model", "plan", "meet", "confer", "conference", "analyze", "analyse",
    "provide", "design", "develop", "create", "introduce", "observe", "collaborate", "coach", "review",
    "differentiate", "integrate", "monitor", "track", "hold", "lead", "facilitate", "attend", "practice",
    "share", "give", "schedule", "build", "adopt", "revise", "co-plan", "co-teach", "embed", "establish",
    "study", "apply", "incorporate", "send", "call", "visit", "read", "write", "assess", "reteach",
}  # fmt: skip

ACTIVITY_ONLY = {
    "attend", "complete", "participate", "implement", "use", "create", "hold", "meet", "read", "take",
    "finish", "submit", "go", "visit", "watch", "plan", "design",
}  # fmt: skip
RESULT_WORDS = {
    "so", "students", "student", "learners", "achieve", "achievement", "score", "scores", "scoring",
    "proficiency", "proficient", "growth", "outcome", "outcomes", "result", "results", "mastery",
    "increase", "decrease", "reduce", "raise", "gain", "gains", "attendance", "performance", "able",
    "improve", "improved", "learning", "reading", "writing", "math",
}  # fmt: skip


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


def _tips(*problems: Problem | None) -> tuple[Problem, ...]:
    return tuple(p for p in problems if p is not None)


def check_data(text: str, _ctx: CheckContext) -> Check:
    """Use of data comes first: a goal should grow out of evidence the educator looked at."""
    tip = None
    if len(words(text)) < 4 and not NUMBER.search(text):
        tip = Problem("goals/tips/data_thin")
    return Check(value=text, tips=_tips(tip))


def check_specific(text: str, _ctx: CheckContext) -> Check:
    """Specific & Strategic: says what will change and for whom, not just "improve"."""
    ws = words(text)
    lowered = " ".join(ws)
    vague = next((p for p in VAGUE_PHRASES if p in lowered), None)
    if vague is None:
        for index, w in enumerate(ws):
            if w in VAGUE_VERBS and len(ws) - index <= 2:
                vague = w
                break
    tips = []
    if vague is not None:
        tips.append(Problem("goals/tips/specific_vague", {"phrase": vague}))
    if len(ws) < 4:
        tips.append(Problem("goals/tips/specific_short"))
    elif not WHO_WORDS.intersection(ws):
        tips.append(Problem("goals/tips/specific_who"))
    return Check(value=text, tips=tuple(tips))


def check_measurable(text: str, _ctx: CheckContext) -> Check:
    """Measurable: a measure (number, %, count, rubric level), ideally from a baseline to a target."""
    ws = set(words(text))
    has_measure = bool(NUMBER.search(text) or "%" in text or ws & NUMBER_WORDS or ws & MEASURE_WORDS)
    if not has_measure:
        return Check(value=text, tips=(Problem("goals/tips/measurable_none"),))
    baseline_to_target = FROM_TO.search(text) or (len(NUMBERS.findall(text)) >= 2 and TOWARDS.search(text))
    if not baseline_to_target:
        return Check(value=text, tips=(Problem("goals/tips/measurable_baseline"),))
    return Check(value=text)


def check_action(text: str, _ctx: CheckContext) -> Check:
    """Action-oriented: names what the educator will actually do."""
    ws = words(text)
    has_action = bool(ACTION_VERBS.intersection(ws)) or any(w == "will" and i + 1 < len(ws) for i, w in enumerate(ws))
    if not has_action or len(ws) < 3:
        return Check(value=text, tips=(Problem("goals/tips/action_none"),))
    return Check(value=text)


def check_results(text: str, _ctx: CheckContext) -> Check:
    """Results-focused: names a result for students or practice, not only the activities."""
    ws = set(words(text))
    if len(ws) < 3:
        return Check(value=text, tips=(Problem("goals/tips/results_short"),))
    if ws & ACTIVITY_ONLY and not ws & RESULT_WORDS:
        return Check(value=text, tips=(Problem("goals/tips/results_activity"),))
    return Check(value=text)


def check_wording(text: str, _ctx: CheckContext) -> Check:
    """The teacher's own sentence for the goal: any wording is theirs to choose, but it should be a sentence."""
    text = " ".join(text.split())
    if len(words(text)) < 5:
        return Check(error=Problem("goals/errors/wording_short"))
    return Check(value=text if text.endswith((".", "!", "?")) else text + ".")


def _date_problem(error: DateProblem) -> Problem:
    return Problem(
        "goals/errors/impossible_date",
        {"text": error.text, "month": error.month, "month_name": error.month_name, "year": error.year,
         "days": error.days},
    )  # fmt: skip


def _calendar(ctx: CheckContext) -> SchoolCalendar | None:
    return ctx.services.get("calendar")


def _day(found: FoundDate, ctx: CheckContext) -> date:
    """A whole month ("June 2027", "end of May") means its last school day on the district calendar."""
    if found.whole_month:
        return month_end(found.value.year, found.value.month, _calendar(ctx))
    return found.value


def check_completion(text: str, ctx: CheckContext) -> Check:
    """Timed: a real, future completion date. The only step that blocks, because a date cannot be coached."""
    try:
        found = find_date(text, ctx.today)
    except DateProblem as error:
        return Check(error=_date_problem(error))
    if found is None:
        return Check(error=Problem("goals/errors/no_date", {"text": text[:80]}))
    day = _day(found, ctx)
    if day <= ctx.today:
        return Check(error=Problem("goals/errors/past_date", {"date": spoken(day), "text": found.text}))
    tips = ()
    if (day - ctx.today).days > 2 * 366:
        tips = (Problem("goals/tips/date_far", {"date": spoken(day)}),)
    return Check(value=day.isoformat(), tips=tips)


BENCHMARK_SPLIT = re.compile(r"[\n;]+")


def _closed_tip(day: date, calendar: SchoolCalendar | None) -> Problem | None:
    """A benchmark on a weekend or a closed day: name the nearest school day (the earlier one on a tie).

    Weekends always; holidays and vacations once the district has loaded its school calendar (until then every
    weekday counts as a school day).
    """
    calendar = calendar or SchoolCalendar()
    if calendar.is_school_day(day):
        return None
    before, after = calendar.previous_school_day(day), calendar.next_school_day(day)
    nearest = before if (day - before) <= (after - day) else after
    why = calendar.why_closed(day)
    return Problem("goals/tips/benchmark_closed", {"date": spoken(day), "why": why, "nearest": spoken(nearest)})


def check_benchmarks(text: str, ctx: CheckContext) -> Check:
    """Tracked: at least one dated checkpoint before the completion date, each saying what will be checked."""
    completion = ctx.answers.get("completion_date")
    end = date.fromisoformat(completion) if completion else None
    benchmarks: list[dict[str, str]] = []
    tips: list[Problem] = []
    for line in (part.strip(" -•*\t") for part in BENCHMARK_SPLIT.split(text)):
        if not line:
            continue
        try:
            found = find_date(line, ctx.today)
        except DateProblem as error:
            return Check(error=_date_problem(error))
        if found is None:
            return Check(error=Problem("goals/errors/benchmark_no_date", {"line": line[:80]}))
        day = _day(found, ctx)
        if day <= ctx.today:
            return Check(error=Problem("goals/errors/past_date", {"date": spoken(day), "text": found.text}))
        if end is not None and day >= end:
            return Check(error=Problem("goals/errors/benchmark_after_end", {"date": spoken(day), "end": spoken(end)}))
        what = line.replace(found.text, "", 1).strip(" :,-–—.")
        closed = _closed_tip(day, _calendar(ctx))
        if closed is not None:
            tips.append(closed)
        if len(words(what)) < 2:
            tips.append(Problem("goals/tips/benchmark_what", {"date": spoken(day)}))
        benchmarks.append({"date": day.isoformat(), "check": what})
    if not benchmarks:
        return Check(error=Problem("goals/errors/benchmark_no_date", {"line": text[:80]}))
    benchmarks.sort(key=lambda b: b["date"])
    return Check(value=benchmarks, tips=tuple(tips))
