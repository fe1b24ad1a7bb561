"""A district for PLC and partnership tests: a 2026-27 calendar with holidays, people, a fake clock, a tick
called at the instants something is due (never every minute), and an inbox that keeps what each person got."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import Runtime, assemble
from bot.settings import Settings
from scheduling.clock import FakeClock
from scheduling.preview import upcoming
from scheduling.tick import QuietHours, Ticker
from storage.database import Database
from storage.models import ClosedDay, SchoolYear
from storage.unit_of_work import Repos, unit_of_work
from tests.harness import Chat, Inbox

NY = ZoneInfo("America/New_York")
CLOSED = {
    date(2026, 9, 7): "Labor Day", date(2026, 10, 12): "Indigenous Peoples' Day", date(2026, 11, 11): "Veterans Day",
    date(2026, 11, 26): "Thanksgiving", date(2026, 11, 27): "Thanksgiving",
    **{date(2026, 12, 24) + timedelta(days=n): "Winter vacation" for n in range(9)},
    date(2027, 1, 18): "Martin Luther King Jr. Day",
    **{date(2027, 2, 15) + timedelta(days=n): "February vacation" for n in range(5)},
    **{date(2027, 4, 19) + timedelta(days=n): "April vacation" for n in range(5)},
    date(2027, 5, 31): "Memorial Day",
}  # fmt: skip
FIRST_DAY, LAST_DAY = date(2026, 9, 2), date(2027, 6, 22)


@dataclass
class District:
    runtime: Runtime
    clock: FakeClock
    inbox: Inbox
    ticker: Ticker
    workspace_id: int
    ticks: int = 0
    people: dict[str, int] = field(default_factory=dict)

    def chat(self, user: str) -> Chat:
        return Chat(self.runtime.bot, user=user)

    def walk_to(self, when: datetime) -> None:
        """Tick now and at every instant something falls due, up to `when` (as the background loop wakes)."""
        self.ticker.tick()
        while True:
            due = self.ticker.next_due()
            if due is None or due > when:
                break
            self.clock.set(max(due, self.clock.now()))
            self.ticker.tick()
            self.ticks += 1
        self.clock.set(max(when, self.clock.now()))
        self.ticker.tick()

    def preview(self, start: datetime, end: datetime) -> list[tuple[str, str, str]]:
        settings = self.runtime.settings
        items = upcoming(self.runtime.db, self.runtime.kinds, QuietHours(settings.quiet_start, settings.quiet_end),
                         settings.default_timezone, start, end)  # fmt: skip
        handles = self.handles()
        return [((i.payload.get("channel") or {}).get("name") or handles[i.recipient_id],
                 i.at.astimezone(NY).strftime("%a %b %-d %H:%M"), i.kind)
                for i in items if i.status == "sends"]  # fmt: skip

    def handles(self) -> dict[int, str]:
        return {person_id: handle for handle, person_id in self.people.items()}

    def repos(self):  # type: ignore[no-untyped-def]
        return unit_of_work(self.runtime.db)


def add_person(repos: Repos, workspace_id: int, handle: str, name: str, roles: list[str]) -> int:
    found = repos.people.ensure(workspace_id, handle, datetime(2026, 8, 1, tzinfo=UTC), name, "America/New_York")
    found.roles = roles
    found.email = f"{handle}@school.example"
    repos.session.flush()
    return found.id


STAFF = [
    ("rivera", "Ana Rivera", ["teacher", "plc_lead"]),
    ("nguyen", "Linh Nguyen", ["teacher"]),
    ("kim", "Joon Kim", ["teacher"]),
    ("baker", "Jordan Baker", ["partnership_lead"]),
    ("okafor", "Grace Okafor", ["admin", "evaluator"]),
    ("patel", "Priya Patel", ["facilitator"]),
    ("cole", "Sam Cole", ["teacher"]),
]


def district(db: Database, start: datetime, staff: bool = True, **settings: Any) -> District:
    """The district at `start`; without `staff`, an empty workspace (for the demo loader)."""
    clock = FakeClock(start)
    people = {}
    with unit_of_work(db) as repos:
        ws = repos.workspaces.ensure("console", "local", clock.now())
        workspace_id = ws.id
        if not staff:
            return _made(db, clock, workspace_id, people, settings)
        for handle, name, roles in STAFF:
            people[handle] = add_person(repos, ws.id, handle, name, roles)
        repos.session.add(SchoolYear(workspace_id=ws.id, name="2026-2027", first_day=FIRST_DAY, last_day=LAST_DAY))
        for day, label in CLOSED.items():
            if day.weekday() < 5:
                repos.session.add(ClosedDay(workspace_id=ws.id, day=day, label=label))
    return _made(db, clock, workspace_id, people, settings)


def _made(db: Database, clock: FakeClock, workspace_id: int, people: dict[str, int], settings: Any) -> District:
    runtime = assemble(Settings(_env_file=None, default_timezone="America/New_York", **settings), db, clock)
    inbox = Inbox(clock)
    return District(runtime, clock, inbox, runtime.ticker({"console": inbox}), workspace_id, people=people)


def is_school_day(day: date) -> bool:
    return day.weekday() < 5 and day not in CLOSED and FIRST_DAY <= day <= LAST_DAY
