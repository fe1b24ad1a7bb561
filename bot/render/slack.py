"""Neutral messages as Slack Block Kit: mrkdwn text (user text escaped) and buttons for choices."""

from __future__ import annotations

import json
from typing import Any

import prompts
from handlers.messages import Outbound

CHOICE_ACTION_PREFIX = "gb_choice_"


def render_slack(message: Outbound) -> dict[str, Any]:
    """Arguments for chat.postMessage: `text` as the notification fallback, `blocks` for the look."""
    text = prompts.render(message.template, message.context, prompts.MRKDWN)
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]
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
    return {"text": text, "blocks": blocks}


def parse_choice(value: str) -> tuple[str | None, str]:
    """The step and value a button carries; a malformed value yields no step."""
    try:
        data = json.loads(value)
        return str(data["step"]), str(data["value"])
    except (ValueError, KeyError, TypeError):
        return None, ""
