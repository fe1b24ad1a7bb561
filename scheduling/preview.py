"""What the scheduler would send, and when, over a window of time: the tick's own rules, run ahead of time.

`upcoming` walks virtual time forward from one due schedule to the next, the way ticks at those instants
would: each occurrence comes from `next_occurrence` (RRULE in the schedule's zone, the kind's school-day
shift), each message from the kind's own `expand` (which reads, and may write, the current state), and each
delivery time from the recipient's window (`QuietHours.window_for`, `next_delivery_time`: school days,
working hours, away). Whatever the expands write (a check-in row, a follow-up schedule) is seen by the
later steps of the walk, and all of it is rolled back at the end: a preview never changes anything.

Messages already waiting in the outbox are listed too, at the time their window opens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, select

from scheduling.calendar import SchoolCalendar
from scheduling.kinds import Kinds
from scheduling.quiet_hours import next_delivery_time
from scheduling.recurrence import next_occurrence
from scheduling.tick import QuietHours
from storage.database import Database
from storage.models import OutboxMessage, Person, Schedule
from storage.unit_of_work import Repos

MAX_STEPS = 100_000  # instants visited at most: ends a walk over a rule that fires every minute


@dataclass(frozen=True)
class Upcoming:
    """One message the scheduler would send: to whom, when it would be delivered, and what it says.

    `status` is "sends", or "away" for a reminder the tick would drop because its recipient is away.
    """

    at: datetime
    kind: str
    recipient_id: int
    recipient: str
    time_zone: str
    payload: dict[str, Any]
    due_at: datetime
    schedule_id: int | None = None
    status: str = "sends"
    subject: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Walk:
    repos: Repos
    kinds: Kinds
    quiet: QuietHours
    default_timezone: str
    start: datetime
    end: datetime
    calendars: dict[int, SchoolCalendar] = field(default_factory=dict)
    found: list[Upcoming] = field(default_factory=list)

    def calendar(self, workspace_id: int) -> SchoolCalendar:
        if workspace_id not in self.calendars:
            self.calendars[workspace_id] = self.repos.calendars.load(workspace_id)
        return self.calendars[workspace_id]

    def deliver(self, person: Person, kind: str, due_at: datetime, payload: dict[str, Any], **ids: Any) -> None:
        """When the tick's delivery would send this row: its recipient's window, and away for reminders."""
        calendar = self.calendar(person.workspace_id)
        in_channel = bool(payload.get("channel"))  # a channel post keeps the district's hours, as the tick does
        window = self.quiet.window_for(None if in_channel else person, self.default_timezone)
        intended = next_delivery_time(due_at, window, calendar, None)
        away = person.away_until if person.away_until is not None and person.away_until > intended else None
        away = None if in_channel else away
        status = "sends"
        at = intended
        if away is not None:
            if self.kinds.is_nudge(kind):
                status = "away"
            else:
                at = next_delivery_time(intended, window, calendar, away)
        if not self.start <= at < self.end:
            return
        channel = str((payload.get("channel") or {}).get("name") or "")
        shown = f"{channel} (for {person.display_name})" if channel else person.display_name  # a channel post
        self.found.append(Upcoming(at=at, kind=kind, recipient_id=person.id, recipient=shown,
                                   time_zone=window.zone.key, payload=payload, due_at=due_at, status=status,
                                   **ids))  # fmt: skip

    def waiting(self) -> None:
        """Rows already in the outbox, not yet sent."""
        rows = self.repos.session.execute(
            select(OutboxMessage, Person)
            .join(Person, OutboxMessage.recipient_id == Person.id)
            .where(OutboxMessage.status == "pending")
            .order_by(OutboxMessage.deliver_after)
        )
        for row, person in rows:
            self.deliver(person, row.kind, max(row.deliver_after, self.start), row.payload,
                         schedule_id=row.schedule_id)  # fmt: skip

    def next_due(self) -> datetime | None:
        return self.repos.session.scalar(
            select(func.min(Schedule.next_run_at)).where(Schedule.status == "active", Schedule.paused == false())
        )

    def due(self, now: datetime) -> list[Schedule]:
        return list(
            self.repos.session.scalars(
                select(Schedule)
                .where(Schedule.status == "active", Schedule.paused == false(), Schedule.next_run_at <= now)
                .order_by(Schedule.next_run_at, Schedule.id)
            )
        )

    def run(self, schedule: Schedule, now: datetime) -> None:
        """What the tick's expansion does with one due schedule at `now`, messages listed instead of queued."""
        kind = self.kinds.get(schedule.kind)
        grace = self.kinds.grace(schedule.kind)
        calendar = self.calendar(schedule.workspace_id)
        shift = kind.shift if kind is not None else None
        while schedule.next_run_at is not None and schedule.next_run_at <= now:
            runs_at = schedule.next_run_at
            original = schedule.occurrence_at or runs_at
            upcoming = next_occurrence(starts_at=schedule.starts_at, time_zone=schedule.time_zone,
                                       rrule=schedule.rrule, after=original, calendar=calendar, shift=shift,
                                       after_run=runs_at)  # fmt: skip
            late = now - runs_at > grace
            superseded = upcoming is not None and upcoming.runs_at <= now
            snoozed = schedule.snoozed_until is not None and runs_at < schedule.snoozed_until
            if kind is not None and not (late or superseded or snoozed):
                for notice in kind.expand(self.repos, schedule, runs_at):
                    person = self.repos.people.get(notice.recipient_id)
                    if person is not None:
                        self.deliver(person, schedule.kind, runs_at, notice.payload(), schedule_id=schedule.id,
                                     subject=schedule.subject)  # fmt: skip
            if late and now - grace > original:
                upcoming = next_occurrence(starts_at=schedule.starts_at, time_zone=schedule.time_zone,
                                           rrule=schedule.rrule, after=now - grace, calendar=calendar, shift=shift,
                                           after_run=runs_at)  # fmt: skip
            schedule.next_run_at = upcoming.runs_at if upcoming else None
            schedule.occurrence_at = upcoming.original if upcoming else None
            if upcoming is None:
                schedule.status = "done"
        self.repos.session.flush()


def upcoming(
    db: Database,
    kinds: Kinds,
    quiet: QuietHours,
    default_timezone: str,
    start: datetime,
    end: datetime,
) -> list[Upcoming]:
    """Every message the scheduler would deliver from `start` to `end` (UTC), in delivery order; nothing is kept."""
    session = db.sessions()
    try:
        walk = _Walk(Repos(session), kinds, quiet, default_timezone, start, end)
        walk.waiting()
        now = start
        for _ in range(MAX_STEPS):
            due = walk.next_due()
            if due is None or due >= end:
                break
            now = max(due, now)  # an expand may add a schedule due earlier still: the tick would run it now
            for schedule in walk.due(now):
                walk.run(schedule, now)
    finally:
        session.rollback()
        session.close()
    return sorted(walk.found, key=lambda item: (item.at, item.kind, item.recipient_id))
