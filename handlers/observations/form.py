"""The observation form (`/observe` alone): kind of visit, who, when, how long; a modal on Slack, steps elsewhere.

The checks are the one-liner's (`checks.py`); `recheck` runs again at submit, because a form can sit open
while the time passes, the roster changes or a new kind of visit changes who may be observed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from handlers.engine import Check, CheckContext, Problem
from handlers.forms import FormResult, FormSpec, Submission
from handlers.messages import Outbound
from handlers.observations.checks import Lookup, find_teacher, find_time, only_clock_time, read_minutes, when_answer
from handlers.observations.service import permission_problem, time_problem
from handlers.observations.when import NO_TIME, When

if TYPE_CHECKING:
    from handlers.observations.commands import ObserveCommands

FORM_ID = "observe"


def _lookup(ctx: CheckContext) -> Lookup:
    return ctx.services["lookup"]


def check_teacher(text: str, ctx: CheckContext) -> Check:
    found = find_teacher(_lookup(ctx), text, ctx.answers.get("mode", "announced"))
    if isinstance(found, Problem):
        return Check(error=found)
    return Check(value={"id": found.id, "name": found.display_name})


ASKED_DAY = "when_asked_day"  # kept with the answers: the day "What time on Fri Dec 4?" asked about


def check_when(text: str, ctx: CheckContext) -> Check:
    """A day and time; after "What time on Fri Dec 4?" a time alone ("10:15") is taken on that day."""
    lookup = _lookup(ctx)
    chosen = ctx.answers.get("teacher")
    teacher = lookup.repos.people.get(chosen["id"]) if chosen else None
    asked = ctx.answers.get(ASKED_DAY)
    if asked and only_clock_time(text):
        text = f"{asked} {text}"
    found = find_time(lookup, text, ctx.answers.get("mode", "announced"), teacher)
    if isinstance(found, Problem):
        if found.template == NO_TIME and found.context.get("date"):
            ctx.answers[ASKED_DAY] = found.context["date"]  # the conversation's answers, saved with its state
        return Check(error=found)
    ctx.answers.pop(ASKED_DAY, None)
    return Check(value=when_answer(found, lookup.zone, teacher, lookup.default_zone))


def check_minutes(text: str, _ctx: CheckContext) -> Check:
    minutes = read_minutes(text)
    return Check(error=minutes) if isinstance(minutes, Problem) else Check(value=minutes)


def recheck(values: dict[str, Any], ctx: CheckContext) -> dict[str, Problem]:
    """The answers still hold together now: the time is ahead, the teacher exists and may be observed so."""
    lookup = _lookup(ctx)
    at = datetime.fromisoformat(values["when"]["at"])
    if at <= lookup.now:
        return {"when": Problem("observations/errors/form_time_passed")}
    teacher = lookup.repos.people.get(values["teacher"]["id"])
    if teacher is None:
        return {"teacher": Problem("observations/errors/unknown_person", {"ref": values["teacher"]["name"]})}
    mode = values["mode"]
    permission = permission_problem(lookup.observer, teacher, mode)
    if permission is not None:
        return {"teacher": permission}
    when = When(at=at, local=at.astimezone(ZoneInfo(lookup.zone)), guessed_date=False)
    problem = time_problem(when, mode, lookup.calendar, lookup.policy, lookup.today, teacher, lookup.now,
                           lookup.default_zone)  # fmt: skip
    return {"when": problem} if problem is not None else {}


def _same_visit(submission: Submission, at: datetime, values: dict[str, Any]) -> int | None:
    end = at + timedelta(minutes=int(values["minutes"]))
    for other in submission.repos.observations.overlapping([submission.person.id], at, end):
        same = (other.observer_id, other.teacher_id, other.starts_at, other.mode)
        if other.status == "scheduled" and same == (submission.person.id, values["teacher"]["id"], at, values["mode"]):
            return other.id
    return None


def observation_form(commands: ObserveCommands) -> FormSpec:
    def submit(submission: Submission) -> FormResult:
        values = submission.values
        at = datetime.fromisoformat(values["when"]["at"])
        twin = _same_visit(submission, at, values)
        if twin is not None:  # scheduled meanwhile (the one-liner, another modal): say so, add nothing
            return FormResult(
                messages=[Outbound(template="observations/errors/already_scheduled", context={"id": twin})]
            )
        outcome = commands.create(
            submission.repos,
            submission.person,
            submission.now,
            values["teacher"]["id"],
            datetime.fromisoformat(values["when"]["at"]),
            values["mode"],
            int(values["minutes"]),
            guessed=bool(values["when"].get("guessed")),
        )
        return FormResult(messages=outcome.messages, result_ref=outcome.observation_id)

    return FormSpec(
        id=FORM_ID,
        submit=submit,
        checks={"teacher": check_teacher, "when": check_when, "minutes": check_minutes},
        cross_check=recheck,
        services=lambda repos, person, now: {"lookup": commands.lookup(repos, person, now)},
        review="observations/ask/confirm",
    )
