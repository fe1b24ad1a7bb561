"""Goals as flat rows, for `growthbot export goals`."""

from __future__ import annotations

from typing import Any

from storage.database import Database
from storage.unit_of_work import unit_of_work

GOAL_COLUMNS = (
    "id", "platform", "workspace_id", "user_id", "goal_type", "data_reviewed", "specific", "measurable",
    "action", "results", "completion_date", "benchmarks", "alignment", "statement", "status", "created_at",
)  # fmt: skip


def goal_rows(db: Database) -> list[dict[str, Any]]:
    with unit_of_work(db) as repos:
        return [
            {
                "id": goal.id,
                "platform": workspace.platform,
                "workspace_id": workspace.external_id,
                "user_id": person.platform_user_id,
                "goal_type": goal.goal_type,
                "data_reviewed": goal.data_reviewed,
                "specific": goal.specific,
                "measurable": goal.measurable,
                "action": goal.action,
                "results": goal.results,
                "completion_date": goal.completion_date.isoformat() if goal.completion_date else None,
                "benchmarks": list(goal.benchmarks or []),
                "alignment": goal.alignment,
                "statement": goal.statement,
                "status": goal.status,
                "created_at": goal.created_at.isoformat(),
            }
            for goal, person, workspace in repos.goals.all_with_owner()
        ]
