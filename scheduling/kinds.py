"""What each kind of schedule does when it comes due, registered by the feature that owns it.

The scheduler knows when; the features (observations, and later PLC check-ins, surveys, digests) know
what to say and to whom. A kind's `expand` reads the current state of its subject, so a reminder about
feedback that was shared meanwhile says nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from storage.models import Schedule
from storage.unit_of_work import Repos

DEFAULT_GRACE = timedelta(hours=6)


@dataclass(frozen=True)
class Notice:
    """One message for one person, or for a channel. `messages` are neutral message dicts (template, context, ...).

    With `channel` (a team's channel as typed: `#grade4-plc`, a Slack id, a Teams channel's name) the message is
    posted there once; `recipient_id` is then the person it is sent on behalf of (whose hours it keeps), and who
    is told if the bot cannot post there. `fallback`: who gets it in their DM instead, so nothing is lost.
    """

    recipient_id: int
    messages: list[dict[str, Any]]
    attachments: list[dict[str, str]] = field(default_factory=list)
    tag: str = ""
    channel: str = ""
    fallback: list[int] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"messages": self.messages, "attachments": self.attachments}
        if self.channel:
            payload["channel"] = {"name": self.channel, "fallback": list(self.fallback)}
        return payload


Expand = Callable[[Repos, Schedule, datetime], list[Notice]]


@dataclass(frozen=True)
class Kind:
    """How one kind of schedule behaves.

    `shift` moves an occurrence that lands on a non-school day to the next (or previous) school day;
    `nudge` marks reminders that are dropped while the person is away (a notice waits for them instead).
    """

    name: str
    expand: Expand
    grace: timedelta | None = None  # None: the configured default
    shift: str | None = "next"
    nudge: bool = True


@dataclass
class Kinds:
    """The registry the tick consults; unknown kinds (a feature removed) are logged and skipped."""

    by_name: dict[str, Kind] = field(default_factory=dict)
    grace_overrides: dict[str, timedelta] = field(default_factory=dict)
    default_grace: timedelta = DEFAULT_GRACE

    def register(self, kind: Kind) -> None:
        self.by_name[kind.name] = kind

    def get(self, name: str) -> Kind | None:
        return self.by_name.get(name)

    def grace(self, name: str) -> timedelta:
        if name in self.grace_overrides:
            return self.grace_overrides[name]
        kind = self.by_name.get(name)
        return kind.grace if kind is not None and kind.grace is not None else self.default_grace

    def is_nudge(self, name: str) -> bool:
        kind = self.by_name.get(name)
        return kind.nudge if kind is not None else False
