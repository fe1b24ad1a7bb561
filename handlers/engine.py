"""The conversation engine: multi-step flows described as data, driven one message at a time.

A flow is a list of named steps. Each step has a prompt template, a help template, optional choices and
a check that turns the person's text into a value, coaching tips, or a blocking problem. The engine
keeps the answers in the conversation payload, so a restart resumes at the same step, and understands
`cancel`, `back`, `help`, `skip` and `keep` at every step.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from handlers.messages import Choice, Outbound
from storage.models import Person
from storage.unit_of_work import Repos

MAX_ANSWER_CHARS = 2000


@dataclass(frozen=True)
class Problem:
    """A message about an answer: a template under prompts/templates/ and what it needs."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    """What a step made of an answer. `error` blocks; `tips` coach but the person may `keep` the answer."""

    value: Any = None
    tips: tuple[Problem, ...] = ()
    error: Problem | None = None


class Lazy(Mapping[str, Any]):
    """Services looked up only when a check asks for them, once a turn: most turns never need the calendar."""

    def __init__(self, loaders: dict[str, Callable[[], Any]]) -> None:
        self._loaders = loaders
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            self._loaded[name] = self._loaders[name]()
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)


@dataclass(frozen=True)
class CheckContext:
    """What a check may know besides the text: today, earlier answers, and what its flow looked up.

    `services` comes from `Flow.services` (e.g. a roster lookup), so checks stay plain functions that
    never open a transaction themselves.
    """

    today: date
    answers: dict[str, Any]
    services: Mapping[str, Any] = field(default_factory=dict)


def accept(text: str, _ctx: CheckContext) -> Check:
    return Check(value=text)


@dataclass(frozen=True)
class Step:
    name: str
    prompt: str
    help: str
    check: Callable[[str, CheckContext], Check] = accept
    choices: tuple[Choice, ...] = ()
    skippable: bool = False

    def match_choice(self, text: str) -> str | None:
        """A choice by its number, its value or its label (any case), or None."""
        wanted = text.strip().lower().rstrip(".")
        for number, choice in enumerate(self.choices, start=1):
            if wanted in (str(number), choice.value.lower(), choice.label.lower()):
                return choice.value
        return None


@dataclass
class State:
    """A conversation's place and answers, as kept in the conversation row's JSON payload."""

    step: str
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    pending: dict[str, Any] | None = None
    revising: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, step: str, payload: dict[str, Any]) -> State:
        data = copy.deepcopy(payload)
        return cls(
            step=step,
            answers=data.get("answers", {}),
            history=data.get("history", []),
            pending=data.get("pending"),
            revising=data.get("revising", False),
            extra=data.get("extra", {}),
        )

    def dump(self) -> dict[str, Any]:
        return copy.deepcopy(
            {
                "answers": self.answers,
                "history": self.history,
                "pending": self.pending,
                "revising": self.revising,
                "extra": self.extra,
            }
        )


@dataclass(frozen=True)
class Finish:
    """The flow's last word: close the conversation with this status and say these messages."""

    status: str
    messages: list[Outbound]
    result_ref: int | None = None


@dataclass(frozen=True)
class Turn:
    """One step forward: the new state, what to say, and whether the conversation is over."""

    state: State
    messages: list[Outbound]
    finish: Finish | None = None


class Flow:
    """Base for a flow: the steps in order, where a finished answer leads, and what `done` means.

    Subclasses override `after` for branching (e.g. a review step that saves) and `on_cancel`.
    """

    name: str = ""
    steps: tuple[Step, ...] = ()
    review_step: str | None = None

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def following(self, name: str) -> str | None:
        names = [s.name for s in self.steps]
        index = names.index(name)
        return names[index + 1] if index + 1 < len(names) else None

    def ask(self, state: State, step_name: str) -> Outbound:
        step = self.step(step_name)
        context = self.prompt_context(state)
        context["skippable"] = step.skippable
        return Outbound(template=step.prompt, context=context, choices=list(step.choices), step=step.name)

    def prompt_context(self, state: State) -> dict[str, Any]:
        return {"answers": state.answers, "revising": state.revising}

    def after(self, state: State, value: Any, ctx: CheckContext) -> Turn | str | None:
        """Where an accepted answer leads: a step name, a full Turn, or None for the next step."""
        return None

    def on_cancel(self, state: State) -> Finish:
        return Finish("cancelled", [Outbound(template="engine/cancelled")])

    def services(self, repos: Repos, person: Person, now: datetime) -> Mapping[str, Any]:
        """Lookups this flow's checks need, bound to the current transaction and person."""
        return {}

    def complete(self, repos: Repos, person: Person, state: State, finish: Finish, now: datetime) -> Finish:
        """Carry out what finishing means for this flow (e.g. save a record) inside the turn's transaction."""
        return finish

    def expire(self, repos: Repos, person: Person, state: State, now: datetime) -> Finish:
        """Called when the conversation sat idle too long; keep what the person typed."""
        return Finish("expired", [])

    # -- the engine --------------------------------------------------------------------------------

    def handle(self, state: State, text: str, ctx: CheckContext, clicked_step: str | None = None) -> Turn:
        """Advance `state` by one message. Never raises on any text a person can type."""
        step = self.step(state.step)
        if clicked_step is not None and clicked_step != state.step:
            return self._stay(state, Outbound(template="engine/old_button"))
        text = text.strip()
        word = text.lower().rstrip(".!")
        if word in ("cancel", "/cancel"):
            return Turn(state, [], self.on_cancel(state))
        if word in ("back", "/back"):
            return self._back(state)
        if word in ("help", "/help", "?"):
            return self._stay(state, Outbound(template=step.help, context=self.prompt_context(state)))
        if word == "keep" and state.pending and state.pending.get("step") == step.name:
            return self._accept(state, step, state.pending["value"], ctx, raw=state.pending["text"])
        if word == "skip" and step.skippable:
            return self._accept(state, step, None, ctx, raw="")
        if not text:
            return self._stay(state, Outbound(template="engine/empty", context={"skippable": step.skippable}))
        if len(text) > MAX_ANSWER_CHARS:
            return self._stay(
                state,
                Outbound(template="engine/too_long", context={"limit": MAX_ANSWER_CHARS, "got": len(text)}),
            )
        if step.choices:
            value = step.match_choice(text)
            if value is None:
                return self._stay(
                    state,
                    Outbound(template="engine/not_a_choice", choices=list(step.choices), step=step.name),
                )
            return self._accept(state, step, value, ctx, raw=text)
        checked = step.check(text, ctx)
        if checked.error is not None:
            problem = checked.error
            return self._stay(state, Outbound(template=problem.template, context=problem.context))
        if checked.tips:
            state.pending = {"step": step.name, "text": text, "value": checked.value}
            tips = [{"template": t.template, "context": t.context} for t in checked.tips]
            return Turn(state, [Outbound(template="engine/coach", context={"tips": tips})])
        return self._accept(state, step, checked.value, ctx, raw=text)

    def _stay(self, state: State, message: Outbound) -> Turn:
        return Turn(state, [message])

    def first_missing(self, state: State) -> str | None:
        """The first required step (before the review, not skippable) that has no answer yet."""
        for step in self.steps:
            if step.name == self.review_step:
                return None
            if not step.skippable and step.name not in state.answers:
                return step.name
        return None

    def _back(self, state: State) -> Turn:
        state.pending = None
        if state.revising and self.review_step:
            missing = self.first_missing(state)
            if missing is not None:
                state.step = missing
                return Turn(state, [Outbound(template="engine/still_needed"), self.ask(state, missing)])
            state.revising = False
            state.step = self.review_step
            return Turn(state, [self.ask(state, state.step)])
        if not state.history:
            return Turn(state, [Outbound(template="engine/at_start"), self.ask(state, state.step)])
        state.step = state.history.pop()
        return Turn(state, [self.ask(state, state.step)])

    def _accept(self, state: State, step: Step, value: Any, ctx: CheckContext, raw: str) -> Turn:
        state.pending = None
        state.answers[step.name] = value
        routed = self.after(state, value, replace(ctx, answers=state.answers))
        if isinstance(routed, Turn):
            return routed
        if routed is None:
            if state.revising and self.review_step:
                routed = self.review_step
                state.revising = False
            else:
                routed = self.following(step.name)
        if routed is None:
            raise LookupError(f"flow {self.name} has no step after {step.name}")
        if routed != step.name:
            state.history.append(step.name)
        state.step = routed
        return Turn(state, [self.ask(state, routed)])
