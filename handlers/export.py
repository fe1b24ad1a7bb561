"""Goals and observations as flat rows, for `growthbot export goals|observations` (JSON or CSV)."""

from __future__ import annotations

import csv
import io
import json
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


OBSERVATION_COLUMNS = (
    "id", "platform", "workspace_id", "observer_email", "observer", "teacher_email", "teacher", "mode",
    "starts_at", "minutes", "status", "evidence", "feedback_due", "feedback", "feedback_shared_at",
    "acknowledged_at", "teacher_reply", "created_at",
)  # fmt: skip


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def observation_rows(db: Database) -> list[dict[str, Any]]:
    """Every observation with its evidence and feedback; times in UTC (ISO 8601)."""
    with unit_of_work(db) as repos:
        return [
            {
                "id": o.id,
                "platform": observer.workspace.platform,
                "workspace_id": observer.workspace.external_id,
                "observer_email": observer.email,
                "observer": observer.display_name,
                "teacher_email": teacher.email,
                "teacher": teacher.display_name,
                "mode": o.mode,
                "starts_at": _iso(o.starts_at),
                "minutes": o.minutes,
                "status": o.status,
                # peer and walkthrough notes belong to the two educators and stay out of exports
                "evidence": [{"text": e["text"], "indicators": e["indicators"], "at": e["at"]} for e in o.evidence]
                if o.evaluative
                else [],
                "feedback_due": _iso(o.feedback_due),
                "feedback": o.feedback if o.evaluative else None,
                "feedback_shared_at": _iso(o.feedback_shared_at),
                "acknowledged_at": _iso(o.acknowledged_at),
                "teacher_reply": o.teacher_reply,
                "created_at": _iso(o.created_at),
            }
            for o, observer, teacher in repos.observations.all_with_people()
        ]


def as_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


def as_csv(rows: list[dict[str, Any]], columns: tuple[str, ...] = GOAL_COLUMNS) -> str:
    """One row per record; lists (benchmarks, evidence) as JSON in one cell so the file stays rectangular."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v for k, v in row.items()})
    return buffer.getvalue()
