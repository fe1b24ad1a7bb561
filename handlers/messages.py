"""The port between the edge and the flows: platform-neutral messages in and out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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

    @property
    def is_click(self) -> bool:
        return self.choice_step is not None


class Choice(BaseModel):
    label: str
    value: str


class Outbound(BaseModel):
    """One message to show. Words come from a template in prompts/, rendered at the edge per format."""

    template: str
    context: dict[str, Any] = Field(default_factory=dict)
    choices: list[Choice] = Field(default_factory=list)
    step: str | None = Field(default=None, description="The step a choice click answers.")


class Reply(BaseModel):
    """What the bot answers to one Inbound.

    `new_thread` asks the adapter to post the first message as the root of a new thread and then tell
    the bot that thread's id (`Bot.bind_thread`), so the dialog continues there.
    """

    messages: list[Outbound] = Field(default_factory=list)
    conversation_id: int | None = None
    new_thread: bool = False
