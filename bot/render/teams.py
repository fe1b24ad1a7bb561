"""Neutral messages and forms as Teams activities: markdown text, Adaptive Cards 1.5 for choices and forms.

A choice becomes an `Action.Submit` whose data names the step and the value; a form becomes one card of
inputs whose submit carries the form id and its context, and whose values come back as a FormSubmission.
Problems found at submit are shown on a re-sent card, each under its input, the person's answers kept.
"""

from __future__ import annotations

from typing import Any

import prompts
from handlers.messages import Form, FormField, FormSubmission, Outbound

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
MARK = "gb"  # in Action.Submit data: which of ours the submit is ("choice", "command" or "form")


def text_of(message: Outbound) -> str:
    return prompts.render(message.template, message.context, prompts.TEAMS)


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "contentType": CARD_TYPE,
        "content": {"type": "AdaptiveCard", "$schema": SCHEMA, "version": "1.5", "body": body, "actions": actions},
    }


def activity(message: Outbound) -> dict[str, Any]:
    """One message: plain markdown text, or a card when it offers choices or command buttons."""
    text = text_of(message)
    if not message.choices and not message.buttons:
        return {"type": "message", "textFormat": "markdown", "text": text}
    actions = [
        {
            "type": "Action.Submit",
            "title": choice.label[:80],
            "data": {MARK: "choice", "step": message.step, "value": choice.value},
        }
        for choice in message.choices
    ] + [
        {
            "type": "Action.Submit",
            "title": button.label[:80],
            "data": {MARK: "command", "command": button.command, "args": button.args},
        }
        for button in message.buttons
    ]
    return {
        "type": "message",
        "summary": text.splitlines()[0][:120] if text else "",
        "attachments": [_card([{"type": "TextBlock", "text": text, "wrap": True}], actions)],
    }


def _input(item: FormField) -> dict[str, Any]:
    base: dict[str, Any] = {"id": item.name, "label": item.label, "isRequired": item.required}
    default = item.default
    if item.kind in ("short_text", "long_text"):
        element = {"type": "Input.Text", **base, "isMultiline": item.kind == "long_text", "maxLength": item.max_length}
        if item.hint:
            element["placeholder"] = item.hint
    elif item.kind == "number":
        element = {"type": "Input.Number", **base}
        element.update({k: v for k, v in (("min", item.min), ("max", item.max)) if v is not None})
    elif item.kind == "date":
        element = {"type": "Input.Date", **base}
    elif item.kind == "time":
        element = {"type": "Input.Time", **base}
    else:
        choices = [{"title": c.label, "value": c.value} for c in item.choices()]
        element = {
            "type": "Input.ChoiceSet",
            **base,
            "choices": choices,
            "isMultiSelect": item.kind == "multiple_choice",
            "style": "expanded" if len(choices) <= 5 else "compact",
        }
        if isinstance(default, list):
            default = ",".join(str(v) for v in default)
    if default is not None:
        element["value"] = str(default)
    return element


def form_activity(form: Form, errors: dict[str, str] | None = None) -> dict[str, Any]:
    """The whole form as one card; `errors` (per field) are shown in red under their inputs."""
    errors = errors or {}
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": prompts.escape_teams(form.title),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    if form.intro:
        body.append({"type": "TextBlock", "text": prompts.escape_teams(form.intro), "wrap": True})
    for item in form.fields:
        body.append(_input(item))
        if item.name in errors:
            body.append(
                {
                    "type": "TextBlock",
                    "text": prompts.escape_teams(errors[item.name]),
                    "color": "Attention",
                    "wrap": True,
                    "spacing": "None",
                }
            )
    submit = {
        "type": "Action.Submit",
        "title": form.submit,
        "data": {MARK: "form", "form": form.id, "context": form.context},
    }
    return {"type": "message", "summary": form.title, "attachments": [_card(body, [submit])]}


def read_submit(value: dict[str, Any]) -> tuple[str, Any]:
    """What a card's submit was: ("choice", (step, value)), ("command", (command, args)), ("form", FormSubmission)
    or ("", None)."""
    kind = value.get(MARK)
    if kind == "choice":
        return "choice", (str(value.get("step") or ""), str(value.get("value") or ""))
    if kind == "command" and isinstance(value.get("command"), str) and value["command"]:
        return "command", (value["command"], str(value.get("args") or ""))
    if kind == "form" and isinstance(value.get("form"), str):
        reserved = {MARK, "form", "context"}
        values = {k: (None if v is None else str(v)) for k, v in value.items() if k not in reserved}
        context = value.get("context") if isinstance(value.get("context"), dict) else {}
        return "form", FormSubmission(form_id=value["form"], values=values, fields=list(values), context=context)
    return "", None


def error_texts(errors: dict[str, Outbound]) -> dict[str, str]:
    return {name: prompts.render(m.template, m.context, prompts.PLAIN) for name, m in errors.items()}
