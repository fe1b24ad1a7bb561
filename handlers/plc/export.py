"""`growthbot export plc-reviews`: every logged review, in counts and shares (no student is named anywhere)."""

from __future__ import annotations

from typing import Any

from storage.database import Database
from storage.unit_of_work import unit_of_work

REVIEW_COLUMNS = (
    "id", "workspace", "team", "school", "assessment", "given_on", "students_assessed", "percent_at_target",
    "tier2", "tier3", "gaps", "next_steps", "logged_at",
)  # fmt: skip


def review_rows(db: Database) -> list[dict[str, Any]]:
    with unit_of_work(db) as repos:
        return [
            {"id": review.id, "workspace": workspace.name or workspace.external_id, "team": team.name,
             "school": team.school, "assessment": review.assessment, "given_on": review.given_on.isoformat(),
             "students_assessed": review.students_assessed, "percent_at_target": review.percent_at_target,
             "tier2": review.tier2, "tier3": review.tier3, "gaps": review.gaps or "",
             "next_steps": "; ".join(f"{s['what']} ({s['owner']}, due {s['due']})" for s in review.next_steps or []),
             "logged_at": review.created_at.isoformat()}
            for review, team, workspace in repos.plc.all_reviews()
        ]  # fmt: skip
