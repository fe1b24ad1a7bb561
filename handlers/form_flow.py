"""A neutral form as a conversation: one question at a time, then a review before anything is submitted.

This is how the terminal shows every form, and how a chat thread does when the platform cannot open a
modal (say Slack's trigger expired). `back`, `skip` (optional questions), `cancel` and `help` work as in
every flow; `keep` takes a question's default. Answers pass through the same checks as a modal's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from handlers.engine import CheckContext, Finish, Flow, State, Step, Turn
from handlers.forms import CHOICE_KINDS, FormSpec, Submission, check_field
from handlers.messages import Choice, Form, FormField, Outbound
from storage.models import Person
from storage.unit_of_work import Repos

REVIEW, REVISE = "review", "revise_pick"
KEEP_WORDS = ("keep", "same", "default")


def flow_name(form_id: str) -> str:
    return f"form:{form_id}"


def _shown(item: FormField, value: Any) -> str:
    """An answer as the person would recognise it: the option's label, a list joined, else the text."""
    if value is None:
        return ""
    labels = {c.value: c.label for c in item.choices()}
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    if isinstance(value, dict):
        return str(value.get("name") or value.get("described") or "")
    if item.kind == "date":
        return date.fromisoformat(str(value)).strftime("%a, %b %-d, %Y")
    return labels.get(str(value), str(value))


class FormFlow(Flow):
    review_step = REVIEW

    def __init__(self, spec: FormSpec) -> None:
        self.spec = spec
        self.name = flow_name(spec.id)
        form = spec.form()
        fields = tuple(self._step(item) for item in form.fields)
        review = Step(
            name=REVIEW,
            prompt=spec.review,
            help="forms/help_review",
            choices=(
                Choice(label=form.submit, value="submit"),
                Choice(label="Change an answer", value="change"),
                Choice(label="Cancel", value="cancel"),
            ),
        )
        revise = Step(
            name=REVISE,
            prompt="forms/revise_pick",
            help="forms/help_review",
            choices=tuple(Choice(label=item.label, value=item.name) for item in form.fields),
        )
        self.steps = (*fields, review, revise)

    def form(self, state: State) -> Form:
        return self.spec.form().with_defaults(state.extra.get("defaults", {}))

    def _step(self, item: FormField) -> Step:
        choices = tuple(item.choices()) if item.kind in CHOICE_KINDS else ()

        def check(text: str, ctx: CheckContext) -> Any:
            return check_field(self.spec, item, text, ctx)

        return Step(
            name=item.name,
            prompt="forms/ask",
            help="forms/help",
            check=check,
            choices=choices,
            skippable=not item.required,
        )

    def values(self, state: State) -> dict[str, Any]:
        """The form's answers alone (not the review's), each field present, None where skipped."""
        return {item.name: state.answers.get(item.name) for item in self.spec.form().fields}

    def start_state(self, defaults: dict[str, Any], context: dict[str, Any]) -> State:
        first = self.spec.form().fields[0].name
        return State(step=first, extra={"defaults": defaults, "context": context})

    def prompt_context(self, state: State) -> dict[str, Any]:
        form = self.form(state)
        context = super().prompt_context(state)
        context["form"] = {"title": form.title, "intro": form.intro}
        context["review"] = [
            {"label": item.label, "answer": _shown(item, state.answers.get(item.name))}
            for item in form.fields
            if state.answers.get(item.name) is not None
        ]
        context.update(self._field_context(state, state.step))  # for `help` at a question
        return context

    def ask(self, state: State, step_name: str) -> Outbound:
        message = super().ask(state, step_name)
        message.context.update(self._field_context(state, step_name))
        return message

    def _field_context(self, state: State, name: str) -> dict[str, Any]:
        """What the question and its help say about one field: label, example, position, earlier answer."""
        form = self.form(state)
        names = [item.name for item in form.fields]
        if name not in names:
            return {}
        item = form.field(name)
        return {
            "field": item.model_dump(include={"label", "hint", "help", "kind", "required", "min", "max"}),
            "number": names.index(name) + 1,
            "total": len(names),
            "default": _shown(item, item.default) if item.default is not None else "",
            "previous": _shown(item, state.answers.get(name)) if name in state.answers else "",
        }

    def handle(self, state: State, text: str, ctx: CheckContext, clicked_step: str | None = None) -> Turn:
        """`keep` at a question with a default (or an earlier answer) takes it, as a click on it would."""
        if text.strip().lower().rstrip(".!") in KEEP_WORDS and not state.pending and state.step not in (REVIEW, REVISE):
            item = self.form(state).field(state.step)
            kept = state.answers.get(item.name, item.default)
            if kept is not None:
                return self._accept(state, self.step(state.step), kept, ctx, raw=str(kept))
        return super().handle(state, text, ctx, clicked_step)

    def after(self, state: State, value: Any, ctx: CheckContext) -> Turn | str | None:
        if state.step == REVISE:
            state.revising = True
            return str(value)
        if state.step != REVIEW:
            return None
        if value == "cancel":
            return Turn(state, [], self.on_cancel(state))
        if value == "change":
            return REVISE
        problems = self.spec.cross_check(self.values(state), ctx) if self.spec.cross_check else {}
        if problems:  # the form sat open: the time passed, the roster changed, a rule across answers broke
            name, problem = next(iter(problems.items()))
            state.answers.pop(name, None)
            state.step = name
            state.revising = True
            return Turn(state, [Outbound(template=problem.template, context=problem.context), self.ask(state, name)])
        return Turn(state, [], Finish("saved", []))

    def on_cancel(self, state: State) -> Finish:
        return Finish("cancelled", [Outbound(template="forms/cancelled", context={"title": self.form(state).title})])

    def services(self, repos: Repos, person: Person, now: datetime) -> dict[str, Any]:
        return self.spec.services(repos, person, now) if self.spec.services else {}

    def complete(self, repos: Repos, person: Person, state: State, finish: Finish, now: datetime) -> Finish:
        if finish.status != "saved":
            return finish
        submission = Submission(repos, person, now, self.values(state), dict(state.extra.get("context", {})))
        result = self.spec.submit(submission)
        if result.errors:
            problems = [Outbound(template=p.template, context=p.context) for p in result.errors.values()]
            return Finish("cancelled", [*problems, Outbound(template="forms/not_saved")])
        return Finish("saved", result.messages, result.result_ref)
