"""The demo district's PLC team (from handlers/org/demo/demo.yaml): a cadence, an assessment calendar, a review."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from handlers.plc.cadence import read_cadence
from handlers.plc.service import NewTeam, PlcService
from storage.models import Person
from storage.unit_of_work import Repos

DEMO_FILE = Path(__file__).resolve().parent.parent / "org" / "demo" / "demo.yaml"
DEMO_CADENCE = "every Thursday 3:15pm"


def demo_teams() -> list[dict[str, Any]]:
    return list(yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8")).get("plcs") or [])


def load_plc_demo(repos: Repos, workspace_id: int, now: datetime, service: PlcService) -> str:
    made = []
    for entry in demo_teams():
        lead = _by_email(repos, workspace_id, entry["lead"])
        if lead is None or repos.plc.named(workspace_id, entry["name"]) is not None:
            continue
        members = [m for m in (_by_email(repos, workspace_id, e) for e in entry.get("members", [])) if m]
        today = now.astimezone(service.zone).date()
        calendar = repos.calendars.load(workspace_id)
        first = calendar.add_school_days(today, 4)
        assessments = [
            ("Unit 2 fractions check", today - timedelta(days=21), today - timedelta(days=15)),
            ("Unit 3 fractions check", first, first + timedelta(days=4)),
        ]
        team = service.create(repos, workspace_id, NewTeam(
            name=entry["name"], school=entry.get("school", ""), channel="#grade4-plc", lead=lead, members=members,
            cadence_text=DEMO_CADENCE, cadence=read_cadence(DEMO_CADENCE), assessments=assessments,
        ), now)  # fmt: skip
        given = today - timedelta(days=14)
        service.log(repos, team, lead, {
            "assessment": "Unit 2 fractions check", "given_on": given.isoformat(), "students_assessed": 84,
            "percent_at_target": 57, "tier2": 18, "tier3": 6, "gaps": "English learners",
            "next_steps": [],
        }, now - timedelta(days=10))  # fmt: skip
        made.append(team.name)
    return f"PLC team: {', '.join(made)} ({DEMO_CADENCE})" if made else ""


def _by_email(repos: Repos, workspace_id: int, email: str) -> Person | None:
    found = repos.people.resolve(workspace_id, email)
    return found[0] if len(found) == 1 else None
