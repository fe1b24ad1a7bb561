"""What a feature is, and the narrow port through which it reaches the bot.

A feature package (goals, observations, people, ...) exposes one factory, `feature(setup) -> Feature`,
listed once in `handlers/registry.py`. The router, the `help` reply, the CLI (`growthbot export`, feature
verbs), the scheduler's kinds and the Slack and Teams manifests are all built from these descriptions, so
adding a feature never means editing them. Features receive a `Port`, never the `Bot`, so no import circle
can form between a feature and the router.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from handlers.messages import Inbound, Outbound, Reply
from scheduling.kinds import Kind
from storage.database import Database
from storage.models import Conversation, Person
from storage.unit_of_work import ConversationKey, Repos

if TYPE_CHECKING:
    from handlers.engine import Flow, State
    from handlers.forms import FormSpec


class Port(Protocol):
    """What a feature may ask of the bot while it handles a message."""

    default_timezone: str

    def start(self, repos: Repos, key: ConversationKey, flow_name: str, state: State, now: datetime) -> Reply:
        """Open a conversation at `state` and return its first question."""
        ...

    def expire_conversation(
        self, repos: Repos, person: Person, conversation: Conversation, now: datetime
    ) -> list[Outbound]:
        """Set an idle conversation aside the way its flow wants (keeping the person's answers)."""
        ...

    def flow(self, name: str) -> Flow:
        """A registered flow by name (to re-ask the question of a conversation that is already open)."""
        ...

    def zone(self, person: Person) -> ZoneInfo:
        """The person's own time zone, or the district default."""
        ...

    def open_form(self, repos: Repos, invocation: Invocation, form_id: str, values: dict[str, Any]) -> Reply:
        """Show a registered form: a modal where the platform can, otherwise steps in the conversation."""
        ...


@dataclass(frozen=True)
class Invocation:
    """One slash command as a feature sees it: who asked, where, with what arguments, inside which transaction."""

    repos: Repos
    person: Person
    key: ConversationKey
    args: str
    now: datetime
    inbound: Inbound


@dataclass(frozen=True)
class Command:
    """A slash command. `summary` is the one-line help; `usage` the hint shown in Slack and Teams.

    `mentions`: Slack should send @mentions as user ids (`should_escape`), so people are matched exactly.
    """

    name: str
    summary: str
    usage: str
    run: Callable[[Invocation], Reply]
    mentions: bool = False


class ExportRefused(Exception):
    """A selection that cannot be exported (say, an unknown survey): the CLI prints it and exits 1."""


@dataclass(frozen=True)
class Selection:
    """What one export run writes, and notes for the person running it (standard error, never the file)."""

    rows: list[dict[str, Any]]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Export:
    """A table `growthbot export <name>` writes as JSON or CSV.

    `configure` adds the export's own arguments (`--survey N`); `select` then reads them, so one export can be
    narrowed without a CLI verb of its own. Without `select`, `rows` gives every record.
    """

    name: str
    noun: str
    columns: tuple[str, ...]
    rows: Callable[[Database], list[dict[str, Any]]]
    configure: Callable[[argparse.ArgumentParser], None] | None = None
    select: Callable[[Database, argparse.Namespace], Selection] | None = None

    def run(self, db: Database, args: argparse.Namespace) -> Selection:
        return self.select(db, args) if self.select is not None else Selection(self.rows(db))


@dataclass(frozen=True)
class CliEnv:
    """What a feature's command-line verb gets: the database, the clock's now, and where to write."""

    db: Database
    now: datetime
    default_timezone: str
    out: Any
    err: Any


@dataclass(frozen=True)
class CliVerb:
    """`growthbot <name> ...`: `configure` adds the arguments, `run` returns the exit code."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, CliEnv], int]


@dataclass(frozen=True)
class Feature:
    name: str
    commands: tuple[Command, ...] = ()
    flows: tuple[Flow, ...] = ()
    forms: tuple[FormSpec, ...] = ()
    kinds: tuple[Kind, ...] = ()
    exports: tuple[Export, ...] = ()
    cli: tuple[CliVerb, ...] = ()
    demo: Callable[[Repos, int, datetime], str] | None = None  # sample records for the demo workspace


@dataclass(frozen=True)
class Setup:
    """What a feature factory is given: the port, and the one settings object (read what you need)."""

    port: Port
    settings: Any


FeatureFactory = Callable[[Setup], Feature]
