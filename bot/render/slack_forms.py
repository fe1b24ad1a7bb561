"""Neutral forms as Slack modals, and a modal's `view_submission` back as a neutral FormSubmission.

Slack's limits are kept here so a view over them is never sent: at most 100 blocks (a long form is split
into pages, each submitted with `response_action: update`), a 24-character title and button, 3,000
characters of `private_metadata`, text inputs of at most 3,000 characters, 10 radio buttons or checkboxes
(more options become a select menu of at most 100).
"""

from __future__ import annotations

import json
from typing import Any

import prompts
from handlers.messages import Form, FormField, FormSubmission, Outbound

CALLBACK_ID = "gb_form"
MAX_BLOCKS = 100
INPUTS_PER_PAGE = 20  # well inside 100 blocks, and a page a person can take in
TITLE_LIMIT = 24
METADATA_LIMIT = 3000
OPTION_TEXT_LIMIT = 75
ACTION = "v"


class ViewTooLarge(ValueError):
    """The form cannot be shown within Slack's limits even when split (say its context is too big)."""


def _plain(text: str, limit: int) -> dict[str, Any]:
    text = text.strip() or " "
    return {"type": "plain_text", "text": text if len(text) <= limit else text[: limit - 1] + "…"}


def pages(form: Form) -> list[list[FormField]]:
    fields = form.fields
    return [fields[i : i + INPUTS_PER_PAGE] for i in range(0, len(fields), INPUTS_PER_PAGE)] or [[]]


def page_of(form: Form, name: str) -> int:
    for number, page in enumerate(pages(form)):
        if any(item.name == name for item in page):
            return number
    return 0


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _plain(label, OPTION_TEXT_LIMIT), "value": value[:150]}


def _element(item: FormField) -> dict[str, Any]:
    default = item.default
    if item.kind in ("short_text", "long_text"):
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": ACTION,
            "multiline": item.kind == "long_text",
            "max_length": min(item.max_length, 3000),
        }
        if item.hint:
            element["placeholder"] = _plain(item.hint, 150)
        if default is not None:
            element["initial_value"] = str(default)[:3000]
        return element
    if item.kind == "number":
        whole = all(v is None or float(v).is_integer() for v in (item.min, item.max))
        element = {"type": "number_input", "action_id": ACTION, "is_decimal_allowed": not whole}
        for key, value in (("min_value", item.min), ("max_value", item.max), ("initial_value", default)):
            if value is not None:
                element[key] = str(int(float(value))) if whole else str(value)
        return element
    if item.kind == "date":
        element = {"type": "datepicker", "action_id": ACTION}
        if default:
            element["initial_date"] = str(default)
        return element
    if item.kind == "time":
        element = {"type": "timepicker", "action_id": ACTION}
        if default:
            element["initial_time"] = str(default)
        return element
    options = [_option(c.label, c.value) for c in item.choices()][:100]
    several = item.kind == "multiple_choice"
    few = len(options) <= 10
    kind = (
        ("checkboxes" if few else "multi_static_select") if several else ("radio_buttons" if few else "static_select")
    )
    element = {"type": kind, "action_id": ACTION, "options": options}
    if not few:
        element["placeholder"] = _plain("Choose", 150)
    chosen = [default] if default is not None and not isinstance(default, list) else list(default or [])
    initial = [o for o in options if o["value"] in {str(v) for v in chosen}]
    if initial:
        if several:
            element["initial_options"] = initial
        else:
            element["initial_option"] = initial[0]
    return element


def _input(item: FormField) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": f"f_{item.name}",
        "optional": not item.required,
        "label": _plain(item.label, 2000),
        "element": _element(item),
    }
    if item.help:
        block["hint"] = _plain(item.help, 2000)
    return block


def modal(form: Form, page: int = 0, banner: list[str] | None = None) -> dict[str, Any]:
    """The view for one page of `form`; raises ViewTooLarge rather than send something Slack refuses."""
    split = pages(form)
    page = max(0, min(page, len(split) - 1))
    blocks: list[dict[str, Any]] = []
    if banner:
        text = "\n".join(f"• {line}" for line in banner)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": prompts.escape_mrkdwn(text)[:3000]}})
    if page == 0 and form.intro:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": prompts.escape_mrkdwn(form.intro)[:3000]}})
    if len(split) > 1:
        blocks.append({"type": "context", "elements": [_plain(f"Page {page + 1} of {len(split)}", 150)]})
    blocks.extend(_input(item) for item in split[page])
    metadata = json.dumps({"f": form.id, "p": page, "n": len(split), "c": form.context}, separators=(",", ":"))
    if len(metadata) > METADATA_LIMIT:
        raise ViewTooLarge(f"form {form.id}: {len(metadata)} characters of metadata")
    if len(blocks) > MAX_BLOCKS:
        raise ViewTooLarge(f"form {form.id}: {len(blocks)} blocks on one page")
    last = page == len(split) - 1
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": _plain(form.title, TITLE_LIMIT),
        "submit": _plain(form.submit if last else "Next", TITLE_LIMIT),
        "close": _plain("Cancel", TITLE_LIMIT),
        "notify_on_close": True,  # a button may open this form again once it is closed unsubmitted
        "private_metadata": metadata,
        "blocks": blocks,
    }


def _value(action: dict[str, Any]) -> str | list[str] | None:
    kind = action.get("type")
    if kind in ("checkboxes", "multi_static_select"):
        return [str(o.get("value", "")) for o in action.get("selected_options") or []]
    if kind in ("radio_buttons", "static_select"):
        return (action.get("selected_option") or {}).get("value")
    if kind == "datepicker":
        return action.get("selected_date")
    if kind == "timepicker":
        return action.get("selected_time")
    return action.get("value")


def read_view(view: dict[str, Any]) -> tuple[FormSubmission, int]:
    """A submitted page as a FormSubmission, and the page's number. Raises ValueError if it is not ours."""
    meta = json.loads(view.get("private_metadata") or "{}")
    if not isinstance(meta, dict) or not isinstance(meta.get("f"), str):
        raise ValueError("not a growthbot form")
    page, count = int(meta.get("p", 0)), int(meta.get("n", 1))
    values: dict[str, str | list[str] | None] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        if block_id.startswith("f_") and isinstance(actions, dict) and ACTION in actions:
            values[block_id[2:]] = _value(actions[ACTION])
    submission = FormSubmission(
        form_id=meta["f"],
        values=values,
        fields=list(values),
        context=meta.get("c") or {},
        draft=str(view.get("id") or "") or None,
        last=page >= count - 1,
    )
    return submission, page


def error_text(message: Outbound) -> str:
    """Slack shows field errors as plain text under the input."""
    return prompts.render(message.template, message.context, prompts.PLAIN)[:2000]
