"""The SMART-goal coach as data: the steps in the order of the goal-vetting protocol, then review."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from handlers.engine import Check, CheckContext, Finish, Flow, Lazy, State, Step, Turn, accept
from handlers.goals import checks
from handlers.goals.check import answers_from, critique_message
from handlers.goals.plan import GoalPlan
from handlers.goals.reader import critique
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
# What the engine reads as a command at any step, so a paste step never critiques them.
ENGINE_WORDS = ("back", "/back", "help", "/help", "?", "keep", "skip")
# Goal columns filled from the answers of the same name.
TEXT_FIELDS = ("goal_type", "data_reviewed", "specific", "measurable", "action", "results", "alignment")


def _step(name: str, check: Callable[[str, CheckContext], Check] = accept, **kwargs: Any) -> Step:
    """A step whose prompt and help templates are named after it."""
    return Step(name=name, prompt=f"goals/ask/{name}", help=f"goals/help/{name}", check=check, **kwargs)


class GoalCoach(Flow):
    """The coach; saving a goal schedules its benchmark check-ins through `plan`."""

    name = "goal"
    review_step = "review"
    steps = (
        _step(
            "goal_type",
            choices=(
                *(Choice(label=label, value=value) for value, label in GOAL_TYPES.items()),
                Choice(label="Paste a goal I already have", value="paste"),
            ),
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
                Choice(label="Edit the wording", value="wording"),
            ),
        ),
        _step("wording", check=checks.check_wording),
        _step("revise_pick", choices=tuple(Choice(label=label, value=value) for value, label in PARTS.items())),
        _step("paste"),
        _step("from_check", choices=(Choice(label="Yes", value="yes"), Choice(label="No", value="no"))),
    )

    def __init__(self, plan: GoalPlan | None = None) -> None:
        self.plan = plan

    def ask(self, state: State, step_name: str) -> Outbound:
        """The engine's question; once a pasted or checked goal is being filled in, pasting is not offered again."""
        question = super().ask(state, step_name)
        if step_name == "goal_type" and state.extra.get("guided"):
            question.choices = [c for c in question.choices if c.value != "paste"]
        return question

    def prompt_context(self, state: State) -> dict[str, Any]:
        context = super().prompt_context(state)
        context["parts"] = PARTS
        context["goal_id"] = state.extra.get("goal_id")
        context["by"] = readable_date(state.answers.get("completion_date"))
        if state.step == "from_check":
            context["missing"] = [PARTS[s.name] for s in self.steps if s.name in PARTS and s.name not in state.answers
                                  and not s.skippable]  # fmt: skip
        if state.step == "review":
            context["statement"] = statement_of(state.answers)
        if state.step == "wording":
            context["sentence"] = statement_of(state.answers).split("\n")[0]
            context["benchmarks"] = [
                {"date": readable_date(b["date"]), "check": b.get("check", "")}
                for b in state.answers.get("benchmarks") or []
            ]
        return context

    def services(self, repos: Repos, person: Person, now: datetime) -> Mapping[str, Any]:
        return Lazy({"calendar": lambda: repos.calendars.load(person.workspace_id)})

    def handle(self, state: State, text: str, ctx: CheckContext, clicked_step: str | None = None) -> Turn:
        """The engine's turn, plus what the goal coach adds: keep an earlier answer, a choice by its prefix,
        a pasted whole goal, a confirmed cancel, and later parts read out of an earlier answer."""
        step = self.step(state.step)
        word = text.strip().lower().rstrip(".!")
        pending = state.pending if state.pending and state.pending.get("step") == step.name else None
        if clicked_step is not None and clicked_step != state.step:
            return super().handle(state, text, ctx, clicked_step)
        if word in ("cancel", "/cancel"):
            if (
                state.answers
                and not state.extra.get("goal_id")
                and not state.extra.get("cancel_asked")
                and step.name != "from_check"
            ):
                state.extra["cancel_asked"] = True
                return Turn(state, [Outbound(template="goals/cancel_confirm"), self.ask(state, state.step)])
            return super().handle(state, text, ctx, clicked_step)
        state.extra.pop("cancel_asked", None)
        if step.name == "paste" and word and word not in ENGINE_WORDS:
            return self._take_pasted(state, text, ctx)  # a whole goal may be longer than one step's answer
        if word == "keep" and pending is None and step.name in state.answers and step.name in PARTS:
            state.pending = None
            return self._accept(state, step, state.answers[step.name], ctx, raw="")
        if step.choices and word and step.match_choice(text) is None:
            hits = [c for c in step.choices if c.label.lower().startswith(word) or c.value.lower().startswith(word)]
            if len(hits) == 1:
                text = hits[0].value
            elif step.name == "goal_type" and len(word.split()) >= 6:
                return self._take_pasted(state, text, ctx)
        raw = pending["text"] if (word == "keep" and pending) else text
        before = state.step
        turn = super().handle(state, text, ctx, clicked_step)
        return self._read_ahead(turn, before, raw, ctx)

    def _take_pasted(self, state: State, text: str, ctx: CheckContext) -> Turn:
        """A whole goal: show the critique, fill in the parts found, and ask only for the rest."""
        result = critique(text, ctx.today, ctx.services.get("calendar"))
        found = answers_from(result, ctx.today)
        if not found:  # nothing to build on (empty, another language, one word): say why and ask again
            state.step = "paste"
            return Turn(state, [critique_message(result), self.ask(state, "paste")])
        state.answers.pop("goal_type", None)
        state.answers.update(found)
        state.extra["guided"] = True
        state.history.append(state.step if state.step != "paste" else "goal_type")
        return self._go_on(state, [critique_message(result)], found)

    def _go_on(self, state: State, messages: list[Outbound], found: dict[str, Any]) -> Turn:
        missing = self.first_missing(state)
        state.step = missing or "review"
        names = [PARTS[name] for name in PARTS if name in found]
        missing_names = [PARTS[s.name] for s in self.steps if s.name in PARTS and s.name not in state.answers
                         and not s.skippable]  # fmt: skip
        filled = Outbound(template="goals/check/filled", context={"filled": names, "missing": missing_names})
        return Turn(state, [*messages, filled, self.ask(state, state.step)])

    def _read_ahead(self, turn: Turn, before: str, raw: str, ctx: CheckContext) -> Turn:
        """An answer that already holds a later part fills that part in and says so."""
        state = turn.state
        if turn.finish is not None or state.step == before:
            return turn
        ahead = {"completion_date": "benchmarks", "specific": "measurable"}.get(before)
        if ahead is None or state.step != ahead or ahead in state.answers:
            return turn
        result = critique(raw, ctx.today, ctx.services.get("calendar"))
        context: dict[str, Any] = {"step": ahead}
        if ahead == "benchmarks":
            end = state.answers.get("completion_date") or ""
            marks = sorted(
                {c.value.isoformat() for c in result.reading.checkpoints if c.value and ctx.today < c.value} - {end}
            )
            marks = [m for m in marks if not end or m < end]
            if not marks:
                return turn
            state.answers["benchmarks"] = [{"date": m, "check": "progress check"} for m in marks]
            context["benchmarks"] = [{"date": readable_date(m)} for m in marks]
        else:
            if not result.elements["M"].present:
                return turn
            value = answers_from(result, ctx.today).get("measurable")
            if not value:
                return turn
            state.answers["measurable"] = value
            context["value"] = value
        state.history.append(ahead)
        following = self.first_missing(state) if state.extra.get("guided") else self.following(ahead)
        state.step = following or "review"
        return Turn(state, [Outbound(template="goals/from_answer", context=context), self.ask(state, state.step)])

    def _back(self, state: State) -> Turn:
        turn = super()._back(state)
        return Turn(turn.state, self._with_previous(turn.state, turn.messages), turn.finish)

    def _with_previous(self, state: State, messages: list[Outbound]) -> list[Outbound]:
        if state.step not in PARTS or state.answers.get(state.step) in (None, "", []):
            return messages
        return [Outbound(template="goals/previous", context={"previous": shown(state.step, state.answers)}), *messages]

    def after(self, state: State, value: Any, ctx: CheckContext) -> Turn | str | None:
        if state.step == "goal_type" and value == "paste":
            state.answers.pop("goal_type", None)
            return "paste"
        if state.step == "paste":
            state.answers.pop("paste", None)
            return self._take_pasted(state, str(value), ctx)
        if state.step == "from_check":
            state.answers.pop("from_check", None)
            if value == "no":
                return Turn(state, [], Finish("cancelled", [Outbound(template="goals/check/declined")]))
            state.extra["guided"] = True
            return self._go_on(state, [], dict(state.answers))
        if state.step == "completion_date":
            routed = self._recheck_benchmarks(state, ctx)
            if routed is None and state.extra.get("guided") and not state.revising:
                return self.first_missing(state) or "review"
            return routed
        if state.extra.get("guided") and not state.revising and state.step in PARTS:
            return self.first_missing(state) or "review"
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
            if value == "wording":
                state.answers.pop("review", None)
                return "wording"
            return "revise_pick"
        if state.step == "wording":
            return self.review_step
        if state.step == "revise_pick":
            state.answers.pop("wording", None)  # an own wording of the old parts would no longer match
            state.revising = True
            state.history.append("revise_pick")
            state.step = str(value)
            return Turn(state, self._with_previous(state, [self.ask(state, state.step)]))
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
        if self.plan is not None:
            self.plan.schedule_benchmarks(repos, person, goal, now)
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
        fields["statement"] = statement_of(answers) if status == "saved" else None
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
    sentence = (goal.statement or "").split("\n")[0]
    if sentence and sentence != compose(answers).split("\n")[0]:
        answers["wording"] = sentence  # the teacher wrote their own; reopening keeps it
    order = [s.name for s in GoalCoach.steps if s.name in PARTS]
    missing = [name for name in order if name not in answers]
    step = missing[0] if missing else "review"
    history = order[: order.index(step)] if step in order else order
    return State(step=step, answers=answers, history=history, extra={"goal_id": goal.id, "goal_status": goal.status})


def statement_of(answers: dict[str, Any]) -> str:
    """The composed statement, with the teacher's own wording of the sentence in place of ours if they gave one."""
    composed = compose(answers)
    wording = (answers.get("wording") or "").strip()
    if not wording:
        return composed
    return "\n".join([wording, *composed.split("\n")[1:]])


def shown(step: str, answers: dict[str, Any]) -> str:
    """An earlier answer as the person would read it again (dates spelled out, the type by its label)."""
    value = answers.get(step)
    if step == "goal_type":
        return GOAL_TYPES.get(str(value), str(value))
    if step == "completion_date":
        return readable_date(value)
    if step == "benchmarks":
        return "; ".join(readable_date(b["date"]) + (f" ({b['check']})" if b.get("check") else "") for b in value or [])
    return str(value)
