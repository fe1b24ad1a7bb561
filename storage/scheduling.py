"""Repositories for durable schedules and the outbox.

On PostgreSQL due rows are locked with `FOR UPDATE SKIP LOCKED`, so several tickers share the work
without waiting on each other; SQLite has one writer at a time and ignores the clause.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, false, or_, select, update
from sqlalchemy.orm import Session, SessionTransaction, selectinload

from storage.database import insert_new
from storage.models import OutboxMessage, Person, Schedule


class Schedules:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        workspace_id: int,
        kind: str,
        owner_id: int | None,
        subject: str,
        payload: dict[str, Any],
        time_zone: str,
        starts_at: datetime,
        next_run_at: datetime | None,
        now: datetime,
        rrule: str | None = None,
        occurrence_at: datetime | None = None,
    ) -> Schedule:
        schedule = Schedule(
            workspace_id=workspace_id,
            kind=kind,
            owner_id=owner_id,
            subject=subject,
            payload=payload,
            time_zone=time_zone,
            starts_at=starts_at,
            rrule=rrule,
            next_run_at=next_run_at,
            occurrence_at=occurrence_at or next_run_at,
            status="active" if next_run_at is not None else "done",
            paused=False,
            created_at=now,
            updated_at=now,
        )
        self.session.add(schedule)
        self.session.flush()
        return schedule

    @staticmethod
    def due_query(now: datetime, limit: int) -> Select[tuple[Schedule]]:
        """The query behind `lock_due` (benchmarks EXPLAIN it): an index range scan over what is due only."""
        return (
            select(Schedule)
            .where(Schedule.status == "active", Schedule.paused == false(), Schedule.next_run_at <= now)
            .order_by(Schedule.next_run_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )

    def lock_due(self, now: datetime, limit: int) -> list[Schedule]:
        """Due, active, unpaused schedules, oldest first, locked for this transaction only."""
        return list(self.session.scalars(self.due_query(now, limit)))

    def savepoint(self) -> SessionTransaction:
        """A nested transaction: one schedule's failure is rolled back without undoing the rest of the batch."""
        return self.session.begin_nested()

    def cancel_subject(self, subject: str, now: datetime) -> int:
        """Stop every schedule about `subject` (an observation that was cancelled or moved)."""
        result = self.session.execute(
            update(Schedule)
            .where(Schedule.subject == subject, Schedule.status == "active")
            .values(status="cancelled", next_run_at=None, updated_at=now)
        )
        return result.rowcount  # type: ignore[attr-defined]


class Outbox:
    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(
        self,
        *,
        key: str,
        kind: str,
        recipient_id: int,
        payload: dict[str, Any],
        due_at: datetime,
        now: datetime,
        schedule_id: int | None = None,
    ) -> bool:
        """Write one message unless its key exists; False means it was already written (a repeat)."""
        values = {
            "idempotency_key": key[:255],
            "kind": kind,
            "schedule_id": schedule_id,
            "recipient_id": recipient_id,
            "payload": payload,
            "due_at": due_at,
            "deliver_after": due_at,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
        }
        return insert_new(self.session, OutboxMessage, values)

    @staticmethod
    def ready_query(now: datetime, limit: int) -> Select[tuple[OutboxMessage]]:
        """The query behind `lock_ready` (benchmarks EXPLAIN it)."""
        return (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.deliver_after <= now,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
            )
            .order_by(OutboxMessage.deliver_after, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=OutboxMessage)
            # the recipients and their workspaces in two queries per batch, not two per row
            .options(selectinload(OutboxMessage.recipient).selectinload(Person.workspace))
        )

    def lock_ready(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """Pending rows whose time has come and that nobody holds a live lease on, locked for this transaction."""
        return list(self.session.scalars(self.ready_query(now, limit)))

    def get(self, message_id: int) -> OutboxMessage | None:
        return self.session.get(OutboxMessage, message_id)

    def mark_sent(self, message_id: int, worker: str, now: datetime) -> bool:
        """Record a send; False if another worker's lease had taken the row over meanwhile."""
        result = self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
            .values(status="sent", sent_at=now, lease_until=None, last_error=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def renew(self, message_ids: list[int], worker: str, lease_until: datetime) -> set[int]:
        """Extend `worker`'s leases on unsent rows; the ids it still holds (not taken over, not sent meanwhile)."""
        if not message_ids:
            return set()
        result = self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(message_ids),
                OutboxMessage.claimed_by == worker,
                OutboxMessage.status == "pending",
            )
            .values(lease_until=lease_until)
            .returning(OutboxMessage.id)
        )
        return set(result.scalars())

    def release(
        self, message_id: int, worker: str, retry_at: datetime, error: str, give_up: bool, count_attempt: bool = True
    ) -> None:
        """A failed send: try again at `retry_at`, or stop trying and mark it failed.

        `count_attempt=False` (a sender's "not now") gives the claim's attempt back, so waiting never uses up
        the attempts a real failure is allowed later.
        """
        attempts = OutboxMessage.attempts if count_attempt else OutboxMessage.attempts - 1
        self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
            .values(
                status="failed" if give_up else "pending",
                deliver_after=retry_at,
                lease_until=None,
                claimed_by=None,
                last_error=error[:2000],
                attempts=attempts,
            )
        )
