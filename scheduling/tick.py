"""The tick: turn due schedules into outbox rows, then send what is ready. Called directly by tests.

Expanding is one transaction per batch: due schedules are locked (`FOR UPDATE SKIP LOCKED` on
PostgreSQL), their messages written under unique idempotency keys and the schedules advanced, so a
crash anywhere leaves either all of it or none; each schedule runs in a savepoint, so one that raises is
rolled back alone and tried again a few minutes later. Sending cannot be inside a transaction, so each outbox
row is leased (claimed_by, lease_until) before the send and marked sent after; a process that dies
between the two leaves a lease that expires, and another process sends the row then.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduling.calendar import SchoolCalendar
from scheduling.clock import Clock
from scheduling.kinds import Kinds
from scheduling.quiet_hours import DEFAULT_END, DEFAULT_START, Window, next_delivery_time, parse_hhmm
from scheduling.recurrence import Occurrence, next_occurrence
from storage.database import Database
from storage.models import OutboxMessage, Person, Schedule
from storage.unit_of_work import Repos, unit_of_work

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
RETRY = timedelta(minutes=5)  # a schedule whose tick raised is tried again after this
MAX_ATTEMPTS = 8
BATCH = 200


def worker_id() -> str:
    """Unique per process start, so a restarted process never mistakes an old lease for its own."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Recipient:
    platform: str
    workspace: str
    user_id: str
    name: str
    time_zone: str


class SendLater(Exception):
    """A sender's way to say "not now": the row is retried after `after`, without counting as an error."""

    def __init__(self, after: timedelta, reason: str) -> None:
        super().__init__(reason)
        self.after = after


class Sender(Protocol):
    def send(self, recipient: Recipient, payload: dict[str, Any]) -> None:
        """Deliver one outbox row's messages to one person, or raise."""
        ...


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    recipient: Recipient
    payload: dict[str, Any]
    attempts: int
    lease_until: datetime | None = None


@dataclass
class TickReport:
    expanded: int = 0
    queued: int = 0
    skipped_late: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    lateness: list[float] = field(default_factory=list)  # seconds between deliver_after and the send


@dataclass
class QuietHours:
    """The default messaging window, used for anyone who has not set their own."""

    start: str = DEFAULT_START.strftime("%H:%M")
    end: str = DEFAULT_END.strftime("%H:%M")

    def window_for(self, person: Person, default_zone: str) -> Window:
        try:
            zone = ZoneInfo(person.time_zone or default_zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(default_zone)
        start, end = parse_hhmm(self.start, DEFAULT_START), parse_hhmm(self.end, DEFAULT_END)
        if start >= end:
            start, end = DEFAULT_START, DEFAULT_END
        own_start, own_end = parse_hhmm(person.quiet_start, start), parse_hhmm(person.quiet_end, end)
        if own_start < own_end:  # a window that closes before it opens would hold their messages forever
            start, end = own_start, own_end
        return Window(zone=zone, start=start, end=end)


class Ticker:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        kinds: Kinds,
        senders: dict[str, Sender],
        default_timezone: str,
        quiet: QuietHours | None = None,
        worker: str | None = None,
        batch: int = BATCH,
    ) -> None:
        self.db = db
        self.clock = clock
        self.kinds = kinds
        self.senders = senders
        self.default_timezone = default_timezone
        self.quiet = quiet or QuietHours()
        self.worker = worker or worker_id()
        self.batch = batch

    def tick(self) -> TickReport:
        """Expand everything due, then send everything ready; each in batches until none is left."""
        report = TickReport()
        while self.expand_due(report) == self.batch:
            pass
        while self.deliver_ready(report) == self.batch:
            pass
        return report

    # -- schedules -> outbox -------------------------------------------------------------------------

    def expand_due(self, report: TickReport) -> int:
        now = self.clock.now()
        with unit_of_work(self.db) as repos:
            due = repos.schedules.lock_due(now, self.batch)
            calendars: dict[int, SchoolCalendar] = {}
            for schedule in due:
                calendar = calendars.get(schedule.workspace_id)
                if calendar is None:
                    calendar = calendars[schedule.workspace_id] = repos.calendars.load(schedule.workspace_id)
                try:
                    with repos.schedules.savepoint():
                        self._run(repos, schedule, calendar, now, report)
                except Exception:
                    # One broken schedule (a feature's expand raising, say) must not hold up every other one
                    # behind it, tick after tick: undo its part, log it, and try it again a little later.
                    log.exception("schedule %s (%s) failed; trying it again in %s", schedule.id, schedule.kind, RETRY)
                    schedule.next_run_at = now + RETRY
                    schedule.updated_at = now
                    report.failed += 1
        return len(due)

    def _run(
        self, repos: Repos, schedule: Schedule, calendar: SchoolCalendar, now: datetime, report: TickReport
    ) -> None:
        kind = self.kinds.get(schedule.kind)
        grace = self.kinds.grace(schedule.kind)
        shift = kind.shift if kind is not None else None

        def following(after: datetime, after_run: datetime) -> Occurrence | None:
            return next_occurrence(starts_at=schedule.starts_at, time_zone=schedule.time_zone, rrule=schedule.rrule,
                                   after=after, calendar=calendar, shift=shift, after_run=after_run)  # fmt: skip

        while schedule.next_run_at is not None and schedule.next_run_at <= now:
            runs_at = schedule.next_run_at
            original = schedule.occurrence_at or runs_at
            upcoming = following(original, runs_at)
            if kind is None:
                log.error("schedule %s has unknown kind %r; skipping %s", schedule.id, schedule.kind, runs_at)
            elif now - runs_at > grace:
                log.warning("skipping schedule %s (%s) occurrence at %s: %s late, past its grace of %s",
                            schedule.id, schedule.kind, runs_at, now - runs_at, grace)  # fmt: skip
                report.skipped_late += 1
                if now - grace > original:  # jump over the rest of the missed ones at once
                    upcoming = following(now - grace, runs_at)
            elif upcoming is not None and upcoming.runs_at <= now:
                # Back from downtime with several occurrences due: only the latest one is worth a message.
                log.warning("skipping schedule %s (%s) occurrence at %s: a later one, at %s, is due too",
                            schedule.id, schedule.kind, runs_at, upcoming.runs_at)  # fmt: skip
                report.skipped_late += 1
            elif schedule.snoozed_until is not None and runs_at < schedule.snoozed_until:
                log.info("schedule %s snoozed until %s; not sending %s", schedule.id, schedule.snoozed_until, runs_at)
            else:
                self._expand(repos, schedule, kind.expand, original, runs_at, now, report)
            schedule.next_run_at = upcoming.runs_at if upcoming else None
            schedule.occurrence_at = upcoming.original if upcoming else None
            if upcoming is None:
                schedule.status = "done"
        schedule.updated_at = now

    def _expand(self, repos: Repos, schedule: Schedule, expand: Any, original: datetime, runs_at: datetime,
                now: datetime, report: TickReport) -> None:  # fmt: skip
        report.expanded += 1
        for notice in expand(repos, schedule, runs_at):
            key = f"schedule:{schedule.id}:{original:%Y%m%dT%H%M%SZ}:person:{notice.recipient_id}:{notice.tag}"
            queued = repos.outbox.enqueue(
                key=key,
                kind=schedule.kind,
                recipient_id=notice.recipient_id,
                payload=notice.payload(),
                due_at=runs_at,
                now=now,
                schedule_id=schedule.id,
            )
            report.queued += queued

    # -- outbox -> people ----------------------------------------------------------------------------

    def deliver_ready(self, report: TickReport) -> int:
        claimed, seen = self._claim(report)
        queue = list(claimed)
        while queue:
            queue = self._keep_leases(queue)
            if queue:
                self._send(queue.pop(0), report)
        return seen

    def _keep_leases(self, queue: list[Claimed]) -> list[Claimed]:
        """Renew the leases of a batch's unsent rows once they are half gone; drop rows another worker took.

        Rows are leased a batch at a time and sent one by one. When sends are slow (Slack asking to wait), the
        last rows of a batch could outlive their lease and be claimed and sent by another worker meanwhile.
        """
        now = self.clock.now()
        first = queue[0].lease_until
        if first is None or now < first - LEASE / 2:
            return queue
        until = now + LEASE
        with unit_of_work(self.db) as repos:
            kept = repos.outbox.renew([row.id for row in queue], self.worker, until)
        for row in queue:
            if row.id not in kept:
                log.warning("outbox %s: lease passed to another worker before it was sent; not sending it here", row.id)
        return [replace(row, lease_until=until) for row in queue if row.id in kept]

    def _claim(self, report: TickReport) -> tuple[list[Claimed], int]:
        """Lease the rows that may go now; push the rest to the time their recipient's window opens."""
        now = self.clock.now()
        claimed: list[Claimed] = []
        with unit_of_work(self.db) as repos:
            rows = repos.outbox.lock_ready(now, self.batch)
            calendars: dict[int, SchoolCalendar] = {}
            for row in rows:
                person = row.recipient
                calendar = calendars.get(person.workspace_id)
                if calendar is None:
                    calendar = calendars[person.workspace_id] = repos.calendars.load(person.workspace_id)
                decision = self._decide(row, person, calendar, now)
                if decision is None:
                    row.claimed_by, row.lease_until = self.worker, now + LEASE
                    row.attempts += 1
                    report.lateness.append((now - row.deliver_after).total_seconds())
                    claimed.append(
                        Claimed(row.id, row.kind, self._recipient(person), row.payload, row.attempts, row.lease_until)
                    )
                elif decision == "deferred":
                    report.deferred += 1
                else:
                    report.skipped_late += 1
        return claimed, len(rows)

    def _decide(self, row: OutboxMessage, person: Person, calendar: SchoolCalendar, now: datetime) -> str | None:
        """None to send now; otherwise what happened to the row instead."""
        grace = self.kinds.grace(row.kind)
        window = self.quiet.window_for(person, self.default_timezone)
        # Late is measured from the first moment it could have gone: a message written at night and
        # kept over a weekend outage is no later than one written on Monday morning.
        intended = next_delivery_time(row.deliver_after, window, calendar, None)
        if now - intended > grace:
            log.warning("not sending outbox %s (%s) to person %s: %s late, past its grace of %s",
                        row.id, row.kind, person.id, now - intended, grace)  # fmt: skip
            row.status = "skipped"
            row.last_error = "late"
            return "skipped"
        away = person.away_until if person.away_until is not None and person.away_until > now else None
        if away is not None and self.kinds.is_nudge(row.kind):
            row.status = "skipped"
            row.last_error = "away"
            return "skipped"
        opens = next_delivery_time(now, window, calendar, away)
        if opens > now:
            row.deliver_after = opens
            return "deferred"
        return None

    def _recipient(self, person: Person) -> Recipient:
        return Recipient(
            platform=person.workspace.platform,
            workspace=person.workspace.external_id,
            user_id=person.platform_user_id,
            name=person.display_name,
            time_zone=person.time_zone or self.default_timezone,
        )

    def _send(self, row: Claimed, report: TickReport) -> None:
        if not self._still_mine(row):
            return
        sender = self.senders.get(row.recipient.platform)
        try:
            if sender is None:
                raise SendLater(timedelta(minutes=15), f"no sender for {row.recipient.platform} in this process")
            sender.send(row.recipient, row.payload)
        except SendLater as later:
            log.info("outbox %s postponed %s: %s", row.id, later.after, later)
            self._release(row, later.after, str(later), give_up=False, count_attempt=False)
            report.deferred += 1
            return
        except Exception as error:
            give_up = row.attempts >= MAX_ATTEMPTS
            log.exception(
                "sending outbox %s failed (attempt %s%s)", row.id, row.attempts, ", giving up" if give_up else ""
            )
            self._release(row, backoff(row.attempts), f"{type(error).__name__}: {error}", give_up)
            report.failed += 1
            return
        with unit_of_work(self.db) as repos:
            if repos.outbox.mark_sent(row.id, self.worker, self.clock.now()):
                report.sent += 1
            else:
                log.warning("outbox %s was sent after its lease passed to another worker", row.id)

    def _still_mine(self, row: Claimed) -> bool:
        """Whether this worker still holds the row; asks the database only once the lease is half gone."""
        return bool(self._keep_leases([row]))

    def _release(self, row: Claimed, after: timedelta, error: str, give_up: bool, count_attempt: bool = True) -> None:
        with unit_of_work(self.db) as repos:
            repos.outbox.release(row.id, self.worker, self.clock.now() + after, error, give_up, count_attempt)


def backoff(attempts: int) -> timedelta:
    """30 s, 1, 2, 4 … minutes, capped at an hour: a platform outage is waited out without hammering it."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))
