"""Neutral messages as plain text for the terminal: choices become a numbered list."""

from __future__ import annotations

import prompts
from handlers.messages import Outbound


def render_plain(message: Outbound) -> str:
    text = prompts.render(message.template, message.context, prompts.PLAIN)
    if message.choices:
        options = "\n".join(f"  {n}. {choice.label}" for n, choice in enumerate(message.choices, start=1))
        text = f"{text}\n{options}"
    if message.buttons:  # no buttons in a terminal: the command each would run, to type
        commands = "\n".join(f"  {button.label}: type {button.typed}" for button in message.buttons)
        text = f"{text}\n{commands}"
    return text
