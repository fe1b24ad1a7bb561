"""A survey in the terminal or a chat thread: the form's questions one at a time, skipping those whose
`show_if` is not met by the answers so far (a modal shows them all, marked "only if ...")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers.engine import CheckContext, Finish, State, Turn
from handlers.form_flow import REVIEW, REVISE, FormFlow
from handlers.forms import FormSpec
from handlers.surveys.instruments import Instrument
from storage.models import Person
from storage.unit_of_work import Repos


def flow_name(instrument_id: str) -> str:
    return f"survey:{instrument_id}"


class SurveyFlow(FormFlow):
    def __init__(self, spec: FormSpec, instrument: Instrument) -> None:
        super().__init__(spec)
        self.name = flow_name(instrument.id)
        self.instrument = instrument

    def shown(self, question_id: str, answers: dict[str, Any]) -> bool:
        condition = self.instrument.question(question_id).show_if
        return condition is None or answers.get(condition[0]) in condition[1]

    def after(self, state: State, value: Any, ctx: CheckContext) -> Turn | str | None:
        routed = super().after(state, value, ctx)
        if routed is not None or state.step in (REVIEW, REVISE) or state.revising:
            return routed
        names = [q.id for q in self.instrument.questions]
        for name in names[names.index(state.step) + 1 :]:
            if self.shown(name, state.answers):
                return name
            state.answers.pop(name, None)  # hidden now: an earlier answer to it no longer counts
        return REVIEW

    def complete(self, repos: Repos, person: Person, state: State, finish: Finish, now: datetime) -> Finish:
        """Submit, then keep nothing of the answers (or which survey) in the conversation row."""
        done = super().complete(repos, person, state, finish, now)
        repos.surveys.scrub_conversation(person.workspace_id, person.platform_user_id, self.name)
        return done
