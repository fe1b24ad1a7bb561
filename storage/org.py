"""Repositories for the organisation: the roster of people, schools and the school calendar."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    ColumnElement,
    Integer,
    Table,
    Text,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeEngine

from scheduling.calendar import SchoolCalendar
from storage.models import Base, ClosedDay, OutboxMessage, Person, Schedule, School, SchoolYear, Workspace
from storage.types import UTCDateTime

PEOPLE: Table = Person.__table__  # type: ignore[assignment]
SCHOOLS: Table = School.__table__  # type: ignore[assignment]
STREAM_BATCH = 5_000  # rows fetched at a time when reading a whole roster
MERGE_CHUNK = 500  # (keep, drop) pairs per CASE: well under SQLite's 32,766 bound parameters


class Schools:
    def __init__(self, session: Session) -> None:
        self.session = session

    def ensure_all(self, workspace_id: int, names: Collection[str]) -> dict[str, int]:
        """Each school's id by name, adding the missing ones in one statement (a racing import adds nothing twice)."""
        wanted = set(names)
        if not wanted:
            return {}
        stored = self._ids(workspace_id)
        missing = sorted(wanted - stored.keys())
        if missing:
            stmt = dialect_insert(self.session)(SCHOOLS).on_conflict_do_nothing(index_elements=["workspace_id", "name"])
            self.session.execute(stmt, [{"workspace_id": workspace_id, "name": name} for name in missing])
            stored = self._ids(workspace_id)
        return {name: stored[name] for name in wanted}

    def _ids(self, workspace_id: int) -> dict[str, int]:
        rows = self.session.execute(select(SCHOOLS.c.name, SCHOOLS.c.id).where(SCHOOLS.c.workspace_id == workspace_id))
        return {name: school_id for name, school_id in rows}

    def count(self, workspace_id: int) -> int:
        return self.session.scalar(select(func.count()).where(School.workspace_id == workspace_id)) or 0


def _calendar_query():  # type: ignore[no-untyped-def]
    """A workspace's school years and closed days in one round trip (the goal coach reads it on many turns)."""
    workspace = bindparam("workspace")
    years = select(
        literal("year").label("kind"), SchoolYear.first_day, SchoolYear.last_day, cast(literal(""), Text)
    ).where(SchoolYear.workspace_id == workspace)
    closed = select(literal("closed"), ClosedDay.day, ClosedDay.day, cast(ClosedDay.label, Text)).where(
        ClosedDay.workspace_id == workspace
    )
    return years.union_all(closed)


_CALENDAR = _calendar_query()


class Calendars:
    def __init__(self, session: Session) -> None:
        self.session = session

    def load(self, workspace_id: int) -> SchoolCalendar:
        """The workspace's school calendar; with nothing loaded, every weekday is a school day."""
        rows = self.session.execute(_CALENDAR, {"workspace": workspace_id}).all()
        closed = {first: label for kind, first, _last, label in rows if kind == "closed"}
        return SchoolCalendar(
            closed=frozenset(closed),
            years=tuple(sorted((first, last) for kind, first, last, _label in rows if kind == "year")),
            labels=closed,
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


class StoredPerson(NamedTuple):
    """A stored person as plain values: a 100,000-person roster is read in one query without ORM objects."""

    id: int
    user_id: str
    email: str | None
    name: str
    roles: tuple[str, ...]
    school: str | None
    evaluator_email: str | None
    time_zone: str


class PersonRow(NamedTuple):
    """What a roster import writes for one person; `id` is None for someone new."""

    id: int | None
    user_id: str
    email: str
    name: str
    time_zone: str
    roles: list[str]
    school_id: int | None
    evaluator_id: int | None


class Roster:
    """The people of a workspace as the district's staff list knows them (by email).

    The import methods are set-based (one SELECT, executemany INSERT/UPDATE through Core) because a roster
    may hold 100,000 people and a row-at-a-time ORM walk takes minutes and a gigabyte there.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def find_workspace(self, platform: str, external_id: str) -> Workspace | None:
        """Without creating it: a dry run must leave no trace."""
        return self.session.scalar(
            select(Workspace).where(Workspace.platform == platform, Workspace.external_id == external_id)
        )

    def emails(self, workspace_id: int) -> set[str]:
        query = select(PEOPLE.c.email).where(PEOPLE.c.workspace_id == workspace_id, PEOPLE.c.email.is_not(None))
        return set(self.session.scalars(query))

    def ids_by_email(self, workspace_id: int) -> dict[str, int]:
        query = select(PEOPLE.c.email, PEOPLE.c.id).where(
            PEOPLE.c.workspace_id == workspace_id, PEOPLE.c.email.is_not(None)
        )
        return {email: person_id for email, person_id in self.session.execute(query)}

    def stored(self, workspace_id: int) -> list[StoredPerson]:
        """Everyone in the workspace with their school's name and their evaluator's email, in id order.

        Streamed in batches (a server-side cursor on PostgreSQL), and the values many people share (roles,
        school, evaluator, zone) are kept once, so 100,000 people cost tens of megabytes, not hundreds.
        """
        evaluator = PEOPLE.alias("evaluator")
        query = (
            select(
                PEOPLE.c.id,
                PEOPLE.c.platform_user_id,
                PEOPLE.c.email,
                PEOPLE.c.display_name,
                PEOPLE.c.roles,
                SCHOOLS.c.name,
                evaluator.c.email,
                PEOPLE.c.time_zone,
            )
            .select_from(
                PEOPLE.outerjoin(SCHOOLS, PEOPLE.c.school_id == SCHOOLS.c.id).outerjoin(
                    evaluator, PEOPLE.c.evaluator_id == evaluator.c.id
                )
            )
            .where(PEOPLE.c.workspace_id == workspace_id)
            .order_by(PEOPLE.c.id)
            .execution_options(yield_per=STREAM_BATCH)
        )
        shared: dict[Any, Any] = {None: None}

        def once(value: Any) -> Any:
            return shared.setdefault(value, value)

        return [
            StoredPerson(
                person_id,
                user_id,
                email,
                name,
                once(tuple(roles or ())),
                once(school),
                once(evaluator_email),
                once(zone),
            )
            for person_id, user_id, email, name, roles, school, evaluator_email, zone in self.session.execute(query)
        ]

    def listed(self, workspace_id: int, school: str | None = None, role: str | None = None) -> list[Person]:
        """People by name, with their school and evaluator loaded; a role is matched in Python (roles are JSON)."""
        query = select(Person).where(Person.workspace_id == workspace_id).order_by(Person.display_name, Person.id)
        if school:
            query = query.join(School, Person.school_id == School.id).where(func.lower(School.name) == school.lower())
        people = list(self.session.scalars(query))
        return [p for p in people if not role or role in (p.roles or [])]

    def by_email(self, workspace_id: int, email: str) -> Person | None:
        return self.session.scalar(
            select(Person).where(Person.workspace_id == workspace_id, func.lower(Person.email) == email.lower())
        )

    def active_admins(self, workspace_id: int) -> list[Person]:
        people = self.session.scalars(
            select(Person).where(Person.workspace_id == workspace_id, Person.deactivated_at.is_(None))
        )
        return [p for p in people if "admin" in (p.roles or [])]

    def set_deactivated(self, person: Person, at: datetime | None) -> None:
        """Deactivate (`at`) or reactivate (None): their own schedules pause or resume, unsent messages to them go."""
        person.deactivated_at = at
        self.session.execute(
            update(Schedule)
            .where(Schedule.owner_id == person.id, Schedule.status == "active")
            .values(paused=at is not None)
            .execution_options(synchronize_session=False)
        )
        if at is not None:
            self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.recipient_id == person.id, OutboxMessage.status == "pending")
                .values(status="cancelled")
                .execution_options(synchronize_session=False)
            )
        self.session.flush()

    def count_people(self, workspace_id: int | None = None) -> int:
        query = select(func.count()).select_from(Person)
        if workspace_id is not None:
            query = query.where(Person.workspace_id == workspace_id)
        return self.session.scalar(query) or 0

    def add_people(self, workspace_id: int, rows: Sequence[PersonRow], now: datetime) -> dict[str, int]:
        """Insert new people, one statement a chunk, and return their ids by email."""
        if not rows:
            return {}
        returning = (PEOPLE.c.email, PEOPLE.c.id)
        fields = PersonRow._fields[1:]
        if self._postgres():
            source = _unnest({field: _array(rows, field) for field in fields})
            stmt = insert(PEOPLE).from_select(
                ["workspace_id", *(COLUMN.get(field, field) for field in fields), "created_at"],
                select(
                    literal(workspace_id, Integer),
                    *(_column(source, field) for field in fields),
                    literal(now, UTCDateTime()),
                ),
            )
            result = self.session.execute(stmt.returning(*returning))
        else:
            params = [{"workspace_id": workspace_id, "created_at": now, **_values(row)} for row in rows]
            result = self.session.execute(insert(PEOPLE).returning(*returning), params)
        return {email: person_id for email, person_id in result}

    def update_people(self, rows: Sequence[PersonRow]) -> None:
        """Rewrite every roster field of these people (by id), one statement a chunk."""
        if not rows:
            return
        if self._postgres():
            source = _unnest({field: _array(rows, field) for field in PersonRow._fields})
            values = {COLUMN.get(field, field): _column(source, field) for field in PersonRow._fields[1:]}
            self.session.execute(update(PEOPLE).where(PEOPLE.c.id == source.c.id).values(values))
        else:
            params = [{"person_id": row.id, **_values(row)} for row in rows]
            self.session.execute(update(PEOPLE).where(PEOPLE.c.id == bindparam("person_id")), params)

    def link_evaluators(self, links: Sequence[tuple[int, int]]) -> None:
        """Set (person id, evaluator id) pairs: the second pass for evaluators added in the same import."""
        if not links:
            return
        if self._postgres():
            source = _unnest({"id": (Integer, [p for p, _ in links]), "evaluator_id": (Integer, [e for _, e in links])})
            self.session.execute(
                update(PEOPLE).where(PEOPLE.c.id == source.c.id).values(evaluator_id=source.c.evaluator_id)
            )
        else:
            params = [{"person_id": person_id, "evaluator_id": evaluator_id} for person_id, evaluator_id in links]
            self.session.execute(update(PEOPLE).where(PEOPLE.c.id == bindparam("person_id")), params)

    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def merge(self, pairs: Sequence[tuple[int, int]]) -> None:
        """Fold each (keep, drop) pair: every row pointing at `drop` points at `keep`, then `drop` goes.

        Used when someone saved from the roster before they had a chat account has since talked to the bot
        under their real id: one person, two rows. Foreign keys are found from the schema, so a table added
        later is carried over too; each column is rewritten with one CASE per chunk, not one UPDATE a pair.
        """
        columns = [
            column
            for table in Base.metadata.sorted_tables
            for column in table.columns
            if any(fk.column.table.name == Person.__tablename__ for fk in column.foreign_keys)
        ]
        for start in range(0, len(pairs), MERGE_CHUNK):
            keep_for = {drop: keep for keep, drop in pairs[start : start + MERGE_CHUNK]}
            for column in columns:
                self.session.execute(
                    update(column.table)
                    .where(column.in_(list(keep_for)))
                    .values({column.name: case(keep_for, value=column)})
                )
            self.session.execute(delete(PEOPLE).where(PEOPLE.c.id.in_(list(keep_for))))


def dialect_insert(session: Session) -> Callable[..., Any]:
    """The dialect's INSERT, which has ON CONFLICT (both SQLite and PostgreSQL spell it the same way)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


# Bulk writes. SQLite gets executemany (the sqlite3 module loops in C). PostgreSQL gets each chunk as one
# array per column, `… FROM unnest(%s, %s, …) AS v(…)`: psycopg's executemany and SQLAlchemy's multi-row
# VALUES both cost tens of microseconds a placeholder in Python, which made a 100,000-person import 3x slower.

COLUMN = {"user_id": "platform_user_id", "name": "display_name"}  # PersonRow field -> people column, where they differ
ARRAY_TYPE: dict[str, type[TypeEngine[Any]]] = {"id": Integer, "school_id": Integer, "evaluator_id": Integer}


def _values(row: PersonRow) -> dict[str, Any]:
    return {COLUMN.get(field, field): value for field, value in zip(row._fields[1:], row[1:], strict=True)}


def _array(rows: Sequence[PersonRow], field: str) -> tuple[type[TypeEngine[Any]], list[Any]]:
    values = [getattr(row, field) for row in rows]
    if field == "roles":  # arrays of json are awkward to bind; text cast to json in the statement is not
        values = [json.dumps(value) for value in values]
    return ARRAY_TYPE.get(field, Text), values


def _unnest(columns: Mapping[str, tuple[type[TypeEngine[Any]], list[Any]]]) -> TableValuedAlias:
    arrays = [bindparam(f"v_{name}", values, type_=ARRAY(kind)) for name, (kind, values) in columns.items()]
    return func.unnest(*arrays).table_valued(*columns).render_derived(name="v")


def _column(source: TableValuedAlias, field: str) -> ColumnElement[Any]:
    return cast(source.c.roles, JSON) if field == "roles" else source.c[field]
