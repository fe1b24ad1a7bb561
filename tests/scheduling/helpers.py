"""A small world for scheduler tests: one workspace, people in their zones, kinds that say who gets what."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from scheduling.calendar import SchoolCalendar
from scheduling.clock import Clock
from scheduling.kinds import Kind, Kinds, Notice
from scheduling.recurrence import next_occurrence
from scheduling.tick import Recipient, Sender, Ticker
from storage.database import Database
from storage.models import ClosedDay, OutboxMessage, Person, Schedule, SchoolYear
from storage.unit_of_work import Repos, unit_of_work

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
PLATFORM = "slack"
REMINDER = "test.reminder"  # a nudge, moved to the next school day
NOTICE = "test.notice"  # not a nudge: waits for someone away
EARLIER = "test.earlier"  # a nudge moved to the previous school day
UNSHIFTED = "test.unshifted"


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, zone: ZoneInfo = NEW_YORK) -> datetime:
    """A wall-clock time in `zone`, as the aware UTC instant the database stores."""
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


def remind_owner(_repos: Repos, schedule: Schedule, occurrence: datetime) -> list[Notice]:
    """One message to the schedule's owner, naming the occurrence so every message is distinguishable."""
    assert schedule.owner_id is not None
    context = {"schedule": schedule.id, "at": occurrence.isoformat()}
    return [Notice(recipient_id=schedule.owner_id, messages=[{"template": "help", "context": context}])]


def test_kinds(**grace_overrides: timedelta) -> Kinds:
    kinds = Kinds(grace_overrides=dict(grace_overrides))
    kinds.register(Kind(REMINDER, remind_owner, shift="next", nudge=True))
    kinds.register(Kind(NOTICE, remind_owner, shift="next", nudge=False))
    kinds.register(Kind(EARLIER, remind_owner, shift="previous", nudge=True))
    kinds.register(Kind(UNSHIFTED, remind_owner, shift=None, nudge=True))
    return kinds


test_kinds.__test__ = False  # type: ignore[attr-defined]  # a factory, not a test


@dataclass
class Sent:
    worker: str
    user_id: str
    payload: dict[str, Any]
    at: datetime

    @property
    def key(self) -> str:
        """What makes one message one message: who it is for and what it says."""
        return f"{self.user_id}|{json.dumps(self.payload, sort_keys=True)}"


@dataclass
class RecordingSender:
    """Remembers every send; thread-safe, so two tickers may share one."""

    clock: Clock
    worker: str = ""
    sent: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, recipient: Recipient, payload: dict[str, Any]) -> None:
        with self.lock:
            self.sent.append(Sent(self.worker, recipient.user_id, payload, self.clock.now()))

    def to(self, user_id: str) -> list[Sent]:
        with self.lock:
            return [s for s in self.sent if s.user_id == user_id]

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(s.key for s in self.sent)


@dataclass
class World:
    db: Database
    workspace_id: int
    people: dict[str, int]

    def person(self, name: str) -> int:
        return self.people[name]

    def ticker(
        self, clock: Clock, sender: Sender, kinds: Kinds | None = None, worker: str | None = None, batch: int = 200
    ) -> Ticker:
        return Ticker(self.db, clock, kinds or test_kinds(), {PLATFORM: sender}, "America/New_York",
                      worker=worker, batch=batch)  # fmt: skip

    def schedule(
        self,
        owner: str,
        starts_at: datetime,
        now: datetime,
        kind: str = REMINDER,
        rrule: str | None = None,
        time_zone: str = "America/New_York",
        kinds: Kinds | None = None,
    ) -> int:
        """A schedule whose first run is computed as a feature would: the first occurrence, shifted."""
        registered = (kinds or test_kinds()).get(kind)
        with unit_of_work(self.db) as repos:
            calendar = repos.calendars.load(self.workspace_id)
            first = next_occurrence(starts_at=starts_at, time_zone=time_zone, rrule=rrule, after=None,
                                    calendar=calendar, shift=registered.shift if registered else None)  # fmt: skip
            schedule = repos.schedules.add(
                workspace_id=self.workspace_id, kind=kind, owner_id=self.person(owner), subject=f"test:{owner}",
                payload={}, time_zone=time_zone, starts_at=starts_at, rrule=rrule,
                next_run_at=first.runs_at if first else None, occurrence_at=first.original if first else None,
                now=now,
            )  # fmt: skip
            return schedule.id

    def enqueue(self, to: str, key: str, due_at: datetime, now: datetime, kind: str = NOTICE, **extra: Any) -> bool:
        # errors/unexpected shows its `ref`, so each row's text is its own on Slack too
        payload = {"messages": [{"template": "errors/unexpected", "context": {"key": key, "ref": key}}], **extra}
        with unit_of_work(self.db) as repos:
            return repos.outbox.enqueue(key=key, kind=kind, recipient_id=self.person(to), payload=payload,
                                        due_at=due_at, now=now)  # fmt: skip

    def close(self, *days: date, label: str = "holiday") -> None:
        with unit_of_work(self.db) as repos:
            for day in days:
                repos.session.add(ClosedDay(workspace_id=self.workspace_id, day=day, label=label))

    def add_year(self, name: str, first: date, last: date) -> None:
        with unit_of_work(self.db) as repos:
            repos.session.add(SchoolYear(workspace_id=self.workspace_id, name=name, first_day=first, last_day=last))

    def set_person(self, name: str, **fields: Any) -> None:
        with unit_of_work(self.db) as repos:
            person = repos.session.get(Person, self.person(name))
            assert person is not None
            for attribute, value in fields.items():
                setattr(person, attribute, value)

    def outbox(self) -> list[OutboxMessage]:
        with unit_of_work(self.db) as repos:
            return list(repos.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    def schedule_row(self, schedule_id: int) -> Schedule:
        with unit_of_work(self.db) as repos:
            schedule = repos.session.get(Schedule, schedule_id)
            assert schedule is not None
            return schedule

    def calendar(self) -> SchoolCalendar:
        with unit_of_work(self.db) as repos:
            return repos.calendars.load(self.workspace_id)


def make_world(db: Database, now: datetime, people: dict[str, str] | None = None, platform: str = PLATFORM) -> World:
    """A workspace and its people (name -> IANA zone), each with the user id U<NAME>."""
    people = people or {"ana": "America/New_York", "luis": "America/Los_Angeles"}
    ids: dict[str, int] = {}
    with unit_of_work(db) as repos:
        workspace = repos.workspaces.ensure(platform, "T1", now)
        for name, zone in people.items():
            ids[name] = repos.people.ensure(workspace.id, f"U{name.upper()}", now, name.capitalize(), zone).id
        workspace_id = workspace.id
    return World(db=db, workspace_id=workspace_id, people=ids)


def walk(ticker: Ticker, clock: Any, until: datetime, step: timedelta) -> None:
    """Tick every `step` from the clock's time up to `until`, as the real loop would (only faster)."""
    while clock.now() < until:
        clock.advance(min(step, until - clock.now()))
        ticker.tick()
