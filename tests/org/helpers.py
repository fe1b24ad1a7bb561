"""Helpers for the organisation tests: what the CLI printed, and what the database holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from storage.database import Database
from storage.models import ClosedDay, Person, SchoolYear, Workspace
from storage.unit_of_work import unit_of_work


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


Growthbot = Callable[..., Run]


def people(db: Database) -> list[dict[str, Any]]:
    with unit_of_work(db) as repos:
        rows = repos.session.scalars(
            select(Person).options(
                selectinload(Person.school), selectinload(Person.evaluator), selectinload(Person.workspace)
            )
        )
        found = [
            {
                "email": person.email,
                "user_id": person.platform_user_id,
                "name": person.display_name,
                "roles": list(person.roles),
                "school": person.school.name if person.school else None,
                "evaluator": person.evaluator.email if person.evaluator else None,
                "time_zone": person.time_zone,
                "platform": person.workspace.platform,
                "workspace": person.workspace.external_id,
            }
            for person in rows
        ]
    return sorted(found, key=lambda p: p["email"] or "")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def count(db: Database, model: type) -> int:
    with unit_of_work(db) as repos:
        return repos.session.scalar(select(func.count()).select_from(model)) or 0


def closed_days(db: Database) -> dict[str, str]:
    with unit_of_work(db) as repos:
        rows = repos.session.scalars(select(ClosedDay).order_by(ClosedDay.day))
        return {row.day.isoformat(): row.label for row in rows}


def school_years(db: Database) -> list[tuple[str, str, str]]:
    with unit_of_work(db) as repos:
        rows = repos.session.scalars(select(SchoolYear).order_by(SchoolYear.first_day))
        return [(row.name, row.first_day.isoformat(), row.last_day.isoformat()) for row in rows]


def workspaces(db: Database) -> list[tuple[str, str, str, bool]]:
    with unit_of_work(db) as repos:
        rows = repos.session.scalars(select(Workspace).order_by(Workspace.id))
        return [(row.platform, row.external_id, row.name, row.demo) for row in rows]
