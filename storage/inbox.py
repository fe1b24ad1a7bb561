"""The inbox: verified requests written before the ack, claimed by workers, marked done once handled.

Claiming takes only the oldest unfinished item of each conversation (`order_key`), so a person's replies
are handled in the order they were sent even with several workers. On PostgreSQL the claim uses
`FOR UPDATE SKIP LOCKED` and a lease, like the outbox: a worker that dies leaves a lease that expires and
another worker takes the item. Handling itself is idempotent (the router records each event id in the
turn's own transaction), so an item handled just before a crash is a no-op the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, or_, select, update

from storage.database import Database, insert_or_skip
from storage.models import InboxItem

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Claimed:
    id: int
    platform: str
    kind: str
    body: dict[str, Any]
    attempts: int


@cache
def _insert() -> Any:
    """One cached INSERT … ON CONFLICT DO NOTHING RETURNING: the hot path of every ack, kept to Core; a batch
    of them is one multi-row statement, and the keys it returns are the ones that were new."""
    table = InboxItem.__table__
    return insert_or_skip(table).returning(table.c.platform, table.c.event_key)  # type: ignore[arg-type]


def put(
    db: Database, platform: str, event_key: str, order_key: str, kind: str, body: dict[str, Any], now: datetime
) -> bool:
    """Keep a request; False if the same event is already in (a platform retry).

    Committed before it returns, in one short transaction shared with the puts of other threads that arrived
    meanwhile (`GroupCommit`), so acks under load do not queue one by one for the write lock.
    """
    values = {
        "platform": platform,
        "event_key": event_key[:255],
        "order_key": order_key[:255],
        "kind": kind,
        "body": body,
        "status": "pending",
        "attempts": 0,
        "received_at": now,
    }
    engine = db.inbox_sessions.kw["bind"]

    def write(batch: list[dict[str, Any]]) -> list[bool]:
        keys = [(row["platform"], row["event_key"]) for row in batch]
        first = {key: n for n, key in reversed(list(enumerate(keys)))}  # a key twice in one batch: the first wins
        rows = [row for n, row in enumerate(batch) if first[keys[n]] == n]
        with engine.begin() as connection:
            new = set(map(tuple, connection.execute(_insert(), rows)))
        return [key in new and first[key] == n for n, key in enumerate(keys)]

    return db.inbox_writes.submit(values, write)


@cache
def _claimable(dialect_name: str) -> Any:
    """The head item of each conversation whose earlier items are all done, built once (Core, cached): the drain
    claims often, and building the ORM query with its alias each time was 40% of the drain's own Python."""
    table = InboxItem.__table__
    earlier = table.alias("earlier")
    blocked = exists().where(
        earlier.c.order_key == table.c.order_key, earlier.c.id < table.c.id, earlier.c.status == "pending"
    )
    now = bindparam("now", type_=InboxItem.__table__.c.lease_until.type)
    query = (
        select(table.c.id, table.c.platform, table.c.kind, table.c.body, table.c.attempts)
        .where(table.c.status == "pending", or_(table.c.lease_until.is_(None), table.c.lease_until < now), ~blocked)
        .order_by(table.c.id)
    )
    if dialect_name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=table)
    return query


@cache
def _lease() -> Any:
    table = InboxItem.__table__
    return (
        update(table)
        .where(table.c.id.in_(bindparam("ids", expanding=True)))
        .values(
            claimed_by=bindparam("by"),
            lease_until=bindparam("until", type_=table.c.lease_until.type),
            attempts=table.c.attempts + 1,
        )
    )


def claim(db: Database, worker: str, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
    """Lease the head item of up to `limit` conversations whose earlier items are all done."""
    engine = db.inbox_sessions.kw["bind"]
    with engine.begin() as connection:
        rows = connection.execute(_claimable(engine.dialect.name).limit(limit), {"now": now}).all()
        if not rows:
            return []
        connection.execute(_lease(), {"ids": [row.id for row in rows], "by": worker, "until": now + lease})
    return [Claimed(row.id, row.platform, row.kind, dict(row.body), row.attempts + 1) for row in rows]


def finish(db: Database, item_id: int, now: datetime, failed: bool = False) -> None:
    """Done (or given up after MAX_ATTEMPTS): the conversation's next item may be claimed."""
    with db.inbox_sessions.begin() as session:
        session.execute(
            update(InboxItem)
            .where(InboxItem.id == item_id)
            .values(status="failed" if failed else "done", done_at=now, lease_until=None)
        )


def release(db: Database, item_id: int, retry_at: datetime) -> None:
    """Not handled this time (an error): try again after `retry_at`."""
    with db.inbox_sessions.begin() as session:
        session.execute(update(InboxItem).where(InboxItem.id == item_id).values(lease_until=retry_at))


def pending(db: Database) -> int:
    with db.inbox_sessions.begin() as session:
        return session.scalar(select(func.count()).select_from(InboxItem).where(InboxItem.status == "pending")) or 0


def forget_before(db: Database, cutoff: datetime) -> int:
    """Drop handled items older than `cutoff`; their event ids live on in processed_events."""
    with db.inbox_sessions.begin() as session:
        result = session.execute(delete(InboxItem).where(InboxItem.status != "pending", InboxItem.done_at < cutoff))
        return result.rowcount  # type: ignore[attr-defined]
