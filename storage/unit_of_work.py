"""Repositories over one transaction: handlers get these objects, never a Session or SQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from storage.database import Database, insert_new
from storage.models import Conversation, Goal, Person, ProcessedEvent, Workspace
from storage.observations import Observations
from storage.org import Calendars, Roster, Schools
from storage.partnerships import Partnerships
from storage.plc import PlcTeams
from storage.scheduling import Outbox, Schedules
from storage.surveys import Surveys


class Workspaces:
    def __init__(self, session: Session) -> None:
        self.session = session

    def ensure(self, platform: str, external_id: str, now: datetime, name: str = "") -> Workspace:
        found = self.session.scalar(
            select(Workspace).where(Workspace.platform == platform, Workspace.external_id == external_id)
        )
        if found is None:
            found = Workspace(platform=platform, external_id=external_id, name=name, created_at=now)
            self.session.add(found)
            self.session.flush()
        return found


class People:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, person_id: int) -> Person | None:
        return self.session.get(Person, person_id)

    def find(self, workspace_id: int, platform_user_id: str) -> Person | None:
        return self.session.scalar(
            select(Person).where(Person.workspace_id == workspace_id, Person.platform_user_id == platform_user_id)
        )

    def ensure(
        self,
        workspace_id: int,
        platform_user_id: str,
        now: datetime,
        display_name: str,
        time_zone: str,
        email: str | None = None,
    ) -> Person:
        """The person with this platform id; else the roster row with this email, now linked; else a new one."""
        person = self.find(workspace_id, platform_user_id)
        if person is None and email:
            person = self.session.scalar(
                select(Person).where(Person.workspace_id == workspace_id, Person.email == email.strip().lower())
            )
            if person is not None and person.platform_user_id.startswith("pending:"):
                person.platform_user_id = platform_user_id
            else:
                person = None
        if person is None:
            person = Person(
                workspace_id=workspace_id,
                platform_user_id=platform_user_id,
                display_name=display_name,
                time_zone=time_zone,
                created_at=now,
            )
            self.session.add(person)
            self.session.flush()
        return person

    def resolve(self, workspace_id: int, ref: str) -> list[Person]:
        """Who `ref` names: a Slack mention (<@U123|name>), a handle (@kim), an email or a full name.

        More than one match means the name is ambiguous; the caller asks for an email instead.
        """
        text = ref.strip()
        mention = re.fullmatch(r"<@([A-Z0-9]+)(?:\|[^>]*)?>", text)
        if mention:
            found = self.find(workspace_id, mention.group(1))
            return [found] if found else []
        text = text.lstrip("@").strip()
        if not text:
            return []
        in_workspace = Person.workspace_id == workspace_id
        if "@" in text:
            return list(self.session.scalars(select(Person).where(in_workspace, Person.email == text.lower())))
        by_handle = self.find(workspace_id, text.lower()) or self.find(workspace_id, text)
        if by_handle is not None:
            return [by_handle]
        wanted = text.lower()
        people = self.session.scalars(select(Person).where(in_workspace)).all()
        exact = [p for p in people if _plain_name(p.display_name) == wanted]
        if exact:
            return exact
        return [p for p in people if wanted in _plain_name(p.display_name).split() and len(wanted) > 2]


def _plain_name(name: str) -> str:
    """A display name without a "(demo)"-style suffix, lower case, for matching what people type."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", name).strip().lower()


class Goals:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, person_id: int, fields: dict[str, Any], status: str, now: datetime) -> Goal:
        goal = Goal(person_id=person_id, status=status, created_at=now, updated_at=now, **fields)
        self.session.add(goal)
        self.session.flush()
        return goal

    def update(self, goal: Goal, fields: dict[str, Any], status: str, now: datetime) -> Goal:
        for name, value in fields.items():
            setattr(goal, name, value)
        goal.status = status
        goal.updated_at = now
        self.session.flush()
        return goal

    def get_for(self, person_id: int, goal_id: int) -> Goal | None:
        """A goal only if it belongs to this person: nobody reads another educator's goal by number."""
        return self.session.scalar(select(Goal).where(Goal.id == goal_id, Goal.person_id == person_id))

    def of_person(self, person_id: int) -> list[Goal]:
        return list(self.session.scalars(select(Goal).where(Goal.person_id == person_id).order_by(Goal.id)))

    def all_with_owner(self) -> list[tuple[Goal, Person, Workspace]]:
        rows = self.session.execute(
            select(Goal, Person, Workspace)
            .join(Person, Goal.person_id == Person.id)
            .join(Workspace, Person.workspace_id == Workspace.id)
            .order_by(Goal.id)
        )
        return [(goal, person, workspace) for goal, person, workspace in rows]


@dataclass(frozen=True)
class ConversationKey:
    """Where a conversation lives: one thread (or, in the terminal, one user's session)."""

    platform: str
    workspace_id: int
    channel: str
    thread: str | None
    user_id: str


class Conversations:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._primed: dict[ConversationKey, Conversation | None] = {}

    def prime(self, key: ConversationKey, found: Conversation | None) -> None:
        """Remember what a combined read (`Arrivals.find`) already learnt of this key's open conversation."""
        self._primed[key] = found

    def _where(self, key: ConversationKey):  # type: ignore[no-untyped-def]
        thread = Conversation.thread.is_(None) if key.thread is None else Conversation.thread == key.thread
        return (
            Conversation.platform == key.platform,
            Conversation.workspace_id == key.workspace_id,
            Conversation.channel == key.channel,
            thread,
            Conversation.user_id == key.user_id,
        )

    def open_for(self, key: ConversationKey) -> Conversation | None:
        if key in self._primed:  # read in this transaction moments ago; used once, then the table is asked again
            found = self._primed.pop(key)
            if found is None or found.status == "open":
                return found
        return self.session.scalar(
            select(Conversation).where(*self._where(key), Conversation.status == "open").limit(1)
        )

    def latest_closed_for(self, key: ConversationKey) -> Conversation | None:
        return self.session.scalar(
            select(Conversation)
            .where(*self._where(key), Conversation.status != "open")
            .order_by(Conversation.id.desc())
            .limit(1)
        )

    def get(self, conversation_id: int) -> Conversation | None:
        return self.session.get(Conversation, conversation_id)

    def start(
        self,
        key: ConversationKey,
        flow: str,
        step: str,
        payload: dict[str, Any],
        now: datetime,
        expires_at: datetime,
    ) -> Conversation:
        self._primed.clear()
        conversation = Conversation(
            platform=key.platform,
            workspace_id=key.workspace_id,
            channel=key.channel,
            thread=key.thread,
            user_id=key.user_id,
            flow=flow,
            step=step,
            payload=payload,
            status="open",
            created_at=now,
            updated_at=now,
            expires_at=expires_at,
        )
        self.session.add(conversation)
        self.session.flush()
        return conversation

    def expired(self, now: datetime, limit: int = 500) -> list[Conversation]:
        return list(
            self.session.scalars(
                select(Conversation)
                .where(Conversation.status == "open", Conversation.expires_at <= now)
                .order_by(Conversation.id)
                .limit(limit)
            )
        )

    def flush(self) -> None:
        """Write pending changes now, so a stale version fails here rather than at commit."""
        self.session.flush()


@dataclass(frozen=True)
class Arrival:
    """Who wrote, read in one query: None where the workspace, the person or an open conversation is new."""

    workspace_id: int | None
    person: Person | None


def _arrival_query(thread_is_null: bool):  # type: ignore[no-untyped-def]
    """Workspace, person and open conversation in one round trip, built once so SQLAlchemy caches it."""
    thread = Conversation.thread.is_(None) if thread_is_null else Conversation.thread == bindparam("thread")
    return (
        select(Workspace.id, Person, Conversation)
        .outerjoin(Person, (Person.workspace_id == Workspace.id) & (Person.platform_user_id == bindparam("user")))
        .outerjoin(
            Conversation,
            (Conversation.platform == Workspace.platform)
            & (Conversation.workspace_id == Workspace.id)
            & (Conversation.channel == bindparam("channel"))
            & thread
            & (Conversation.user_id == bindparam("user"))
            & (Conversation.status == "open"),
        )
        .where(Workspace.platform == bindparam("platform"), Workspace.external_id == bindparam("workspace"))
        .limit(1)
    )


_ARRIVAL = {True: _arrival_query(True), False: _arrival_query(False)}


class Arrivals:
    """The reads every incoming message starts with, as one statement instead of three."""

    def __init__(self, session: Session, conversations: Conversations) -> None:
        self.session = session
        self.conversations = conversations

    def find(self, platform: str, workspace: str, user: str, channel: str, thread: str | None) -> Arrival:
        params = {"platform": platform, "workspace": workspace, "user": user, "channel": channel}
        if thread is not None:
            params["thread"] = thread
        row = self.session.execute(_ARRIVAL[thread is None], params).first()
        if row is None:
            return Arrival(None, None)
        workspace_id, person, conversation = row
        if person is not None:
            key = ConversationKey(platform, workspace_id, channel, thread, user)
            self.conversations.prime(key, conversation)
        return Arrival(workspace_id, person)


class Events:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, platform: str, event_key: str, now: datetime) -> bool:
        """Record an event id; False if it was already recorded (a retry or a second delivery)."""
        values = {"platform": platform, "event_key": event_key[:255], "received_at": now}
        return insert_new(self.session, ProcessedEvent, values)

    def forget_before(self, cutoff: datetime) -> int:
        """Drop ids older than any platform would redeliver, so the table stays small."""
        result = self.session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < cutoff))
        return result.rowcount  # type: ignore[attr-defined]

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0


@dataclass
class Repos:
    session: Session
    workspaces: Workspaces = field(init=False)
    people: People = field(init=False)
    goals: Goals = field(init=False)
    conversations: Conversations = field(init=False)
    arrivals: Arrivals = field(init=False)
    events: Events = field(init=False)
    schools: Schools = field(init=False)
    calendars: Calendars = field(init=False)
    schedules: Schedules = field(init=False)
    outbox: Outbox = field(init=False)
    observations: Observations = field(init=False)
    plc: PlcTeams = field(init=False)
    partnerships: Partnerships = field(init=False)
    roster: Roster = field(init=False)
    surveys: Surveys = field(init=False)

    def __post_init__(self) -> None:
        self.workspaces = Workspaces(self.session)
        self.people = People(self.session)
        self.goals = Goals(self.session)
        self.conversations = Conversations(self.session)
        self.arrivals = Arrivals(self.session, self.conversations)
        self.events = Events(self.session)
        self.schools = Schools(self.session)
        self.calendars = Calendars(self.session)
        self.schedules = Schedules(self.session)
        self.outbox = Outbox(self.session)
        self.observations = Observations(self.session)
        self.plc = PlcTeams(self.session)
        self.partnerships = Partnerships(self.session)
        self.roster = Roster(self.session)
        self.surveys = Surveys(self.session)


class ConcurrentUpdate(Exception):
    """Another transaction changed or inserted the same row first; the caller may read again and retry.

    Raised instead of SQLAlchemy's own errors so that handlers never import SQLAlchemy.
    """


@contextmanager
def unit_of_work(db: Database) -> Iterator[Repos]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    try:
        with db.sessions.begin() as session:
            yield Repos(session)
    except (StaleDataError, IntegrityError) as error:
        raise ConcurrentUpdate(str(error).splitlines()[0]) from error
