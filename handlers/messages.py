"""The port between the edge and the flows: platform-neutral messages in and out."""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(value: str) -> str:
    """Text as typed, made safe to store and show: lone surrogates replaced, control characters dropped, NFC.

    Every platform's text passes here on the way in, so no later step meets a string it cannot encode.
    """
    value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _CONTROL.sub("", unicodedata.normalize("NFC", value))


class Choice(BaseModel):
    label: str
    value: str


class CommandButton(BaseModel):
    """A button that runs a slash command for whoever clicks it (`/plc log Grade 4`, `/survey answer 3`).

    Unlike a Choice, which answers one step of one person's conversation, it may sit in a channel where anyone
    clicks it: each click is that person typing the command, so a form opens for them (a modal needs the
    click's own trigger). The terminal, which has no buttons, shows the command to type.
    """

    label: str
    command: str
    args: str = ""

    @property
    def typed(self) -> str:
        return f"/{self.command} {self.args}".strip()


TEXT_LIMIT = 3000  # Slack's plain_text_input maximum; every surface keeps the same limit
FieldKind = Literal[
    "short_text", "long_text", "number", "date", "time", "single_choice", "multiple_choice", "rating", "likert"
]


class FormField(BaseModel):
    """One question. `label` is the question; `hint` an example shown as a placeholder or after the label."""

    name: str
    kind: FieldKind
    label: str
    hint: str = ""
    help: str = ""
    required: bool = True
    default: Any = None
    options: list[Choice] = Field(default_factory=list)
    min: float | None = None
    max: float | None = None
    max_length: int = TEXT_LIMIT
    scale: int = 5

    def choices(self) -> list[Choice]:
        """The options a person picks from; a rating offers 1..scale."""
        if self.kind == "rating" and not self.options:
            return [Choice(label=str(n), value=str(n)) for n in range(1, self.scale + 1)]
        return list(self.options)


class Form(BaseModel):
    id: str
    title: str
    intro: str = ""
    submit: str = "Submit"
    fields: list[FormField]
    context: dict[str, Any] = Field(default_factory=dict, description="Carried through to the submission.")

    def field(self, name: str) -> FormField:
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(name)

    def with_defaults(self, defaults: dict[str, Any]) -> Form:
        fields = [f.model_copy(update={"default": defaults[f.name]}) if f.name in defaults else f for f in self.fields]
        return self.model_copy(update={"fields": fields})


class FormSubmission(BaseModel):
    """Answers from a form shown by the platform (a modal page, a card). `fields`: the questions it showed.

    `draft` ties the pages of one modal together (Slack's view id); `last` says whether to submit.
    """

    form_id: str
    values: dict[str, str | list[str] | None] = Field(default_factory=dict)
    fields: list[str] = Field(default_factory=list)
    context: dict[str, Any] = Field(default_factory=dict)
    draft: str | None = None
    last: bool = True

    @field_validator("values")
    @classmethod
    def _clean(cls, values: dict[str, Any]) -> dict[str, Any]:
        return {
            key: [clean_text(str(v)) for v in value] if isinstance(value, list) else
            (None if value is None else clean_text(str(value)))
            for key, value in values.items()
        }  # fmt: skip


class Inbound(BaseModel):
    """Something a person did: typed text, a command, or a click on a choice."""

    platform: str
    workspace: str
    user_id: str
    user_name: str = ""
    time_zone: str | None = None
    email: str | None = Field(default=None, description="From the platform profile: links a roster row.")
    channel: str
    thread: str | None = None
    text: str = ""
    command: str | None = None
    choice_step: str | None = Field(default=None, description="For a click: the step whose question showed the button.")
    event_key: str | None = Field(
        default=None, description="The platform's id for this delivery; a repeated id is ignored."
    )
    form: FormSubmission | None = Field(default=None, description="A submitted form (modal, card).")
    forms: bool = Field(default=False, description="The platform can show a form itself (a modal, a card).")
    button: bool = Field(default=False, description="The command came from a click on a CommandButton.")

    @field_validator("text", "user_name", "command")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        return None if value is None else clean_text(value)

    @property
    def is_click(self) -> bool:
        return self.choice_step is not None


class Outbound(BaseModel):
    """One message to show. Words come from a template in prompts/, rendered at the edge per format."""

    template: str
    context: dict[str, Any] = Field(default_factory=dict)
    choices: list[Choice] = Field(default_factory=list)
    step: str | None = Field(default=None, description="The step a choice click answers.")
    buttons: list[CommandButton] = Field(default_factory=list, description="Commands anyone who sees it can run.")


class Reply(BaseModel):
    """What the bot answers to one Inbound.

    `new_thread` asks the adapter to post the first message as the root of a new thread and then tell
    the bot that thread's id (`Bot.bind_thread`), so the dialog continues there.
    """

    messages: list[Outbound] = Field(default_factory=list)
    conversation_id: int | None = None
    new_thread: bool = False
    form: Form | None = Field(default=None, description="Show this form (only when the Inbound allowed forms).")
    form_errors: dict[str, Outbound] = Field(default_factory=dict, description="Per field: what to fix.")
