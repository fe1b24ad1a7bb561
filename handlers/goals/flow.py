"""The SMART-goal coach as data: the steps in the order of the goal-vetting protocol, then review."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from handlers.engine import Check, CheckContext, Finish, Flow, State, Step, Turn, accept
from handlers.goals import checks
from handlers.goals.statement import GOAL_TYPES, compose, readable_date
from handlers.messages import Choice, Outbound
from storage.models import Goal, Person
from storage.unit_of_work import Repos

PARTS = {
    "goal_type": "Goal type",
    "data_reviewed": "Data reviewed",
    "specific": "Specific & Strategic",
    "measurable": "Measurable",
    "action": "Action-oriented",
    "results": "Rigorous, Realistic & Results-focused",
    "completion_date": "Completion date",
    "benchmarks": "Benchmarks",
    "alignment": "Alignment",
}
# Goal columns filled from the answers of the same name.
TEXT_FIELDS = ("goal_type", "data_reviewed", "specific", "measurable", "action", "results", "alignment")


def _step(name: str, check: Callable[[str, CheckContext], Check] = accept, **kwargs: Any) -> Step:
    """A step whose prompt and help templates are named after it."""
    return Step(name=name, prompt=f"goals/ask/{name}", help=f"goals/help/{name}", check=check, **kwargs)


class GoalCoach(Flow):
    name = "goal"
    review_step = "review"
    steps = (
        _step(
            "goal_type",
            choices=tuple(Choice(label=label, value=value) for value, label in GOAL_TYPES.items()),
        ),
        _step("data_reviewed", checks.check_data),
        _step("specific", checks.check_specific),
        _step("measurable", checks.check_measurable),
        _step("action", checks.check_action),
        _step("results", checks.check_results),
        _step("completion_date", checks.check_completion),
        _step("benchmarks", checks.check_benchmarks),
        _step("alignment", skippable=True),
        _step(
            "review",
            choices=(
                Choice(label="Save", value="save"),
                Choice(label="Revise a part", value="revise"),
                Choice(label="Cancel", value="cancel"),
            ),
        ),
        _step("revise_pick", choices=tuple(Choice(label=label, value=value) for value, label in PARTS.items())),
    )

    def prompt_context(self, state: State) -> dict[str, Any]:
        context = super().prompt_context(state)
        context["parts"] = PARTS
        context["goal_id"] = state.extra.get("goal_id")
        context["by"] = readable_date(state.answers.get("completion_date"))
        if state.step == "review":
            context["statement"] = compose(state.answers)
            context["benchmarks"] = [
                {"date": readable_date(b["date"]), "check": b.get("check", "")}
                for b in state.answers.get("benchmarks") or []
            ]
        return context

    def after(self, state: State, value: Any, ctx: CheckContext) -> Turn | str | None:
        if state.step == "completion_date":
            return self._recheck_benchmarks(state, ctx)
        if state.step == "review":
            if value == "save":
                missing = self.first_missing(state)
                if missing is not None:
                    state.revising = True
                    state.step = missing
                    return Turn(state, [Outbound(template="engine/still_needed"), self.ask(state, missing)])
                return Turn(state, [], Finish("saved", []))
            if value == "cancel":
                return Turn(state, [], self.on_cancel(state))
            return "revise_pick"
        if state.step == "revise_pick":
            state.revising = True
            return str(value)
        return None

    def _recheck_benchmarks(self, state: State, ctx: CheckContext) -> str | None:
        """A new completion date can strand benchmarks after it: ask for them again if so."""
        benchmarks = state.answers.get("benchmarks")
        end = state.answers.get("completion_date")
        if state.revising and benchmarks and end and any(b["date"] >= end for b in benchmarks):
            state.answers.pop("benchmarks", None)
            return "benchmarks"
        return None

    def on_cancel(self, state: State) -> Finish:
        template = "goals/edit_cancelled" if state.extra.get("goal_id") else "goals/cancelled"
        return Finish("cancelled", [Outbound(template=template, context={"goal_id": state.extra.get("goal_id")})])

    # -- effects on storage ----------------------------------------------------------------------------

    def complete(self, repos: Repos, person: Person, state: State, finish: Finish, now: datetime) -> Finish:
        """Save the goal (new, or the one being edited) when the person chose Save."""
        if finish.status != "saved":
            return finish
        goal = self.store(repos, person, state, "saved", now)
        return Finish(
            "saved",
            [Outbound(template="goals/saved", context={"goal_id": goal.id, "statement": goal.statement})],
            result_ref=goal.id,
        )

    def expire(self, repos: Repos, person: Person, state: State, now: datetime) -> Finish:
        """An idle draft is set aside as a draft goal, so nothing typed is lost."""
        goal_id = state.extra.get("goal_id")
        current = repos.goals.get_for(person.id, goal_id) if goal_id else None
        if current is not None and current.status == "saved":  # read now: another thread may have saved it
            return Finish("expired", [Outbound(template="goals/edit_expired", context={"goal_id": goal_id})], goal_id)
        if state.pending:  # an answer that drew a coaching note was still typed by the person
            state.answers.setdefault(state.pending["step"], state.pending["value"])
        if not state.answers:
            return Finish("expired", [Outbound(template="goals/draft_empty_expired")])
        goal = self.store(repos, person, state, "draft", now)
        return Finish("expired", [Outbound(template="goals/draft_kept", context={"goal_id": goal.id})], goal.id)

    def store(self, repos: Repos, person: Person, state: State, status: str, now: datetime) -> Goal:
        answers = state.answers
        fields: dict[str, Any] = {name: answers.get(name) for name in TEXT_FIELDS}
        completion = answers.get("completion_date")
        fields["completion_date"] = date.fromisoformat(completion) if completion else None
        fields["benchmarks"] = answers.get("benchmarks") or []
        fields["statement"] = compose(answers) if status == "saved" else None
        goal_id = state.extra.get("goal_id")
        existing = repos.goals.get_for(person.id, goal_id) if goal_id else None
        if existing is not None:
            return repos.goals.update(existing, fields, status, now)
        return repos.goals.add(person.id, fields, status, now)


def state_from_goal(goal: Goal) -> State:
    """Reopen a goal in the coach: a saved one at the review, a draft at its first missing part."""
    answers: dict[str, Any] = {name: getattr(goal, name) for name in TEXT_FIELDS if getattr(goal, name)}
    if goal.completion_date:
        answers["completion_date"] = goal.completion_date.isoformat()
    if goal.benchmarks:
        answers["benchmarks"] = list(goal.benchmarks)
    if goal.alignment is None and goal.status == "saved":
        answers["alignment"] = None
    order = [s.name for s in GoalCoach.steps if s.name not in ("review", "revise_pick")]
    missing = [name for name in order if name not in answers]
    step = missing[0] if missing else "review"
    history = order[: order.index(step)] if step in order else order
    return State(step=step, answers=answers, history=history, extra={"goal_id": goal.id, "goal_status": goal.status})
