"""The tick: turn due schedules into outbox rows, then send what is ready. Called directly by tests.

Expanding works a batch at a time, in one transaction: due schedules are locked (`FOR UPDATE SKIP LOCKED` on
PostgreSQL), all the batch's messages are written by one multi-row `INSERT … ON CONFLICT DO NOTHING` under their
unique idempotency keys, and all its schedules are advanced by one `UPDATE`, so a crash anywhere leaves all of it
or none. If anything in a batch raises (a feature's `expand`, say), the batch is rolled back and done again one
schedule at a time, each in a savepoint, so the one that raises is set aside alone and tried a few minutes later.

Sending cannot be inside a transaction, so rows are leased (claimed_by, lease_until) a batch at a time before the
sends and marked sent in batches after them; a process that dies in between leaves leases that expire, and another
process sends those rows then. A row whose previous claim never ended (its worker died, or its last attempt failed
in a way that may have reached the platform) is handed to the sender as `uncertain`, so a sender that can look
(Slack: the person's DM history) checks whether it is already there before sending it again.

Senders that allow it (a `concurrency` above 1) get several rows in flight at once, on a small thread pool; the
database work stays on the calling thread, so a slow platform never holds a transaction open.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduling.calendar import SchoolCalendar
from scheduling.clock import Clock
from scheduling.kinds import Kinds
from scheduling.quiet_hours import DEFAULT_END, DEFAULT_START, Window, next_delivery_time, parse_hhmm
from scheduling.recurrence import Occurrence, next_occurrence
from storage.database import Database
from storage.models import OutboxMessage, Person, Schedule, Workspace
from storage.scheduling import Outbox
from storage.unit_of_work import Repos, unit_of_work

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
RETRY = timedelta(minutes=5)  # a schedule whose tick raised is tried again after this
MAX_ATTEMPTS = 8
BATCH = 200
FLUSH_ROWS = 100  # outcomes recorded in one transaction at most this many at a time ...
FLUSH_SECONDS = 0.2  # ... and at least this often, so a crash leaves few rows whose outcome is unknown
WINDOW_PER_THREAD = 3  # rows claimed ahead per sending thread: enough to keep the pool busy, few to recheck


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
    channel: str | None = None  # the person's DM channel, when something already knows it


class SendLater(Exception):
    """A sender's way to say "not now": the row is retried after `after`, without counting as an error.

    `maybe_sent` says that something of this attempt may have reached the platform (so the next attempt looks
    first); by default a "not now" means nothing went out.
    """

    def __init__(self, after: timedelta, reason: str, maybe_sent: bool = False) -> None:
        super().__init__(reason)
        self.after = after
        self.maybe_sent = maybe_sent


class NotSent(Exception):
    """The platform refused the message outright (an error answer, not a timeout): nothing went out.

    Any other exception from a sender may have happened after the platform accepted the message, so the row's
    next attempt is marked uncertain.
    """

    maybe_sent = False


class ChannelUnavailable(NotSent):
    """A channel post the platform will not take (the bot is not in the channel, or the channel is unknown).

    Retrying would fail the same way, so the row stops there and its message goes to the people in the payload's
    `fallback` instead, each as a row of their own; the one it was sent for is told how to let the bot in.
    """

    def __init__(self, channel: str, reason: str) -> None:
        super().__init__(f"can't post in {channel}: {reason}")
        self.channel = channel
        self.reason = reason


def redirected(row: Claimed, error: ChannelUnavailable, now: datetime) -> list[dict[str, Any]]:
    """The fallback rows of a channel post that could not go: one DM each, under keys derived from the row's."""
    target = row.payload.get("channel") or {}
    messages = list(row.payload.get("messages") or [])
    files = row.payload.get("attachments") or []
    context = {"channel": error.channel, "reason": error.reason, "platform": row.recipient.platform}
    note = {"template": "outbox/channel_unavailable", "context": context}
    people = [p for p in dict.fromkeys(target.get("fallback") or []) if isinstance(p, int) and p != row.recipient_id]
    rows = [
        Outbox.row(key=f"{row.key}:dm:{person_id}", kind=row.kind, recipient_id=person_id, due_at=now, now=now,
                   payload={"messages": messages, "attachments": files})
        for person_id in people
    ]  # fmt: skip
    lead = {"messages": [note, *messages], "attachments": files}  # the one it was for: how to let the bot in
    rows.append(Outbox.row(key=f"{row.key}:dm:{row.recipient_id}", kind=row.kind, recipient_id=row.recipient_id,
                           due_at=now, now=now, payload=lead))  # fmt: skip
    return rows


class Sender(Protocol):
    def send(self, recipient: Recipient, payload: dict[str, Any]) -> None:
        """Deliver one outbox row's messages to one person, or raise."""
        ...


@dataclass(frozen=True)
class Outgoing:
    """One row as a sender that can avoid duplicates sees it (a sender with a `deliver` method)."""

    id: int
    key: str  # the row's idempotency key: carried with the post, so a later look can recognise it
    recipient: Recipient
    payload: dict[str, Any]
    attempt: int
    uncertain: bool  # an earlier attempt may already have reached the platform: look before sending
    since: datetime  # nothing of this row can have gone out before this instant


Delivered = Literal["sent", "found"]  # "found": an earlier attempt had already delivered it


class Deliverer(Protocol):
    """A sender that takes the whole row (its key, whether to look first) and may run several at once."""

    concurrency: int

    def deliver(self, item: Outgoing) -> Delivered: ...


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    kind: str
    recipient: Recipient
    recipient_id: int
    payload: dict[str, Any]
    attempts: int
    uncertain: bool
    since: datetime
    lease_until: datetime


@dataclass
class TickReport:
    expanded: int = 0
    queued: int = 0
    skipped_late: int = 0
    sent: int = 0
    found: int = 0  # of `sent`: already delivered by an attempt whose outcome was unknown, not sent again
    deferred: int = 0
    failed: int = 0
    lateness: list[float] = field(default_factory=list)  # seconds between deliver_after and the send


@dataclass
class QuietHours:
    """The default messaging window, used for anyone who has not set their own."""

    start: str = DEFAULT_START.strftime("%H:%M")
    end: str = DEFAULT_END.strftime("%H:%M")

    def window_for(self, person: Person | None, default_zone: str) -> Window:
        """The person's own window, or with no person (a post in a channel) the district's hours in its zone."""
        try:
            zone = ZoneInfo((person.time_zone if person else None) or default_zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(default_zone)
        start, end = parse_hhmm(self.start, DEFAULT_START), parse_hhmm(self.end, DEFAULT_END)
        if start >= end:
            start, end = DEFAULT_START, DEFAULT_END
        if person is None:
            return Window(zone=zone, start=start, end=end)
        own_start, own_end = parse_hhmm(person.quiet_start, start), parse_hhmm(person.quiet_end, end)
        if own_start < own_end:  # a window that closes before it opens would hold their messages forever
            start, end = own_start, own_end
        return Window(zone=zone, start=start, end=end)


@dataclass
class _Plan:
    """What expanding one schedule decided: its messages and where the schedule goes next."""

    schedule_id: int
    next_run_at: datetime | None
    occurrence_at: datetime | None
    status: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    expanded: int = 0
    skipped_late: int = 0


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
        lease: timedelta = LEASE,
        flush_rows: int = FLUSH_ROWS,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.db = db
        self.clock = clock
        self.kinds = kinds
        self.senders = senders
        self.default_timezone = default_timezone
        self.quiet = quiet or QuietHours()
        self.worker = worker or worker_id()
        self.batch = batch
        self.lease = lease
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self.concurrency = max((max(1, int(getattr(s, "concurrency", 1))) for s in senders.values()), default=1)
        self._pool: ThreadPoolExecutor | None = None

    def tick(self) -> TickReport:
        """Expand everything due, then send everything ready; each in batches until none is left."""
        report = TickReport()
        while self.expand_due(report) == self.batch:
            pass
        self.deliver_ready(report)
        return report

    def next_due(self) -> datetime | None:
        """The next instant something becomes due (a schedule, or a row waiting for its window), if any."""
        now = self.clock.now()
        with unit_of_work(self.db) as repos:
            found = [repos.schedules.next_due_after(now), repos.outbox.next_ready_after(now)]
        return min((when for when in found if when is not None), default=None)

    def close(self) -> None:
        """Stop the sending threads (after the sends in flight)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="outbox-send")
        return self._pool

    # -- schedules -> outbox -------------------------------------------------------------------------

    def expand_due(self, report: TickReport) -> int:
        """Expand one batch of due schedules; returns how many there were (a full batch: call again)."""
        now = self.clock.now()
        try:
            with unit_of_work(self.db) as repos:
                due = repos.schedules.lock_due(now, self.batch)
                calendars: dict[int, SchoolCalendar] = {}
                plans = [self._plan(repos, schedule, self._calendar(repos, calendars, schedule.workspace_id), now)
                         for schedule in due]  # fmt: skip
                queued = self._apply(repos, plans, now)
        except Exception as error:
            # Someone's expand raised (or a statement failed): find out which one, alone, and keep the others.
            log.warning("a batch of due schedules failed (%s); expanding them one at a time", type(error).__name__)
            return self._expand_one_by_one(report)
        self._count(report, plans, queued)
        return len(due)

    def _expand_one_by_one(self, report: TickReport) -> int:
        now = self.clock.now()
        with unit_of_work(self.db) as repos:
            due = repos.schedules.lock_due(now, self.batch)
            calendars: dict[int, SchoolCalendar] = {}
            for schedule in due:
                schedule_id, kind = schedule.id, schedule.kind
                try:
                    with repos.schedules.savepoint():
                        plan = self._plan(repos, schedule, self._calendar(repos, calendars, schedule.workspace_id), now)
                        queued = self._apply(repos, [plan], now)
                except Exception:
                    # One broken schedule (a feature's expand raising, say) must not hold up every other one
                    # behind it, tick after tick: undo its part, log it, and try it again a little later.
                    log.exception("schedule %s (%s) failed; trying it again in %s", schedule_id, kind, RETRY)
                    repos.schedules.retry_later(schedule_id, now + RETRY, now)
                    report.failed += 1
                    continue
                self._count(report, [plan], queued)
        return len(due)

    @staticmethod
    def _calendar(repos: Repos, calendars: dict[int, SchoolCalendar], workspace_id: int) -> SchoolCalendar:
        calendar = calendars.get(workspace_id)
        if calendar is None:
            calendar = calendars[workspace_id] = repos.calendars.load(workspace_id)
        return calendar

    @staticmethod
    def _apply(repos: Repos, plans: list[_Plan], now: datetime) -> int:
        """Write the plans: every message in one INSERT, every schedule's move in one UPDATE."""
        queued = repos.outbox.enqueue_many([row for plan in plans for row in plan.rows])
        repos.schedules.advance([(p.schedule_id, p.next_run_at, p.occurrence_at, p.status) for p in plans], now)
        if queued:
            repos.outbox.announce_due()  # other workers on PostgreSQL may help send them
        return queued

    @staticmethod
    def _count(report: TickReport, plans: list[_Plan], queued: int) -> None:
        report.expanded += sum(plan.expanded for plan in plans)
        report.skipped_late += sum(plan.skipped_late for plan in plans)
        report.queued += queued

    def _plan(self, repos: Repos, schedule: Schedule, calendar: SchoolCalendar, now: datetime) -> _Plan:
        kind = self.kinds.get(schedule.kind)
        grace = self.kinds.grace(schedule.kind)
        shift = kind.shift if kind is not None else None
        plan = _Plan(schedule.id, schedule.next_run_at, schedule.occurrence_at, schedule.status)

        def following(after: datetime, after_run: datetime) -> Occurrence | None:
            return next_occurrence(starts_at=schedule.starts_at, time_zone=schedule.time_zone, rrule=schedule.rrule,
                                   after=after, calendar=calendar, shift=shift, after_run=after_run)  # fmt: skip

        while plan.next_run_at is not None and plan.next_run_at <= now:
            runs_at = plan.next_run_at
            original = plan.occurrence_at or runs_at
            upcoming = following(original, runs_at)
            if kind is None:
                log.error("schedule %s has unknown kind %r; skipping %s", schedule.id, schedule.kind, runs_at)
            elif now - runs_at > grace:
                log.warning("skipping schedule %s (%s) occurrence at %s: %s late, past its grace of %s",
                            schedule.id, schedule.kind, runs_at, now - runs_at, grace)  # fmt: skip
                plan.skipped_late += 1
                if now - grace > original:  # jump over the rest of the missed ones at once
                    upcoming = following(now - grace, runs_at)
            elif upcoming is not None and upcoming.runs_at <= now:
                # Back from downtime with several occurrences due: only the latest one is worth a message.
                log.warning("skipping schedule %s (%s) occurrence at %s: a later one, at %s, is due too",
                            schedule.id, schedule.kind, runs_at, upcoming.runs_at)  # fmt: skip
                plan.skipped_late += 1
            elif schedule.snoozed_until is not None and runs_at < schedule.snoozed_until:
                log.info("schedule %s snoozed until %s; not sending %s", schedule.id, schedule.snoozed_until, runs_at)
            else:
                plan.expanded += 1
                for notice in kind.expand(repos, schedule, runs_at):
                    key = f"schedule:{schedule.id}:{original:%Y%m%dT%H%M%SZ}:person:{notice.recipient_id}:{notice.tag}"
                    plan.rows.append(Outbox.row(key=key, kind=schedule.kind, recipient_id=notice.recipient_id,
                                                payload=notice.payload(), due_at=runs_at, now=now,
                                                schedule_id=schedule.id))  # fmt: skip
            plan.next_run_at = upcoming.runs_at if upcoming else None
            plan.occurrence_at = upcoming.original if upcoming else None
            if upcoming is None:
                plan.status = "done"
        return plan

    # -- outbox -> people ----------------------------------------------------------------------------

    def deliver_ready(self, report: TickReport) -> int:
        """Claim and send everything that may go now, batch after batch; returns how many rows were looked at."""
        return _Delivery(self, report).run(claim=True)

    def _deliver_claimed(self, claimed: list[Claimed], report: TickReport) -> None:
        """Send rows claimed earlier (tests: a worker that paused between its claim and its sends)."""
        _Delivery(self, report).run(claim=False, rows=claimed)

    def _claim(self, report: TickReport, limit: int | None = None) -> tuple[list[Claimed], int]:
        """Lease the rows that may go now; push the rest to the time their recipient's window opens.

        Returns the claimed rows and how many rows were looked at (a full `limit` means there may be more).
        """
        limit = limit or self.batch
        now = self.clock.now()
        until = now + self.lease
        claimed: list[Claimed] = []
        deferred: dict[int, datetime] = {}
        skipped: dict[int, str] = {}
        with unit_of_work(self.db) as repos:
            rows = repos.outbox.lock_ready(now, limit)
            calendars: dict[int, SchoolCalendar] = {}
            for row, person, workspace in rows:
                calendar = self._calendar(repos, calendars, person.workspace_id)
                decision = self._decide(row, person, calendar, now)
                if isinstance(decision, datetime):
                    deferred[row.id] = decision
                elif decision is not None:
                    skipped[row.id] = decision
                else:
                    claimed.append(Claimed(
                        id=row.id, key=row.idempotency_key, kind=row.kind,
                        recipient=self._recipient(person, workspace), recipient_id=person.id, payload=row.payload,
                        attempts=row.attempts + 1, uncertain=row.claimed_by is not None, since=row.deliver_after,
                        lease_until=until,
                    ))  # fmt: skip
            repos.outbox.lease([c.id for c in claimed], self.worker, until)
            repos.outbox.defer(deferred)
            repos.outbox.skip(skipped)
        report.deferred += len(deferred)
        report.skipped_late += len(skipped)
        return claimed, len(rows)

    def _decide(
        self, row: OutboxMessage, person: Person, calendar: SchoolCalendar, now: datetime
    ) -> str | datetime | None:
        """None to send now; a time to wait until; or why it is skipped."""
        grace = self.kinds.grace(row.kind)
        # A post in a team's channel is read by the team: the district's hours apply, not the hours or the
        # time away of the lead it is sent for.
        in_channel = bool(row.payload.get("channel"))
        window = self.quiet.window_for(None if in_channel else person, self.default_timezone)
        # Late is measured from the first moment it could have gone: a message written at night and
        # kept over a weekend outage is no later than one written on Monday morning.
        intended = next_delivery_time(row.deliver_after, window, calendar, None)
        if now - intended > grace:
            log.warning("not sending outbox %s (%s) to person %s: %s late, past its grace of %s",
                        row.id, row.kind, person.id, now - intended, grace)  # fmt: skip
            return "late"
        away = person.away_until if person.away_until is not None and person.away_until > now else None
        if in_channel:
            away = None
        if away is not None and self.kinds.is_nudge(row.kind):
            return "away"
        opens = next_delivery_time(now, window, calendar, away)
        if opens > now:
            return opens
        return None

    def _recipient(self, person: Person, workspace: Workspace) -> Recipient:
        return Recipient(
            platform=workspace.platform,
            workspace=workspace.external_id,
            user_id=person.platform_user_id,
            name=person.display_name,
            time_zone=person.time_zone or self.default_timezone,
        )

    def _attempt(self, row: Claimed, delivery: _Delivery) -> _Outcome:
        """One send, on whichever thread runs it; never raises (the outcome says what happened)."""
        if not delivery.still_mine(row):
            return _Outcome(row, "lost")
        sender = self.senders.get(row.recipient.platform)
        try:
            if sender is None:
                raise SendLater(timedelta(minutes=15), f"no sender for {row.recipient.platform} in this process")
            deliver: Callable[[Outgoing], Delivered] | None = getattr(sender, "deliver", None)
            if deliver is not None:
                result = deliver(Outgoing(row.id, row.key, row.recipient, row.payload, row.attempts,
                                          row.uncertain, row.since))  # fmt: skip
            else:
                sender.send(row.recipient, row.payload)
                result = "sent"
        except Exception as error:
            return _Outcome(row, "error", error=error)
        return _Outcome(row, result, at=self.clock.now())


@dataclass
class _Outcome:
    row: Claimed
    result: Literal["sent", "found", "error", "lost"]
    error: BaseException | None = None
    at: datetime | None = None


class _Delivery:
    """One pass over what is ready: claims ahead, sends (inline or on the pool), records outcomes in batches.

    Rows stay leased until their outcome is recorded, sent or not, and their leases are renewed once half gone,
    so no other worker takes a row this one may still be sending or has sent and not yet recorded.
    """

    def __init__(self, ticker: Ticker, report: TickReport) -> None:
        self.ticker = ticker
        self.report = report
        self.pooled = ticker.concurrency > 1
        self.window = ticker.batch if not self.pooled else min(ticker.batch, WINDOW_PER_THREAD * ticker.concurrency)
        self.lock = threading.Lock()
        self.leases: dict[int, datetime] = {}  # every row whose outcome is not recorded yet
        self.claimed: dict[int, Claimed] = {}
        self.queue: deque[Claimed] = deque()  # inline: waiting to be sent
        self.futures: set[Future[_Outcome]] = set()
        self.outcomes: list[_Outcome] = []  # waiting to be recorded
        self.oldest_outcome = 0.0

    def run(self, claim: bool, rows: list[Claimed] | None = None) -> int:
        seen = 0
        more = claim
        for row in rows or []:
            self._start(row)
        try:
            while True:
                busy = len(self.queue) + len(self.futures)
                # Inline, the next batch is claimed once this one is sent; pooled, before the pool runs dry.
                if more and (busy <= self.window // 2 if self.pooled else busy == 0):
                    limit = self.window - busy
                    claimed, looked = self.ticker._claim(self.report, limit)
                    seen += looked
                    more = looked == limit
                    for row in claimed:
                        self._start(row)
                    continue
                if not self.queue and not self.futures:
                    break
                self._step()
                self._maintain()
        finally:
            while self.queue or self.futures:
                self._step()
                self._maintain()
            self._flush()
        return seen

    def _start(self, row: Claimed) -> None:
        with self.lock:
            self.claimed[row.id] = row
            self.leases[row.id] = row.lease_until
        if self.pooled:
            self.futures.add(self.ticker.pool().submit(self.ticker._attempt, row, self))
        else:
            self.queue.append(row)

    def _step(self) -> None:
        if self.queue:
            self._maintain()  # inline: the lease of the next row is checked right before its send
            self._collect(self.ticker._attempt(self.queue.popleft(), self))
            return
        done, _pending = wait(self.futures, timeout=0.05, return_when=FIRST_COMPLETED)
        for future in done:
            self.futures.discard(future)
            self._collect(future.result())

    def _collect(self, outcome: _Outcome) -> None:
        if not self.outcomes:
            self.oldest_outcome = time.monotonic()
        self.outcomes.append(outcome)

    def _maintain(self) -> None:
        """Record outcomes when enough have gathered (or they are getting old); renew leases once half gone."""
        if self.outcomes and (
            len(self.outcomes) >= self.ticker.flush_rows
            or time.monotonic() - self.oldest_outcome >= self.ticker.flush_seconds
            or self._leases_half_gone()
        ):
            self._flush()
        if self._leases_half_gone():
            self._renew()

    def _leases_half_gone(self) -> bool:
        with self.lock:
            first = min(self.leases.values(), default=None)
        return first is not None and self.ticker.clock.now() >= first - self.ticker.lease / 2

    def still_mine(self, row: Claimed) -> bool:
        """Whether this worker still holds `row`; asks the database only once its lease is half gone."""
        with self.lock:
            until = self.leases.get(row.id)
        if until is None:
            return False
        if self.ticker.clock.now() < until - self.ticker.lease / 2:
            return True
        return row.id in self._renew()

    def _renew(self) -> set[int]:
        """Extend the leases of every row not recorded yet; forget those another worker took over."""
        ticker = self.ticker
        with self.lock:
            ids = list(self.leases)
        until = ticker.clock.now() + ticker.lease
        with unit_of_work(ticker.db) as repos:
            kept = repos.outbox.renew(ids, ticker.worker, until)
        with self.lock:
            for row_id in ids:
                if row_id in kept:
                    self.leases[row_id] = until
                elif row_id in self.leases:
                    log.warning("outbox %s: lease passed to another worker before it was sent; not sending it here",
                                row_id)  # fmt: skip
                    del self.leases[row_id]
        return kept

    def _flush(self) -> None:
        """Record gathered outcomes in one transaction; row by row if that fails, so one bad row costs only itself."""
        outcomes, self.outcomes = self.outcomes, []
        if not outcomes:
            return
        for outcome in outcomes:
            if outcome.result == "error":
                self._log_failure(outcome)
        try:
            self._record(outcomes)
        except Exception:
            log.exception("recording %s send outcomes at once failed; recording them one at a time", len(outcomes))
            for outcome in outcomes:
                try:
                    self._record([outcome])
                except Exception:
                    log.exception("recording the outcome of outbox %s failed; its lease will expire", outcome.row.id)
        with self.lock:
            for outcome in outcomes:
                self.leases.pop(outcome.row.id, None)
                self.claimed.pop(outcome.row.id, None)

    def _record(self, outcomes: list[_Outcome]) -> None:
        ticker, report = self.ticker, self.report
        sent = [o for o in outcomes if o.result in ("sent", "found")]
        failed = [o for o in outcomes if o.result == "error"]
        if not sent and not failed:
            return
        now = ticker.clock.now()
        with unit_of_work(ticker.db) as repos:
            kept = repos.outbox.mark_sent_many([o.row.id for o in sent], ticker.worker, now)
            for outcome in failed:
                self._release(repos.outbox, outcome, now)
        for outcome in sent:
            if outcome.row.id not in kept:
                log.warning("outbox %s was sent after its lease passed to another worker", outcome.row.id)
                continue
            report.sent += 1
            if outcome.result == "found":
                report.found += 1
            if outcome.at is not None:
                report.lateness.append((outcome.at - outcome.row.since).total_seconds())
        for outcome in failed:
            if isinstance(outcome.error, SendLater):
                report.deferred += 1
            else:
                report.failed += 1

    def _release(self, outbox: Outbox, outcome: _Outcome, now: datetime) -> None:
        row, error = outcome.row, outcome.error
        assert error is not None
        maybe_sent = bool(getattr(error, "maybe_sent", True))
        if isinstance(error, ChannelUnavailable):  # not again: each fallback person gets it in their DM instead
            outbox.release(row.id, self.ticker.worker, now, f"{error}; sent to DMs instead", give_up=True)
            if outbox.enqueue_many(redirected(row, error, now)):
                outbox.announce_due()
            return
        if isinstance(error, SendLater):
            outbox.release(row.id, self.ticker.worker, now + error.after, str(error), give_up=False,
                           count_attempt=False, maybe_sent=maybe_sent)  # fmt: skip
            return
        give_up = row.attempts >= MAX_ATTEMPTS
        outbox.release(row.id, self.ticker.worker, now + backoff(row.attempts), f"{type(error).__name__}: {error}",
                       give_up, maybe_sent=maybe_sent)  # fmt: skip

    def _log_failure(self, outcome: _Outcome) -> None:
        row, error = outcome.row, outcome.error
        assert error is not None
        if isinstance(error, SendLater):
            log.info("outbox %s postponed %s: %s", row.id, error.after, error)
            return
        if isinstance(error, ChannelUnavailable):
            log.warning("outbox %s: %s; sending it to the members' DMs and telling person %s how to invite the bot",
                        row.id, error, row.recipient_id)  # fmt: skip
            return
        give_up = row.attempts >= MAX_ATTEMPTS
        log.error("sending outbox %s failed (attempt %s%s)", row.id, row.attempts, ", giving up" if give_up else "",
                  exc_info=(type(error), error, error.__traceback__))  # fmt: skip


def backoff(attempts: int) -> timedelta:
    """30 s, 1, 2, 4 … minutes, capped at an hour: a platform outage is waited out without hammering it."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))
