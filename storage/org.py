"""Repositories for the organisation: the roster of people, schools and the school calendar."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from scheduling.calendar import SchoolCalendar
from storage.models import Base, ClosedDay, Person, School, SchoolYear, Workspace


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

    def count(self, workspace_id: int) -> int:
        return self.session.scalar(select(func.count()).where(School.workspace_id == workspace_id)) or 0


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

    def years(self, workspace_id: int) -> list[SchoolYear]:
        return list(
            self.session.scalars(
                select(SchoolYear).where(SchoolYear.workspace_id == workspace_id).order_by(SchoolYear.first_day)
            )
        )

    def closed_between(self, workspace_id: int, first: date, last: date) -> int:
        return (
            self.session.scalar(
                select(func.count()).where(
                    ClosedDay.workspace_id == workspace_id, ClosedDay.day >= first, ClosedDay.day <= last
                )
            )
            or 0
        )

    def replace_year(
        self, workspace_id: int, name: str, first_day: date, last_day: date, closed: Mapping[date, str]
    ) -> None:
        """Store a school year and exactly these closed days inside it: importing a year twice changes nothing.

        Closed days are dropped over both the old and the new bounds, so moving the first or last day never
        leaves a stale holiday behind.
        """
        year = self.session.scalar(
            select(SchoolYear).where(SchoolYear.workspace_id == workspace_id, SchoolYear.name == name)
        )
        spans = [(first_day, last_day)]
        if year is None:
            year = SchoolYear(workspace_id=workspace_id, name=name, first_day=first_day, last_day=last_day)
            self.session.add(year)
        else:
            spans.append((year.first_day, year.last_day))
            year.first_day, year.last_day = first_day, last_day
        for first, last in spans:
            self.session.execute(
                delete(ClosedDay).where(
                    ClosedDay.workspace_id == workspace_id, ClosedDay.day >= first, ClosedDay.day <= last
                )
            )
        self.session.flush()
        self.upsert_closed(workspace_id, closed)

    def upsert_closed(self, workspace_id: int, closed: Mapping[date, str]) -> None:
        """Add closed days, relabelling any already stored (closures imported without a school year)."""
        stored = {
            row.day: row
            for row in self.session.scalars(
                select(ClosedDay).where(ClosedDay.workspace_id == workspace_id, ClosedDay.day.in_(list(closed)))
            )
        }
        for day, label in sorted(closed.items()):
            if day in stored:
                stored[day].label = label
            else:
                self.session.add(ClosedDay(workspace_id=workspace_id, day=day, label=label))
        self.session.flush()


class Roster:
    """The people of a workspace as the district's staff list knows them (by email)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def find_workspace(self, platform: str, external_id: str) -> Workspace | None:
        """Without creating it: a dry run must leave no trace."""
        return self.session.scalar(
            select(Workspace).where(Workspace.platform == platform, Workspace.external_id == external_id)
        )

    def people(self, workspace_id: int) -> list[Person]:
        return list(
            self.session.scalars(
                select(Person)
                .where(Person.workspace_id == workspace_id)
                .options(selectinload(Person.school), selectinload(Person.evaluator))
                .order_by(Person.id)
            )
        )

    def count_people(self, workspace_id: int | None = None) -> int:
        query = select(func.count()).select_from(Person)
        if workspace_id is not None:
            query = query.where(Person.workspace_id == workspace_id)
        return self.session.scalar(query) or 0

    def add(
        self, workspace_id: int, platform_user_id: str, email: str, display_name: str, time_zone: str, now: datetime
    ) -> Person:
        person = Person(
            workspace_id=workspace_id,
            platform_user_id=platform_user_id,
            email=email,
            display_name=display_name,
            time_zone=time_zone,
            roles=[],
            created_at=now,
        )
        self.session.add(person)
        self.session.flush()
        return person

    def flush(self) -> None:
        self.session.flush()

    def merge(self, keep: Person, drop: Person) -> None:
        """Fold `drop` into `keep`: every row pointing at `drop` points at `keep`, then `drop` goes.

        Used when someone saved from the roster before they had a chat account has since talked to the bot
        under their real id: one person, two rows. Foreign keys are found from the schema, so a table added
        later is carried over too.
        """
        self.session.flush()
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if any(fk.column.table.name == Person.__tablename__ for fk in column.foreign_keys):
                    self.session.execute(update(table).where(column == drop.id).values({column.name: keep.id}))
        self.session.delete(drop)
        self.session.flush()
        self.session.expire_all()
