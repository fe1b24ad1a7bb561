"""Whole-goal critique: `/goal check <text>`, the "paste a goal" start, and `growthbot goal check`.

The reader (handlers/goals/reader.py) gives one verdict per S.M.A.R.T. element; this module shows them and turns
what was found into coach answers, so the coach asks only for the parts that are missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from handlers.features import CliEnv, CliVerb
from handlers.goals.reader import ELEMENTS, CalendarLike, Critique, Reading, critique
from handlers.messages import Outbound
from prompts import PLAIN, render

NAMES = {
    "S": "Specific & Strategic",
    "M": "Measurable",
    "A": "Action-oriented",
    "R": "Rigorous, Realistic & Results-focused",
    "T": "Timed & Tracked",
}


def elements_context(result: Critique) -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "name": NAMES[key],
            "present": result.elements[key].present,
            "evidence": result.elements[key].evidence,
            "tips": [{"template": t.template, "context": t.context} for t in result.elements[key].tips],
        }
        for key in ELEMENTS
    ]


def critique_message(result: Critique) -> Outbound:
    """The per-element verdicts, each with its evidence and at most one tip."""
    return Outbound(template="goals/check/result", context={"elements": elements_context(result)})


def _main_clause(reading: Reading) -> str:
    """The clause that says who will change what: the first result or outcome, else the first action."""
    for role in ("result", "outcome"):
        for found in reading.predications:
            if found.role == role and found.subject:
                return found.text
    return reading.who[0].text if reading.who else ""


def answers_from(result: Critique, today: date) -> dict[str, Any]:
    """Coach answers for the elements the reader found present, in the shape the coach's own steps store."""
    reading, found = result.reading, result.elements
    answers: dict[str, Any] = {}
    main = _main_clause(reading)
    if found["S"].present and main:
        answers["specific"] = main
    if found["M"].present:
        change = reading.changes[0] if reading.changes else None
        measures = [m.text for m in reading.measures if m.kind != "instrument" or m.text.lower() != "benchmarks"]
        parts = []
        if measures:
            parts.append(measures[0])
        if change is not None and change.baseline is not None and change.target is not None:
            parts.append(f"from {change.baseline.text} to {change.target.text}")
        answers["measurable"] = " ".join(parts) if parts else found["M"].evidence
    if found["A"].present and reading.actions:
        answers["action"] = reading.actions[0].text
    if found["R"].present and main:
        answers["results"] = main
    deadline = reading.deadline
    if found["T"].present and deadline is not None and deadline.value is not None and deadline.value > today:
        answers["completion_date"] = deadline.value.isoformat()
        marks = sorted(
            {c.value for c in reading.checkpoints if c.value is not None and today < c.value < deadline.value}
        )
        if marks:
            answers["benchmarks"] = [{"date": d.isoformat(), "check": "progress check"} for d in marks]
    return answers


# -- growthbot goal check [TEXT | -] [--json] ------------------------------------------------------------

CONSOLE = ("console", "local")  # the terminal workspace (bot/adapters/console.py)


def goal_verb() -> CliVerb:
    def configure(parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="goal_command", required=True)
        check = sub.add_parser("check", help="critique a whole goal: each S.M.A.R.T. element, its evidence, a tip")
        check.add_argument("text", nargs="?", default="-", help="the goal text, or - to read it from stdin")
        check.add_argument("--json", action="store_true", help="print the verdicts as JSON")

    def run(args: argparse.Namespace, env: CliEnv) -> int:
        text = sys.stdin.read() if args.text == "-" else args.text
        today = env.now.date()
        calendar = _console_calendar(env)
        result = critique(text, today, calendar)
        if args.json:
            env.out.write(json.dumps(result.to_json(), indent=2) + "\n")
        else:
            env.out.write(render("goals/check/result", critique_message(result).context, PLAIN).rstrip() + "\n")
        return 0

    return CliVerb("goal", "goals: critique a whole goal (goal check TEXT | - [--json])", configure, run)


def _console_calendar(env: CliEnv) -> CalendarLike | None:
    from storage.unit_of_work import unit_of_work

    with unit_of_work(env.db) as repos:
        workspace = repos.roster.find_workspace(*CONSOLE)
        return repos.calendars.load(workspace.id) if workspace is not None else None
