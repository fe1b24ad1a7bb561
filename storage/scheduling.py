"""Repositories for durable schedules and the outbox, written to be used a batch at a time.

On PostgreSQL due rows are locked with `FOR UPDATE SKIP LOCKED`, so several tickers share the work
without waiting on each other; SQLite has one writer at a time and ignores the clause. Batches are written in
one statement each (a multi-row `INSERT … ON CONFLICT DO NOTHING`, an `UPDATE … FROM unnest(…)`), so the cost
of a tick grows by a fraction of a millisecond per due message, not by a few round trips.

Writing work that is due now marks the transaction; on PostgreSQL it also sends `NOTIFY growthbot_due`, which
the server delivers to every listening worker when (and only if) the transaction commits. `on_due_commit` lets
this process's delivery loop hear about it at commit too.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    event,
    false,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from storage.database import Database, insert_new
from storage.models import OutboxMessage, Person, Schedule, Workspace

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "growthbot_due"
DUE_FLAG = "growthbot.due_now"  # in Session.info: this transaction wrote work that is due now
_NOT_SYNCED = {"synchronize_session": False}  # bulk statements: the session's objects are not consulted
_K = TypeVar("_K")
_V = TypeVar("_V")


def mark_due_now(session: Session) -> None:
    """Say that this transaction wrote something due now: other workers hear at commit (PostgreSQL NOTIFY)."""
    if session.info.get(DUE_FLAG):
        return
    session.info[DUE_FLAG] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})


_due_callbacks: weakref.WeakKeyDictionary[Any, list[Callable[[], None]]] = weakref.WeakKeyDictionary()


def on_due_commit(db: Database, callback: Callable[[], None]) -> None:
    """Call `callback` after every commit of `db` that wrote work due now (see `mark_due_now`).

    One pair of session hooks per database calls every callback, so two delivery loops on one database (a test
    and a runtime) both hear the commit, not only the first to look at the flag.
    """
    callbacks = _due_callbacks.get(db.sessions)
    if callbacks is not None:
        callbacks.append(callback)
        return
    callbacks = _due_callbacks[db.sessions] = [callback]

    def committed(session: Session) -> None:
        if session.info.pop(DUE_FLAG, False):
            for ring in list(callbacks):
                ring()

    def rolled_back(session: Session, _previous: Any = None) -> None:
        if not session.in_transaction():
            session.info.pop(DUE_FLAG, None)

    event.listen(db.sessions, "after_commit", committed)
    event.listen(db.sessions, "after_soft_rollback", rolled_back)


def listen_for_due(db: Database, callback: Callable[[], None], stop: threading.Event) -> None:
    """Until `stop` is set, call `callback` whenever any process commits work due now (PostgreSQL only).

    One dedicated connection, in autocommit mode; a lost connection is reopened after a short wait, and the
    callback is called then too, since a notification may have been missed meanwhile.
    """
    while not stop.is_set():
        raw = None
        try:
            raw = db.engine.raw_connection()
            connection = raw.driver_connection
            connection.autocommit = True  # type: ignore[union-attr]
            connection.execute(f"LISTEN {NOTIFY_CHANNEL}")  # type: ignore[union-attr]
            callback()
            while not stop.is_set():
                for _notice in connection.notifies(timeout=0.5):  # type: ignore[union-attr]
                    callback()
        except Exception:
            if stop.is_set():
                return
            log.warning("listening for due work on PostgreSQL failed; trying again in 5 s", exc_info=True)
            stop.wait(5)
        finally:
            if raw is not None:
                try:
                    raw.invalidate()  # a LISTENing connection must not go back to the pool
                except Exception:
                    log.debug("could not discard the listening connection", exc_info=True)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


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
        if next_run_at is not None and next_run_at <= now:
            mark_due_now(self.session)
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

    def advance(self, moves: list[tuple[int, datetime | None, datetime | None, str]], now: datetime) -> None:
        """Set (id, next_run_at, occurrence_at, status) for many schedules in one statement."""
        if not moves:
            return
        if _postgres(self.session):
            ids, nexts, occurrences, statuses = (list(column) for column in zip(*moves, strict=True))
            stamps = postgresql.ARRAY(DateTime(timezone=True))
            moved = select(
                func.unnest(
                    cast(bindparam("ids", ids, type_=postgresql.ARRAY(Integer)), postgresql.ARRAY(Integer))
                ).label("id"),
                func.unnest(cast(bindparam("nexts", nexts, type_=stamps), stamps)).label("next_run_at"),
                func.unnest(cast(bindparam("occurrences", occurrences, type_=stamps), stamps)).label("occurrence_at"),
                func.unnest(
                    cast(bindparam("statuses", statuses, type_=postgresql.ARRAY(String)), postgresql.ARRAY(String))
                ).label("status"),
            ).subquery("moved")
            self.session.execute(
                update(Schedule)
                .where(Schedule.id == moved.c.id)
                .values(
                    next_run_at=moved.c.next_run_at,
                    occurrence_at=moved.c.occurrence_at,
                    status=moved.c.status,
                    updated_at=now,
                )
                .execution_options(**_NOT_SYNCED)
            )
            return
        # SQLite runs in this process: one prepared statement executed for each row costs microseconds.
        self.session.execute(
            update(Schedule.__table__)
            .where(Schedule.__table__.c.id == bindparam("moved_id"))
            .values(
                next_run_at=bindparam("moved_next"),
                occurrence_at=bindparam("moved_occurrence"),
                status=bindparam("moved_status"),
                updated_at=now,
            ),
            [{"moved_id": i, "moved_next": n, "moved_occurrence": o, "moved_status": s} for i, n, o, s in moves],
        )

    def retry_later(self, schedule_id: int, at: datetime, now: datetime) -> None:
        """A schedule whose expansion raised: try it again at `at`, leaving the rest of it as it was."""
        self.session.execute(
            update(Schedule)
            .where(Schedule.id == schedule_id)
            .values(next_run_at=at, updated_at=now)
            .execution_options(**_NOT_SYNCED)
        )

    def next_due_after(self, now: datetime) -> datetime | None:
        """When the next active schedule comes due (later than `now`): an index seek, for the loop's sleep."""
        return self.session.scalar(
            select(func.min(Schedule.next_run_at)).where(
                Schedule.status == "active", Schedule.paused == false(), Schedule.next_run_at > now
            )
        )

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

    @staticmethod
    def row(
        *,
        key: str,
        kind: str,
        recipient_id: int,
        payload: dict[str, Any],
        due_at: datetime,
        now: datetime,
        schedule_id: int | None = None,
    ) -> dict[str, Any]:
        """The column values of one new message, for `enqueue` and `enqueue_many`."""
        return {
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
        values = self.row(key=key, kind=kind, recipient_id=recipient_id, payload=payload, due_at=due_at, now=now,
                          schedule_id=schedule_id)  # fmt: skip
        written = insert_new(self.session, OutboxMessage, values)
        if written and due_at <= now:
            mark_due_now(self.session)
        return written

    def enqueue_many(self, rows: list[dict[str, Any]]) -> int:
        """Write many messages (from `row`) in one multi-row INSERT; those whose key exists are left alone.

        Returns how many were new. Two writers racing on one key cannot both win, as with `enqueue`.
        """
        if not rows:
            return 0
        dialect = postgresql if _postgres(self.session) else sqlite
        statement = dialect.insert(OutboxMessage).on_conflict_do_nothing().returning(OutboxMessage.id)
        return len(self.session.execute(statement, rows).all())

    @staticmethod
    def ready_query(now: datetime, limit: int) -> Select[tuple[OutboxMessage, Person, Workspace]]:
        """The query behind `lock_ready` (benchmarks EXPLAIN it): rows with their recipient, in one query.

        The rows are picked (and locked) in a CTE that reads the due index only as far as `limit`; the join to
        their recipients comes after, so a backlog of thousands costs no more per batch than a handful.
        """
        picked = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.deliver_after <= now,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
            )
            .order_by(OutboxMessage.deliver_after, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("picked")
        )
        return (
            select(OutboxMessage, Person, Workspace)
            .join(picked, OutboxMessage.id == picked.c.id)
            .join(Person, OutboxMessage.recipient_id == Person.id)
            .join(Workspace, Person.workspace_id == Workspace.id)
            .order_by(OutboxMessage.deliver_after, OutboxMessage.id)
        )

    def lock_ready(self, now: datetime, limit: int) -> list[tuple[OutboxMessage, Person, Workspace]]:
        """Pending rows whose time has come and that nobody holds a live lease on, locked for this transaction."""
        return [
            (row, person, workspace) for row, person, workspace in self.session.execute(self.ready_query(now, limit))
        ]

    def lease(self, message_ids: list[int], worker: str, lease_until: datetime) -> None:
        """Claim locked rows for `worker` until `lease_until`, counting an attempt each."""
        if message_ids:
            self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(message_ids))
                .values(claimed_by=worker, lease_until=lease_until, attempts=OutboxMessage.attempts + 1)
                .execution_options(**_NOT_SYNCED)
            )

    def defer(self, until: dict[int, datetime]) -> None:
        """Move rows to the moment each may go (their recipient's window opens): one UPDATE per distinct moment."""
        for when, ids in _grouped(until).items():
            self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(deliver_after=when)
                .execution_options(**_NOT_SYNCED)
            )

    def skip(self, reasons: dict[int, str]) -> None:
        """Give up on rows that must not go at all (too late, or a nudge for someone away), saying why."""
        for reason, ids in _grouped(reasons).items():
            self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(status="skipped", last_error=reason)
                .execution_options(**_NOT_SYNCED)
            )

    def get(self, message_id: int) -> OutboxMessage | None:
        return self.session.get(OutboxMessage, message_id)

    def mark_sent(self, message_id: int, worker: str, now: datetime) -> bool:
        """Record a send; False if another worker's lease had taken the row over meanwhile."""
        return bool(self.mark_sent_many([message_id], worker, now))

    def mark_sent_many(self, message_ids: list[int], worker: str, now: datetime) -> set[int]:
        """Record many sends in one statement; the ids still held by `worker` (the others were taken over)."""
        if not message_ids:
            return set()
        result = self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(message_ids),
                OutboxMessage.claimed_by == worker,
                OutboxMessage.status == "pending",
            )
            .values(status="sent", sent_at=now, lease_until=None, last_error=None)
            .returning(OutboxMessage.id)
            .execution_options(**_NOT_SYNCED)
        )
        return set(result.scalars())

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
            .execution_options(**_NOT_SYNCED)
        )
        return set(result.scalars())

    def release(
        self,
        message_id: int,
        worker: str,
        retry_at: datetime,
        error: str,
        give_up: bool,
        count_attempt: bool = True,
        maybe_sent: bool = False,
    ) -> None:
        """A failed send: try again at `retry_at`, or stop trying and mark it failed.

        `count_attempt=False` (a sender's "not now") gives the claim's attempt back, so waiting never uses up
        the attempts a real failure is allowed later. `maybe_sent=True` (the attempt may have reached the
        platform: a timeout, a 5xx) keeps `claimed_by`, which is how the next claim knows to look before sending:
        a pending row without a live lease whose `claimed_by` is set had an attempt whose outcome is unknown.
        """
        attempts = OutboxMessage.attempts if count_attempt else OutboxMessage.attempts - 1
        values: dict[str, Any] = {
            "status": "failed" if give_up else "pending",
            "deliver_after": retry_at,
            "lease_until": None,
            "last_error": error[:2000],
            "attempts": attempts,
        }
        if not maybe_sent:
            values["claimed_by"] = None
        self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
            .values(**values)
            .execution_options(**_NOT_SYNCED)
        )

    def next_ready_after(self, now: datetime) -> datetime | None:
        """When the next pending row may go (later than `now`): an index seek, for the loop's sleep."""
        return self.session.scalar(
            select(func.min(OutboxMessage.deliver_after)).where(
                OutboxMessage.status == "pending", OutboxMessage.deliver_after > now
            )
        )

    def announce_due(self) -> None:
        """Tell other workers that rows are ready now (after this transaction commits)."""
        mark_due_now(self.session)


def _grouped(values: dict[_K, _V]) -> dict[_V, list[_K]]:
    groups: dict[_V, list[_K]] = defaultdict(list)
    for key, value in values.items():
        groups[value].append(key)
    return groups
