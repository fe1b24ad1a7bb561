"""Composes the goal statement from its parts, with the wording kept in a template."""

from __future__ import annotations

from datetime import date
from typing import Any

import prompts

GOAL_TYPES = {
    "student_learning": "Student learning",
    "professional_practice": "Professional practice",
    "team": "Team",
}


def clause(text: str | None) -> str:
    """A typed part made ready to sit inside a sentence: trimmed, without its closing full stop."""
    return (text or "").strip().rstrip(".!;, ")


def readable_date(iso: str | None) -> str:
    if not iso:
        return ""
    day = date.fromisoformat(iso)
    return f"{day:%B} {day.day}, {day.year}"


def compose(answers: dict[str, Any]) -> str:
    """The one-paragraph goal a teacher can paste into an educator plan."""
    context = {
        "goal_type": GOAL_TYPES.get(answers.get("goal_type") or "", ""),
        "by": readable_date(answers.get("completion_date")),
        "specific": clause(answers.get("specific")),
        "measurable": clause(answers.get("measurable")),
        "action": clause(answers.get("action")),
        "results": clause(answers.get("results")),
        "benchmarks": [
            {"date": readable_date(b["date"]), "check": clause(b.get("check"))} for b in answers.get("benchmarks") or []
        ],
        "alignment": clause(answers.get("alignment")),
    }
    return prompts.render("goals/statement", context)
