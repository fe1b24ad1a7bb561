"""Neutral forms: what to ask (in YAML under prompts/forms/) and the one path that checks the answers.

A feature describes a form once. The edge shows it as a Slack modal, an Adaptive Card or, in the terminal
and in chat threads, one question at a time (`handlers/form_flow.py`). Whatever the surface, every answer
goes through `read_field` and the feature's own checks here, so a rule holds everywhere or nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from handlers.engine import Check, CheckContext, Problem
from handlers.goals.dates import DateProblem, find_date
from handlers.messages import Form, FormField, Outbound
from storage.models import Person
from storage.unit_of_work import Repos

FORMS_DIR = Path(__file__).resolve().parent.parent / "prompts" / "forms"
CHOICE_KINDS = ("single_choice", "likert", "rating")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$", re.I)


@cache
def _load(path: Path) -> Form:
    return Form.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def load_form(form_id: str) -> Form:
    """The form's words from prompts/forms/<id>.yaml (read once per process)."""
    return _load(FORMS_DIR / f"{form_id}.yaml")


@dataclass(frozen=True)
class Submission:
    """A submitted form as the feature sees it, inside the message's transaction."""

    repos: Repos
    person: Person
    now: datetime
    values: dict[str, Any]
    context: dict[str, Any]


@dataclass(frozen=True)
class FormResult:
    """What a submit did: messages to show, or problems per field that send the person back to them."""

    messages: list[Outbound] = field(default_factory=list)
    errors: dict[str, Problem] = field(default_factory=dict)
    result_ref: int | None = None


FieldCheck = Callable[[str, CheckContext], Check]


@dataclass(frozen=True)
class FormSpec:
    """A feature's form: its words (by id), extra checks per field, cross-field rules, and what submit does.

    `services` gives checks their lookups (like `Flow.services`); `review` is the template of the summary
    shown before submitting in the terminal (default: each question with its answer).
    """

    id: str
    submit: Callable[[Submission], FormResult]
    checks: dict[str, FieldCheck] = field(default_factory=dict)
    cross_check: Callable[[dict[str, Any], CheckContext], dict[str, Problem]] | None = None
    services: Callable[[Repos, Person, datetime], dict[str, Any]] | None = None
    review: str = "forms/review"
    words: Form | None = None  # a form built in code (a survey instrument, a test) instead of prompts/forms/

    def form(self) -> Form:
        return self.words if self.words is not None else load_form(self.id)


def _problem(template: str, **context: Any) -> Check:
    return Check(error=Problem(f"forms/errors/{template}", context))


_NUMBER = re.compile(r"^\s*([-+]?(?:\d[\d,]*)?\.?\d+)\s*(?:%|[a-z]+\.?)?\s*$", re.I)


def _number(text: str) -> float | None:
    """A number, allowing a unit after it ("15 min", "40%") and thousands commas."""
    match = _NUMBER.match(text)
    if not match:
        return None
    try:
        value = float(match.group(1).replace(",", ""))
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None  # NaN and infinities are no answer


def _time(text: str) -> str | None:
    match = _TIME.match(text.strip())
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), (match.group(3) or "").lower()[:1]
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def _pick(item: FormField, text: str) -> str | None:
    wanted = text.strip().lower().rstrip(".")
    options = item.choices()
    for number, choice in enumerate(options, start=1):
        if wanted in (str(number), choice.value.lower(), choice.label.lower()):
            return choice.value
    starts = [c.value for c in options if len(wanted) >= 3 and c.label.lower().startswith(wanted)]
    return starts[0] if len(starts) == 1 else None


def read_field(item: FormField, raw: str | list[str] | None, ctx: CheckContext) -> Check:
    """Turn what was typed or picked into the field's value, or a problem that says what to enter instead."""
    if isinstance(raw, list):
        picked = [str(v) for v in raw if str(v).strip()]
        text = ", ".join(picked)
    else:
        picked = []
        text = (raw or "").strip()
    if not text:
        return _problem("required", label=item.label) if item.required else Check(value=None)
    if item.kind in ("short_text", "long_text"):
        if len(text) > item.max_length:
            return _problem("too_long", limit=item.max_length, got=len(text))
        return Check(value=text)
    if item.kind == "number":
        value = _number(text)
        if value is None:
            return _problem("number", low=_shown(item.min), high=_shown(item.max))
        if (item.min is not None and value < item.min) or (item.max is not None and value > item.max):
            return _problem("number_range", low=_shown(item.min), high=_shown(item.max), got=_shown(value))
        return Check(value=int(value) if value.is_integer() else value)
    if item.kind == "date":
        try:
            found = find_date(text, ctx.today)
        except DateProblem:
            found = None
        return Check(value=found.value.isoformat()) if found else _problem("date", example=_example_day(ctx.today))
    if item.kind == "time":
        value = _time(text)
        return Check(value=value) if value else _problem("time")
    if item.kind in CHOICE_KINDS:
        value = _pick(item, text)
        return Check(value=value) if value is not None else _problem("choice", options=_labels(item))
    values = picked or [part for part in re.split(r"[,;]|\s+and\s+", text) if part.strip()]
    chosen = [_pick(item, part) for part in values]
    if any(value is None for value in chosen):
        return _problem("choices", options=_labels(item))
    return Check(value=list(dict.fromkeys(chosen)))


def _shown(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _labels(item: FormField) -> list[str]:
    return [choice.label for choice in item.choices()]


def _example_day(today: date) -> str:
    return today.strftime("%b %-d")


def check_field(spec: FormSpec, item: FormField, raw: str | list[str] | None, ctx: CheckContext) -> Check:
    """The field's type rules, then the feature's own check of that field (given the text as entered)."""
    checked = read_field(item, raw, ctx)
    extra = spec.checks.get(item.name)
    if checked.error is not None or extra is None or checked.value is None:
        return checked
    return extra(str(checked.value) if not isinstance(checked.value, list) else ", ".join(checked.value), ctx)


def check_form(
    spec: FormSpec, form: Form, raw: dict[str, Any], ctx: CheckContext, only: list[str] | None = None
) -> tuple[dict[str, Any], dict[str, Problem]]:
    """Check every field in order (later checks see earlier values), then the cross-field rules."""
    values: dict[str, Any] = {}
    errors: dict[str, Problem] = {}
    for item in form.fields:
        if only is not None and item.name not in only:
            continue
        checked = check_field(spec, item, raw.get(item.name), CheckContext(ctx.today, values, ctx.services))
        if checked.error is not None:
            errors[item.name] = checked.error
        else:
            values[item.name] = checked.value
    if not errors and only is None and spec.cross_check is not None:
        errors = spec.cross_check(values, CheckContext(ctx.today, values, ctx.services))
    return values, errors
