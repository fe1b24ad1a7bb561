"""Observations as flat rows, for `growthbot export observations`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers.observations.service import derived_status
from scheduling.clock import SystemClock
from storage.database import Database
from storage.unit_of_work import unit_of_work

OBSERVATION_COLUMNS = (
    "id", "platform", "workspace_id", "observer_email", "observer", "teacher_email", "teacher", "mode",
    "starts_at", "minutes", "status", "evidence", "feedback_due", "feedback", "feedback_shared_at",
    "acknowledged_at", "teacher_reply", "created_at",
)  # fmt: skip


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def observation_rows(db: Database, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every observation with its evidence and feedback; times in UTC (ISO 8601).

    `status` is derived at `now` (the export's moment): scheduled, happened, feedback due, shared,
    acknowledged or cancelled, so a visit that is over never reads as still scheduled.
    """
    now = now or SystemClock().now()
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
                "status": derived_status(o, now),
                # peer and walkthrough notes belong to the two educators and stay out of exports
                "evidence": [
                    {"text": e["text"], "indicators": e["indicators"], "elements": e.get("elements", []), "at": e["at"]}
                    for e in o.evidence
                ]
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
