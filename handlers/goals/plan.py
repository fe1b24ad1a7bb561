"""The educator plan: saved goals with their action steps, benchmarks and progress; benchmark check-ins.

Each benchmark of a saved goal gets one check-in, sent through the scheduler the school day before the
benchmark (so quiet hours, away and exactly-once are the scheduler's, as for every other reminder). The
check-in's buttons run `/goal checkin N on track|behind|done`, and the answer is logged on the goal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handlers.goals.dates import spoken
from handlers.goals.statement import GOAL_TYPES, readable_date
from handlers.messages import CommandButton
from scheduling.kinds import Kind, Notice
from storage.goals import GoalPlans
from storage.models import Goal, GoalCheckin, Person, Schedule
from storage.unit_of_work import Repos

CHECKIN = "goal_benchmark_checkin"
CHECKIN_TIME = time(15, 30)  # after the school day, the day before the benchmark: time to prepare for it
STATUSES = {"on_track": "on track", "behind": "behind", "done": "done"}
_STATUS_WORDS = re.compile(r"^\s*(on[\s_-]*track|ontrack|behind|done)\b[\s:,.-]*", re.I)


def subject(goal: Goal) -> str:
    return f"goal:{goal.id}"


def zone_name(person: Person, default: str) -> str:
    name = person.time_zone or default
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default
    return name


def read_status(text: str) -> tuple[str | None, str]:
    """ "on track, reading groups going well" -> ("on_track", "reading groups going well")."""
    match = _STATUS_WORDS.match(text)
    if match is None:
        return None, text.strip()
    word = re.sub(r"[\s_-]+", "", match.group(1).lower())
    status = "on_track" if word == "ontrack" else word
    return status, text[match.end() :].strip()


@dataclass(frozen=True)
class GoalPlan:
    """Schedules and answers benchmark check-ins; builds what `/goal plan` and `/goal team` show."""

    default_timezone: str

    # -- scheduling -------------------------------------------------------------------------------------

    def schedule_benchmarks(self, repos: Repos, person: Person, goal: Goal, now: datetime) -> int:
        """One check-in per future benchmark, the school day before it; an edited goal's old ones are dropped."""
        repos.schedules.cancel_subject(subject(goal), now)
        if goal.status != "saved":
            return 0
        calendar = repos.calendars.load(person.workspace_id)
        zone = zone_name(person, self.default_timezone)
        added = 0
        for benchmark in goal.benchmarks or []:
            day = date.fromisoformat(benchmark["date"])
            at = datetime.combine(calendar.previous_school_day(day), CHECKIN_TIME, tzinfo=ZoneInfo(zone))
            if at <= now:
                continue
            repos.schedules.add(
                workspace_id=person.workspace_id, kind=CHECKIN, owner_id=person.id, subject=subject(goal),
                payload={"goal_id": goal.id, "benchmark": benchmark["date"]}, time_zone=zone, starts_at=at,
                next_run_at=at, now=now,
            )  # fmt: skip
            added += 1
        return added

    def kinds(self) -> tuple[Kind, ...]:
        # Already a school day when scheduled; a check-in a day late still helps, two days late it is moot.
        return (Kind(CHECKIN, expand=self.checkin_notice, shift="previous", grace=timedelta(hours=18)),)

    def checkin_notice(self, repos: Repos, schedule: Schedule, at: datetime) -> list[Notice]:
        """Ask once, reading the goal afresh: an edited, reopened or deleted goal's stale check-in says nothing."""
        plans = GoalPlans(repos.session)
        goal = plans.goal(int(schedule.payload.get("goal_id", 0)))
        iso = str(schedule.payload.get("benchmark", ""))
        if goal is None or goal.status != "saved":
            return []
        benchmark = next((b for b in goal.benchmarks or [] if b.get("date") == iso), None)
        if benchmark is None:
            return []
        day = date.fromisoformat(iso)
        if plans.ask(goal.id, day, benchmark.get("check", ""), at) is None:
            return []  # asked already
        buttons = [
            CommandButton(label=label.capitalize(), command="goal", args=f"checkin {goal.id} {label}").model_dump()
            for label in STATUSES.values()
        ]
        context = {"goal_id": goal.id, "date": spoken(day), "check": benchmark.get("check", ""),
                   "headline": headline(goal)}  # fmt: skip
        message = {"template": "goals/checkin", "context": context, "buttons": buttons}
        return [Notice(goal.person_id, [message], tag=f"benchmark:{iso}")]

    # -- answering --------------------------------------------------------------------------------------

    def answer(self, repos: Repos, goal: Goal, text: str, today: date, now: datetime) -> dict[str, Any]:
        """Log on track / behind / done and a note on the benchmark being checked in on; what to tell the person."""
        status, note = read_status(text)
        if status is None:
            return {"template": "goals/errors/checkin_status", "context": {"goal_id": goal.id}}
        benchmark = self.current_benchmark(repos, goal, today)
        if benchmark is None:
            return {"template": "goals/errors/checkin_none", "context": {"goal_id": goal.id}}
        day = date.fromisoformat(benchmark["date"])
        row = GoalPlans(repos.session).answer(goal.id, day, benchmark.get("check", ""), status, note[:2000], now)
        context = {"goal_id": goal.id, "date": spoken(day), "status": STATUSES[row.status], "note": row.note}
        return {"template": "goals/checkin_logged", "context": context}

    def current_benchmark(self, repos: Repos, goal: Goal, today: date) -> dict[str, str] | None:
        """The benchmark a check-in answer is about: the latest one asked, else the next one coming."""
        benchmarks = sorted(goal.benchmarks or [], key=lambda b: b["date"])
        asked = {c.benchmark_on.isoformat() for c in GoalPlans(repos.session).checkins(goal.id)}
        for benchmark in reversed(benchmarks):
            if benchmark["date"] in asked:
                return benchmark
        coming = [b for b in benchmarks if b["date"] >= today.isoformat()]
        return coming[0] if coming else (benchmarks[-1] if benchmarks else None)

    # -- what the plan shows ----------------------------------------------------------------------------

    def goal_view(self, repos: Repos, goal: Goal, today: date) -> dict[str, Any]:
        checkins = {c.benchmark_on.isoformat(): c for c in GoalPlans(repos.session).checkins(goal.id)}
        benchmarks = [
            self._benchmark_view(b, checkins.get(b["date"]), today)
            for b in sorted(goal.benchmarks or [], key=lambda b: b["date"])
        ]
        upcoming = next((b for b in benchmarks if b["upcoming"]), None)
        return {
            "id": goal.id,
            "type": GOAL_TYPES.get(goal.goal_type or "", "Goal"),
            "status": goal.status,
            "by": readable_date(goal.completion_date.isoformat()) if goal.completion_date else "",
            "headline": headline(goal),
            "actions": action_steps(goal.action or ""),
            "benchmarks": benchmarks,
            "next": upcoming,
            "progress": progress(benchmarks),
        }

    @staticmethod
    def _benchmark_view(benchmark: dict[str, str], checkin: GoalCheckin | None, today: date) -> dict[str, Any]:
        day = date.fromisoformat(benchmark["date"])
        answered = checkin is not None and checkin.status in STATUSES
        return {
            "date": spoken(day),
            "check": benchmark.get("check", ""),
            "status": STATUSES[checkin.status] if answered and checkin else "",
            "note": checkin.note if checkin is not None else "",
            "upcoming": day >= today and not answered,
            "missed": day < today and not answered,
        }

    def my_plan(self, repos: Repos, person: Person, today: date) -> list[dict[str, Any]]:
        return [self.goal_view(repos, g, today) for g in repos.goals.of_person(person.id) if g.status == "saved"]

    def team(self, repos: Repos, evaluator: Person, today: date) -> list[dict[str, Any]]:
        """Each educator this person evaluates, with their saved goals and next benchmarks; nobody else's."""
        return [
            {"name": educator.display_name, "goals": self.my_plan(repos, educator, today)}
            for educator in GoalPlans(repos.session).educators_of(evaluator.id)
        ]


def headline(goal: Goal) -> str:
    sentence = (goal.statement or goal.specific or goal.results or "").split("\n")[0]
    return sentence if len(sentence) <= 160 else sentence[:157].rstrip() + "…"


def action_steps(action: str) -> list[str]:
    """The action answer as steps: split on lines, semicolons and "and then"-style joins a teacher types."""
    parts = [p.strip(" -•*\t.;") for p in re.split(r"[\n;]+|,\s*(?:and\s+)?then\s+", action)]
    return [p for p in parts if p]


def progress(benchmarks: list[dict[str, Any]]) -> str:
    """A few words on where the goal stands, from its check-ins."""
    answered = [b for b in benchmarks if b["status"]]
    if not benchmarks:
        return "no benchmarks"
    if not answered:
        return f"0 of {len(benchmarks)} benchmarks checked in"
    return f"{len(answered)} of {len(benchmarks)} benchmarks checked in, latest: {answered[-1]['status']}"
