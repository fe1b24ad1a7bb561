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
    deactivated_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), doc="Left the district (growthbot roster deactivate): records kept, nothing sent."
    )

    workspace: Mapped[Workspace] = relationship()
    school: Mapped[School | None] = relationship()
    evaluator: Mapped[Person | None] = relationship(remote_side=[id])

    def has_role(self, *names: str) -> bool:
        return any(name in (self.roles or []) for name in names)

    @property
    def active(self) -> bool:
        return self.deactivated_at is None


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
    entries: Mapped[list[ObservationEntry]] = relationship(
        order_by="ObservationEntry.id", cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def evaluative(self) -> bool:
        return self.mode in ("announced", "unannounced")


class ObservationEntry(Base):
    """One thing said or recorded about an observation, never changed afterwards: its history.

    kind: evidence (a note, or a new version of note `note`, `data.removed` when taken back), feedback
    (a version; `data.shared` when it went to the teacher), share, reply, ack, rating (`data.indicator`,
    `data.level`).
    """

    __tablename__ = "observation_entries"
    __table_args__ = (Index("ix_observation_entries_observation", "observation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    note: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    author: Mapped[Person | None] = relationship()


class Installation(Base):
    """One row: a random id made once per install, so calendar invite UIDs never collide across districts."""

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(primary_key=True)
    install_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


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


class TeamsConversation(Base):
    """Where the bot can reach someone on Teams: a conversation reference, stored on install and on every message.

    Proactive messages (the scheduler's notices) need the conversation's `service_url` and id; a person the bot
    has never spoken with gets a 1:1 conversation created through any service URL known in their tenant.
    """

    __tablename__ = "teams_conversations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "conversation_id", name="uq_teams_conversations_id"),
        Index("ix_teams_conversations_user", "tenant_id", "user_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16), doc="personal, groupChat or channel")
    user_id: Mapped[str | None] = mapped_column(String(64), doc="The person's AAD object id, in a personal chat.")
    service_url: Mapped[str] = mapped_column(String(255))
    bot_id: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TeamsChannel(Base):
    """A Teams team channel the bot has seen, by name, so a PLC's channel as typed (`#grade4-plc`) can be posted
    to. Kept apart from `teams_conversations` (whose rows are people's chats and replies) so it has its own
    migration branch."""

    __tablename__ = "teams_channels"
    __table_args__ = (UniqueConstraint("tenant_id", "conversation_id", name="uq_teams_channels_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str] = mapped_column(String(255), doc="The channel itself, without a ;messageid=.")
    channel_name: Mapped[str] = mapped_column(String(255), doc="As Teams names it; General when unnamed.")
    team_name: Mapped[str | None] = mapped_column(String(255))
    service_url: Mapped[str] = mapped_column(String(255))
    bot_id: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Survey(Base):
    """One sending of an instrument to a set of people, in one privacy mode (named, confidential, anonymous)."""

    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_workspace", "workspace_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    instrument: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(16), doc="named, confidential or anonymous")
    target: Mapped[str] = mapped_column(String(300), default="", doc="Who it went to, as the owner typed it.")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="open")
    invited: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0, doc="How many answered (anonymous: how many answers).")
    pulse_id: Mapped[int | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="SET NULL"), doc="The recurring schedule that sent it, if any."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    owner: Mapped[Person | None] = relationship()


class SurveyInvitation(Base):
    """Who a survey was sent to, and (named and confidential only) whether they have answered: no time, no link.

    Nothing here points at an answer, and no answer points here, so the two cannot be joined.
    """

    __tablename__ = "survey_invitations"
    __table_args__ = (UniqueConstraint("survey_id", "person_id", name="uq_survey_invitations_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    answered: Mapped[bool] = mapped_column(Boolean, default=False)


class SurveyNamedAnswer(Base):
    """A named survey's answers, one row per person (a second submit replaces it)."""

    __tablename__ = "survey_named_answers"
    __table_args__ = (UniqueConstraint("survey_id", "person_id", name="uq_survey_named_answers_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SurveySealedAnswer(Base):
    """A confidential or anonymous survey's answers: no person column, a random key, only the day.

    The table has no rowid on SQLite, so rows are stored in the order of their random keys; each new answer
    rewrites the survey's rows under fresh keys in a shuffled order, so neither key nor position tells
    which came when (PostgreSQL keeps rows in the order they were written).
    """

    __tablename__ = "survey_sealed_answers"
    __table_args__ = (Index("ix_survey_sealed_answers_survey", "survey_id"), {"sqlite_with_rowid": False})

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    answered_on: Mapped[date] = mapped_column(Date)


class PlcTeam(Base):
    """A professional learning community: who is in it, where it talks, and when it meets (an RRULE).

    The cadence is kept as typed (`cadence`) and as the RRULE it was read as, in the school's zone; the
    check-in schedule of the team runs on that rule and skips days with no school.
    """

    __tablename__ = "plc_teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_plc_teams_workspace_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    school: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(120), default="", doc="The team's channel, as typed (#grade4-plc).")
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    member_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    cadence: Mapped[str] = mapped_column(String(200))
    rrule: Mapped[str] = mapped_column(Text)
    time_zone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), doc="The RRULE's DTSTART.")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PlcAssessment(Base):
    """One entry of a team's assessment calendar: a common assessment and its window."""

    __tablename__ = "plc_assessments"
    __table_args__ = (Index("ix_plc_assessments_team", "team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("plc_teams.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    review_on: Mapped[date | None] = mapped_column(Date, doc="The meeting that reviews it (its date).")


class PlcCheckin(Base):
    """One meeting's check-in: open until a review is logged; reminded once; then missed."""

    __tablename__ = "plc_checkins"
    __table_args__ = (UniqueConstraint("team_id", "meeting_at", name="uq_plc_checkins_team_meeting"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("plc_teams.id", ondelete="CASCADE"))
    meeting_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="open", doc="open, reminded, logged or missed")
    review_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PlcReview(Base):
    """A logged data review: results as counts and shares, never a student's name."""

    __tablename__ = "plc_reviews"
    __table_args__ = (Index("ix_plc_reviews_team", "team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("plc_teams.id", ondelete="CASCADE"))
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("plc_checkins.id", ondelete="SET NULL"))
    assessment: Mapped[str] = mapped_column(String(200))
    given_on: Mapped[date] = mapped_column(Date)
    students_assessed: Mapped[int] = mapped_column(Integer)
    percent_at_target: Mapped[float] = mapped_column()
    tier2: Mapped[int] = mapped_column(Integer, default=0)
    tier3: Mapped[int] = mapped_column(Integer, default=0)
    gaps: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Partnership(Base):
    """A district and an educator-preparation program working on student teaching together."""

    __tablename__ = "partnerships"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_partnerships_workspace_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str] = mapped_column(String(200))
    program: Mapped[str] = mapped_column(String(200))
    vision: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(32), default="initiation")
    channel: Mapped[str] = mapped_column(String(120), default="")
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    members: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, doc="[{person_id, role}]")
    remind_school_days: Mapped[int] = mapped_column(Integer, default=5)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PartnershipMeeting(Base):
    """One of a partnership's meeting cadences (leadership, liaison, partnership), as typed and as an RRULE."""

    __tablename__ = "partnership_meetings"
    __table_args__ = (UniqueConstraint("partnership_id", "kind", name="uq_partnership_meetings_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    cadence: Mapped[str] = mapped_column(String(200))
    rrule: Mapped[str] = mapped_column(Text)
    time_zone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PartnershipNote(Base):
    """What a meeting decided, from the lead's after-meeting form; the next agenda reads the latest."""

    __tablename__ = "partnership_notes"
    __table_args__ = (Index("ix_partnership_notes_partnership", "partnership_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"))
    meeting_kind: Mapped[str] = mapped_column(String(32))
    meeting_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    decisions: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ActionStep(Base):
    """One row of a partnership's action plan (seed 003's template), numbered within the partnership."""

    __tablename__ = "action_steps"
    __table_args__ = (UniqueConstraint("partnership_id", "number", name="uq_action_steps_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(Text)
    start_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    responsible_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    others: Mapped[str] = mapped_column(Text, default="")
    outputs: Mapped[str] = mapped_column(Text, default="")
    outcomes: Mapped[str] = mapped_column(Text, default="")
    resources: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[int] = mapped_column(Integer, default=2, doc="1 high, 2 moderate, 3 lower")
    lift: Mapped[int] = mapped_column(Integer, default=2, doc="1 high, 2 moderate, 3 lower")
    status: Mapped[str] = mapped_column(String(16), default="not_started")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GoalCheckin(Base):
    """One benchmark check-in of a saved goal: asked the school day before the benchmark, answered on track,
    behind or done with a note. Unique per goal and benchmark date, so a check-in is asked and logged once."""

    __tablename__ = "goal_checkins"
    __table_args__ = (UniqueConstraint("goal_id", "benchmark_on", name="uq_goal_checkins_benchmark"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"))
    benchmark_on: Mapped[date] = mapped_column(Date)
    checks: Mapped[str] = mapped_column(Text, default="", doc="What the benchmark said would be checked.")
    status: Mapped[str] = mapped_column(String(16), default="asked", doc="asked, on_track, behind or done")
    note: Mapped[str] = mapped_column(Text, default="")
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
