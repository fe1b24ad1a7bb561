"""The tables, as typed SQLAlchemy 2.0 models. Alembic migrations in storage/migrations own the schema."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime


class Base(DeclarativeBase):
    pass


class Workspace(Base):
    """A Slack team, a Teams tenant, or the terminal: everything else belongs to one."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_workspaces_platform_external"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class School(Base):
    __tablename__ = "schools"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_schools_workspace_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))


class SchoolYear(Base):
    """First and last day of a school year: days outside every year are not school days."""

    __tablename__ = "school_years"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_school_years_workspace_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)


class ClosedDay(Base):
    """A weekday with no school (holiday, vacation day, PD day); weekends never need a row."""

    __tablename__ = "closed_days"
    __table_args__ = (UniqueConstraint("workspace_id", "day", name="uq_closed_days_workspace_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(200), default="")


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("workspace_id", "platform_user_id", name="uq_people_workspace_user"),
        UniqueConstraint("workspace_id", "email", name="uq_people_workspace_email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    time_zone: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    email: Mapped[str | None] = mapped_column(String(254))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="SET NULL"))
    evaluator_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    away_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    quiet_start: Mapped[str | None] = mapped_column(String(5), doc="HH:MM local; None means the default.")
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    zone_chosen: Mapped[bool] = mapped_column(
        Boolean, default=False, doc="Set by the person in /settings: a platform profile no longer overrides it."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    workspace: Mapped[Workspace] = relationship()
    school: Mapped[School | None] = relationship()
    evaluator: Mapped[Person | None] = relationship(remote_side=[id])

    def has_role(self, *names: str) -> bool:
        return any(name in (self.roles or []) for name in names)


class Goal(Base):
    """One SMART goal of one educator: a draft while being coached or left idle, then saved."""

    __tablename__ = "goals"
    __table_args__ = (Index("ix_goals_person", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    goal_type: Mapped[str | None] = mapped_column(String(32))
    data_reviewed: Mapped[str | None] = mapped_column(Text)
    specific: Mapped[str | None] = mapped_column(Text)
    measurable: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(Text)
    results: Mapped[str | None] = mapped_column(Text)
    completion_date: Mapped[date | None] = mapped_column(Date)
    benchmarks: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    alignment: Mapped[str | None] = mapped_column(Text)
    statement: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    person: Mapped[Person] = relationship()


class Conversation(Base):
    """Where one person is in one multi-step flow. `version` makes concurrent writers fail, not overwrite."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_lookup", "platform", "workspace_id", "channel", "thread", "user_id", "status"),
        Index("ix_conversations_expiry", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(64))
    thread: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")
    result_ref: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ProcessedEvent(Base):
    """Platform event ids already acted on: the unique key turns a redelivery into a no-op."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("platform", "event_key", name="uq_processed_events_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Schedule(Base):
    """Something that must happen at a time, once or on an RRULE, owned by the project's own table.

    `next_run_at` is the next occurrence in UTC (None once finished). A tick locks due rows, writes their
    outbox rows and advances them in one transaction, so a crash mid-tick leaves nothing half-done.
    """

    __tablename__ = "schedules"
    __table_args__ = (
        Index("ix_schedules_due", "status", "paused", "next_run_at"),
        Index("ix_schedules_subject", "subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(64), default="", doc="What it is about, e.g. observation:12.")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    time_zone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), doc="The one-off time, or the RRULE's DTSTART.")
    rrule: Mapped[str | None] = mapped_column(Text)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    occurrence_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), doc="The RRULE occurrence `next_run_at` stands for, before a school-day shift."
    )
    status: Mapped[str] = mapped_column(String(16), default="active")
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """One message to one person, written before it is sent; the idempotency key makes it exactly one."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_outbox_key"),
        Index("ix_outbox_due", "status", "deliver_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, doc="messages and attachments")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), doc="When it was meant to go, before quiet hours.")
    deliver_after: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    recipient: Mapped[Person] = relationship()


class Observation(Base):
    """A classroom observation (or a non-evaluative peer visit/walkthrough) and the feedback it owes."""

    __tablename__ = "observations"
    __table_args__ = (
        Index("ix_observations_observer", "observer_id", "starts_at"),
        Index("ix_observations_teacher", "teacher_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    observer_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(16), doc="announced, unannounced, peer or walkthrough")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    minutes: Mapped[int] = mapped_column(Integer)
    pre_conference_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    feedback: Mapped[str | None] = mapped_column(Text)
    feedback_due: Mapped[date | None] = mapped_column(Date)
    feedback_shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    teacher_reply: Mapped[str | None] = mapped_column(Text)
    sequence: Mapped[int] = mapped_column(Integer, default=0, doc="Bumped on each reschedule, for .ics updates.")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    observer: Mapped[Person] = relationship(foreign_keys=[observer_id])
    teacher: Mapped[Person] = relationship(foreign_keys=[teacher_id])

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def evaluative(self) -> bool:
        return self.mode in ("announced", "unannounced")


class InboxItem(Base):
    """A verified platform request, kept from the moment it is acknowledged until it has been handled.

    The unique key deduplicates the platform's retries at the door; `order_key` (one conversation: the
    workspace, person and thread) keeps each conversation's events in arrival order across workers.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "event_key", name="uq_inbox_platform_event"),
        Index("ix_inbox_pending", "status", "id"),
        Index("ix_inbox_order", "order_key", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str] = mapped_column(String(255))
    order_key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32), doc="command, event, action: which listener handles it")
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending", doc="pending, done or failed")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
