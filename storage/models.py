"""The tables, as typed SQLAlchemy 2.0 models. Alembic migrations in storage/migrations own the schema."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("workspace_id", "platform_user_id", name="uq_people_workspace_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    time_zone: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(100), default="teacher")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    workspace: Mapped[Workspace] = relationship()


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
