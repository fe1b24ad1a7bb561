"""Neutral messages as Slack Block Kit: mrkdwn text (user text escaped) and buttons for choices."""

from __future__ import annotations

import json
import re
from typing import Any

import prompts
from handlers.messages import Outbound

CHOICE_ACTION_PREFIX = "gb_choice_"
COMMAND_ACTION_PREFIX = "gb_cmd_"  # a CommandButton: runs its slash command for whoever clicks
SECTION_LIMIT = 3000


def render_slack(message: Outbound) -> dict[str, Any]:
    """Arguments for chat.postMessage: `text` as the notification fallback, `blocks` for the look."""
    text = prompts.render(message.template, message.context, prompts.MRKDWN)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in split_for_blocks(text)
    ]
    if message.choices:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"choices_{message.step or 'none'}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"{CHOICE_ACTION_PREFIX}{index}",
                        "text": {"type": "plain_text", "text": choice.label[:75]},
                        "value": json.dumps({"step": message.step, "value": choice.value}),
                    }
                    for index, choice in enumerate(message.choices)
                ],
            }
        )
    if message.buttons:
        blocks.append(
            {
                "type": "actions",
                "block_id": "commands",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"{COMMAND_ACTION_PREFIX}{index}",
                        "text": {"type": "plain_text", "text": button.label[:75]},
                        "value": json.dumps({"command": button.command, "args": button.args})[:2000],
                        **({"style": "primary"} if index == 0 else {}),
                    }
                    for index, button in enumerate(message.buttons)
                ],
            }
        )
    return {"text": text, "blocks": blocks}


_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def plain_text(text: str) -> str:
    """What the person typed, from Slack's wire format: links and mentions as shown, entities undone.

    Stored answers must read the same in an export or the terminal, and escaping happens again on the way out.
    """

    def shown(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if label:
            return label
        if target.startswith(("@", "#")):
            return target
        if target.startswith("!"):
            return "@" + target[1:]
        return target

    text = _LINK.sub(shown, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def split_for_blocks(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Slack caps a section at 3,000 characters: cut long text at line breaks (or spaces), never mid-word."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n ")
    return [*parts, text] if text or not parts else parts


def parse_command(value: str) -> tuple[str, str] | None:
    """The command and arguments a command button carries; None for a malformed value."""
    try:
        data = json.loads(value)
        command, args = str(data["command"]), str(data.get("args") or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return (command, args) if command else None


def parse_choice(value: str) -> tuple[str | None, str]:
    """The step and value a button carries; a malformed value yields no step."""
    try:
        data = json.loads(value)
        return str(data["step"]), str(data["value"])
    except (ValueError, KeyError, TypeError):
        return None, ""
