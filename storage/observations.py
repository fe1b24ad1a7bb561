"""Repository for observations, and the cleanup their cancellation needs in the outbox."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, aliased

from storage.models import Installation, Observation, ObservationEntry, OutboxMessage, Person, Schedule


class Observations:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, **fields: Any) -> Observation:
        observation = Observation(**fields)
        self.session.add(observation)
        self.session.flush()
        return observation

    def add_entry(
        self, observation: Observation, kind: str, author_id: int | None, now: datetime, text: str = "",
        note: int | None = None, data: dict[str, Any] | None = None,
    ) -> ObservationEntry:  # fmt: skip
        """Append to the observation's history; entries are never updated or deleted."""
        entry = ObservationEntry(kind=kind, author_id=author_id, note=note, text=text, data=data or {}, created_at=now)
        observation.entries.append(entry)
        self.session.flush()
        return entry

    def install_id(self, now: datetime) -> str:
        """This install's random id, made on first use (two racing first uses settle on the lowest row)."""
        found = self.session.scalar(select(Installation.install_id).order_by(Installation.id).limit(1))
        if found is not None:
            return found
        self.session.add(Installation(install_id=secrets.token_hex(8), created_at=now))
        self.session.flush()
        return self.session.scalar(select(Installation.install_id).order_by(Installation.id).limit(1)) or ""

    def scheduled_of(self, person_id: int, after: datetime) -> list[Observation]:
        """Visits still ahead that this person observes or is observed in."""
        return list(
            self.session.scalars(
                select(Observation)
                .where(
                    Observation.status == "scheduled",
                    Observation.starts_at > after,
                    or_(Observation.observer_id == person_id, Observation.teacher_id == person_id),
                )
                .order_by(Observation.starts_at)
            )
        )

    def get(self, workspace_id: int, observation_id: int) -> Observation | None:
        return self.session.scalar(
            select(Observation).where(Observation.id == observation_id, Observation.workspace_id == workspace_id)
        )

    def by_id(self, observation_id: int) -> Observation | None:
        return self.session.get(Observation, observation_id)

    def overlapping(
        self, person_ids: list[int], start: datetime, end: datetime, exclude_id: int | None = None
    ) -> list[Observation]:
        """Scheduled observations of any of these people that overlap [start, end): double bookings."""
        candidates = self.session.scalars(
            select(Observation).where(
                Observation.status == "scheduled",
                or_(Observation.observer_id.in_(person_ids), Observation.teacher_id.in_(person_ids)),
                Observation.starts_at < end,
                Observation.starts_at > start - timedelta(hours=8),  # no observation is this long
                Observation.id != (exclude_id or 0),
            )
        )
        return [o for o in candidates if o.starts_at + timedelta(minutes=o.minutes) > start]

    def of_observer(self, observer_id: int) -> list[Observation]:
        return list(
            self.session.scalars(
                select(Observation)
                .where(Observation.observer_id == observer_id, Observation.status != "cancelled")
                .order_by(Observation.starts_at)
            )
        )

    def of_teacher(self, teacher_id: int) -> list[Observation]:
        return list(
            self.session.scalars(
                select(Observation)
                .where(Observation.teacher_id == teacher_id, Observation.status != "cancelled")
                .order_by(Observation.starts_at)
            )
        )

    def all_with_people(self) -> list[tuple[Observation, Person, Person]]:
        observer, teacher = aliased(Person), aliased(Person)
        rows = self.session.execute(
            select(Observation, observer, teacher)
            .join(observer, Observation.observer_id == observer.id)
            .join(teacher, Observation.teacher_id == teacher.id)
            .order_by(Observation.id)
        )
        return [(o, a, b) for o, a, b in rows]

    def drop_pending_messages(self, subject: str, key_prefix: str) -> int:
        """Unsent messages about something that changed: scheduled ones (by subject) and direct ones."""
        schedule_ids = select(Schedule.id).where(Schedule.subject == subject).scalar_subquery()
        result = self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                or_(OutboxMessage.schedule_id.in_(schedule_ids), OutboxMessage.idempotency_key.startswith(key_prefix)),
            )
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )
        return result.rowcount  # type: ignore[attr-defined]
