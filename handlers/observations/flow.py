"""`/observe` with nothing after it: the guided form, one question at a time (mode, who, when, how long)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from handlers.engine import Check, CheckContext, Finish, Flow, Problem, State, Step, Turn
from handlers.messages import Choice, Outbound
from handlers.observations.checks import Lookup, find_teacher, find_time, read_minutes, when_answer
from handlers.observations.service import permission_problem, time_problem
from handlers.observations.when import When
from storage.models import Person
from storage.unit_of_work import Repos

if TYPE_CHECKING:
    from handlers.observations.commands import ObserveCommands

MODE_CHOICES = (
    Choice(label="Announced (evaluation)", value="announced"),
    Choice(label="Unannounced (evaluation)", value="unannounced"),
    Choice(label="Peer observation (non-evaluative)", value="peer"),
    Choice(label="Walkthrough (non-evaluative)", value="walkthrough"),
)


def _step(name: str, **kwargs: Any) -> Step:
    return Step(name=name, prompt=f"observations/ask/{name}", help=f"observations/help/{name}", **kwargs)


def _lookup(ctx: CheckContext) -> Lookup:
    return ctx.services["lookup"]


def check_teacher(text: str, ctx: CheckContext) -> Check:
    lookup = _lookup(ctx)
    found = find_teacher(lookup, text, ctx.answers.get("mode", "announced"))
    if isinstance(found, Problem):
        return Check(error=found)
    return Check(value={"id": found.id, "name": found.display_name})


def check_when(text: str, ctx: CheckContext) -> Check:
    lookup = _lookup(ctx)
    found = find_time(lookup, text, ctx.answers.get("mode", "announced"))
    if isinstance(found, Problem):
        return Check(error=found)
    teacher = lookup.repos.people.get(ctx.answers["teacher"]["id"])
    return Check(value=when_answer(found, lookup.zone, teacher, lookup.default_zone))


def check_minutes(text: str, _ctx: CheckContext) -> Check:
    minutes = read_minutes(text)
    return Check(error=minutes) if isinstance(minutes, Problem) else Check(value=minutes)


class ScheduleObservation(Flow):
    name = "observe"
    review_step = "confirm"
    steps = (
        _step("mode", choices=MODE_CHOICES),
        _step("teacher", check=check_teacher),
        _step("when", check=check_when),
        _step("minutes", check=check_minutes),
        _step(
            "confirm",
            choices=(
                Choice(label="Schedule it", value="schedule"),
                Choice(label="Change the time", value="when"),
                Choice(label="Cancel", value="cancel"),
            ),
        ),
    )

    def __init__(self, commands: ObserveCommands) -> None:
        self.commands = commands

    def services(self, repos: Repos, person: Person, now: datetime) -> dict[str, Any]:
        return {"lookup": self.commands.lookup(repos, person, now)}

    def after(self, state: State, value: Any, ctx: CheckContext) -> Turn | str | None:
        if state.step == "mode" and "teacher" in state.answers:  # a new mode may change who is allowed
            state.answers.pop("teacher", None)
            state.answers.pop("when", None)
        if state.step != "confirm":
            return None
        if value == "cancel":
            return Turn(state, [], self.on_cancel(state))
        if value == "when":
            state.revising = True
            return "when"
        problem = self._recheck(state, _lookup(ctx))
        if problem is not None:  # the form sat open: the time passed, the notice shrank, the roster changed
            state.answers.pop("when")
            state.step = "when"
            return Turn(state, [Outbound(template=problem.template, context=problem.context), self.ask(state, "when")])
        return Turn(state, [], Finish("saved", []))

    def _recheck(self, state: State, lookup: Lookup) -> Problem | None:
        at = datetime.fromisoformat(state.answers["when"]["at"])
        if at <= lookup.now:
            return Problem("observations/errors/form_time_passed")
        teacher = lookup.repos.people.get(state.answers["teacher"]["id"])
        if teacher is None:
            return Problem("observations/errors/unknown_person", {"ref": state.answers["teacher"]["name"]})
        mode = state.answers["mode"]
        when = When(at=at, local=at.astimezone(ZoneInfo(lookup.zone)), guessed_date=False)
        return permission_problem(lookup.observer, teacher, mode) or time_problem(
            when, mode, lookup.calendar, lookup.policy, lookup.today
        )

    def on_cancel(self, state: State) -> Finish:
        return Finish("cancelled", [Outbound(template="observations/form_cancelled")])

    def complete(self, repos: Repos, person: Person, state: State, finish: Finish, now: datetime) -> Finish:
        if finish.status != "saved":
            return finish
        answers = state.answers
        reply = self.commands.create(
            repos, person, now, answers["teacher"]["id"], datetime.fromisoformat(answers["when"]["at"]),
            answers["mode"], int(answers["minutes"]), guessed=bool(answers["when"].get("guessed")),
        )  # fmt: skip
        return Finish(finish.status if reply.ok else "cancelled", reply.messages, reply.observation_id)
