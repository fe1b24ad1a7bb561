"""`growthbot export partnerships|action-steps`: member names and roles only, never a candidate or student."""

from __future__ import annotations

from typing import Any

from handlers.partnerships.service import members_of
from storage.database import Database
from storage.unit_of_work import unit_of_work

PARTNERSHIP_COLUMNS = ("id", "name", "district", "program", "stage", "vision", "members", "meetings", "steps",
                       "steps_done")  # fmt: skip
STEP_COLUMNS = ("partnership", "number", "step", "start", "due", "responsible", "others", "outputs", "outcomes",
                "resources", "impact", "lift", "status")  # fmt: skip


def partnership_rows(db: Database) -> list[dict[str, Any]]:
    with unit_of_work(db) as repos:
        rows = []
        for partnership, _workspace in repos.partnerships.all_with_workspace():
            steps = repos.partnerships.steps(partnership.id)
            rows.append({
                "id": partnership.id, "name": partnership.name, "district": partnership.district,
                "program": partnership.program, "stage": partnership.stage, "vision": partnership.vision,
                "members": "; ".join(f"{p.display_name} ({r})" for p, r in members_of(repos, partnership)),
                "meetings": "; ".join(f"{m.kind}: {m.cadence}" for m in repos.partnerships.meetings(partnership.id)),
                "steps": len(steps), "steps_done": sum(s.status == "done" for s in steps),
            })  # fmt: skip
        return rows


def step_rows(db: Database) -> list[dict[str, Any]]:
    with unit_of_work(db) as repos:
        names = {}
        rows = []
        for step, partnership in repos.partnerships.all_steps():
            if partnership.id not in names:
                names[partnership.id] = {p.id: p.display_name for p, _r in members_of(repos, partnership)}
            rows.append({
                "partnership": partnership.name, "number": step.number, "step": step.step,
                "start": step.start_on.isoformat() if step.start_on else "", "due": step.due_on.isoformat(),
                "responsible": "; ".join(names[partnership.id].get(i, "") for i in step.responsible_ids or []),
                "others": step.others, "outputs": step.outputs, "outcomes": step.outcomes,
                "resources": step.resources, "impact": step.impact, "lift": step.lift, "status": step.status,
            })  # fmt: skip
        return rows
