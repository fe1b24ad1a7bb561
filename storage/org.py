"""Repositories for the organisation: schools and the school calendar."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduling.calendar import SchoolCalendar
from storage.models import ClosedDay, School, SchoolYear


class Schools:
    def __init__(self, session: Session) -> None:
        self.session = session

    def ensure(self, workspace_id: int, name: str) -> School:
        school = self.session.scalar(select(School).where(School.workspace_id == workspace_id, School.name == name))
        if school is None:
            school = School(workspace_id=workspace_id, name=name)
            self.session.add(school)
            self.session.flush()
        return school


class Calendars:
    def __init__(self, session: Session) -> None:
        self.session = session

    def load(self, workspace_id: int) -> SchoolCalendar:
        """The workspace's school calendar; with nothing loaded, every weekday is a school day."""
        years = self.session.execute(
            select(SchoolYear.first_day, SchoolYear.last_day).where(SchoolYear.workspace_id == workspace_id)
        ).all()
        closed = self.session.execute(
            select(ClosedDay.day, ClosedDay.label).where(ClosedDay.workspace_id == workspace_id)
        ).all()
        return SchoolCalendar(
            closed=frozenset(day for day, _ in closed),
            years=tuple(sorted((first, last) for first, last in years)),
            labels={day: label for day, label in closed},
        )
