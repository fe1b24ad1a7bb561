"""The bot's front door on the handler side: one Inbound in, one Reply out, whatever the platform.

Each message is handled in one transaction: the platform's event id is recorded, the conversation is
advanced and any record is saved together, so a redelivery is a no-op and a crash loses nothing half-done.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from handlers.engine import CheckContext, Flow, State
from handlers.goals.commands import GoalCommands
from handlers.goals.flow import GoalCoach
from handlers.messages import Inbound, Outbound, Reply
from handlers.observations.commands import ObserveCommands
from handlers.observations.flow import ScheduleObservation
from handlers.observations.service import ObservationService, Policy
from handlers.people.away import away
from scheduling.clock import Clock
from storage.database import Database
from storage.models import Conversation, Person
from storage.unit_of_work import ConversationKey, Repos, unit_of_work

log = logging.getLogger(__name__)

UNBOUND_GRACE = timedelta(minutes=5)
EVENT_MEMORY = timedelta(days=7)  # Slack retries for minutes and Teams for hours; a week is ample
CLOSED_TEMPLATES = {
    "saved": "engine/closed_saved",
    "cancelled": "engine/closed_cancelled",
    "expired": "engine/closed_expired",
    "replaced": "engine/closed_cancelled",
}


@dataclass(frozen=True)
class Delivery:
    """Messages the bot sends on its own (not as a reply), and where to."""

    platform: str
    workspace: str
    channel: str
    thread: str | None
    user_id: str
    messages: list[Outbound]


def zone(name: str | None, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


class Bot:
    def __init__(
        self, db: Database, clock: Clock, default_timezone: str, idle_days: int = 14, policy: Policy | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.default_timezone = default_timezone
        self.idle = timedelta(days=idle_days)
        self.goal_commands = GoalCommands(self)
        self.observations = ObservationService(policy or Policy(), default_timezone)
        self.observe_commands = ObserveCommands(self, self.observations)
        self.flows: dict[str, Flow] = {
            GoalCoach.name: GoalCoach(),
            "observe": ScheduleObservation(self.observe_commands),
        }

    # -- entry points --------------------------------------------------------------------------------

    def handle(self, inbound: Inbound) -> Reply:
        """Answer one message. Unexpected errors are logged with a reference the person can quote."""
        try:
            for _attempt in range(3):
                try:
                    return self._handle(inbound)
                except (StaleDataError, IntegrityError):
                    log.info("a concurrent write got there first; retrying %s", inbound.event_key, exc_info=True)
            raise RuntimeError("conversation kept changing during three attempts")
        except Exception:
            ref = secrets.token_hex(3).upper()
            log.exception("error handling a message from %s/%s (ref %s)", inbound.platform, inbound.user_id, ref)
            return Reply(messages=[Outbound(template="errors/unexpected", context={"ref": ref})])

    def bind_thread(self, conversation_id: int, thread: str) -> None:
        """Tie a just-started conversation to the thread the adapter opened for it."""
        for _attempt in range(3):
            try:
                with unit_of_work(self.db) as repos:
                    conversation = repos.conversations.get(conversation_id)
                    if conversation is not None and conversation.thread is None:
                        conversation.thread = thread
                return
            except StaleDataError:
                log.info("conversation %s changed while binding its thread; reading it again", conversation_id)
        log.warning("gave up binding conversation %s to thread %s", conversation_id, thread)

    def housekeep(self) -> list[Delivery]:
        """Periodic upkeep: set aside idle drafts and forget event ids no platform will redeliver."""
        deliveries = self.expire_idle()
        with unit_of_work(self.db) as repos:
            repos.events.forget_before(self.clock.now() - EVENT_MEMORY)
        return deliveries

    def expire_idle(self) -> list[Delivery]:
        """Close conversations idle past their expiry, keeping their answers; say so to each person."""
        now = self.clock.now()
        deliveries: list[Delivery] = []
        with unit_of_work(self.db) as repos:
            for conversation in repos.conversations.expired(now):
                person = repos.people.find(conversation.workspace_id, conversation.user_id)
                if person is None:
                    conversation.status = "expired"
                    continue
                messages = self.expire_conversation(repos, person, conversation, now)
                deliveries.append(
                    Delivery(
                        conversation.platform,
                        person.workspace.external_id,
                        conversation.channel,
                        conversation.thread,
                        conversation.user_id,
                        messages,
                    )
                )
        return deliveries

    # -- internals -----------------------------------------------------------------------------------

    def _handle(self, inbound: Inbound) -> Reply:
        now = self.clock.now()
        with unit_of_work(self.db) as repos:
            if inbound.event_key and not repos.events.claim(inbound.platform, inbound.event_key, now):
                log.info("ignoring repeated delivery %s", inbound.event_key)
                return Reply(messages=[Outbound(template="engine/repeated_click")] if inbound.is_click else [])
            workspace = repos.workspaces.ensure(inbound.platform, inbound.workspace, now)
            person = repos.people.ensure(
                workspace.id, inbound.user_id, now, inbound.user_name or inbound.user_id,
                inbound.time_zone or self.default_timezone, email=inbound.email,
            )  # fmt: skip
            if inbound.time_zone and person.time_zone != inbound.time_zone:
                person.time_zone = inbound.time_zone
            key = ConversationKey(inbound.platform, workspace.id, inbound.channel, inbound.thread, inbound.user_id)
            if inbound.command:
                return self._command(repos, person, key, inbound, now)
            return self._answer(repos, person, key, inbound, now)

    def _command(self, repos: Repos, person: Person, key: ConversationKey, inbound: Inbound, now: datetime) -> Reply:
        name = inbound.command.lstrip("/").lower() if inbound.command else ""
        if name == "goal":
            return self.goal_commands.run(repos, person, key, inbound.text, now)
        if name == "observe":
            return self.observe_commands.run(repos, person, key, inbound.text, now)
        if name == "away":
            return away(person, inbound.text, now, zone(person.time_zone, self.default_timezone))
        if name in ("help", "start"):
            return Reply(messages=[Outbound(template="help")])
        return Reply(messages=[Outbound(template="errors/unknown_command", context={"command": inbound.command})])

    def _answer(self, repos: Repos, person: Person, key: ConversationKey, inbound: Inbound, now: datetime) -> Reply:
        conversation = repos.conversations.open_for(key)
        if conversation is None and key.thread is not None:
            conversation = self._claim_unbound(repos, key, now)
        if conversation is None:
            return Reply(messages=[self._no_conversation(repos, key, inbound)])
        flow = self.flows[conversation.flow]
        state = State.load(conversation.step, conversation.payload)
        today = now.astimezone(zone(person.time_zone, self.default_timezone)).date()
        ctx = CheckContext(today=today, answers=state.answers, services=flow.services(repos, person, now))
        turn = flow.handle(state, inbound.text, ctx, inbound.choice_step)
        messages = list(turn.messages)
        conversation.step = turn.state.step
        conversation.payload = turn.state.dump()
        conversation.updated_at = now
        conversation.expires_at = now + self.idle
        if turn.finish is not None:
            finish = flow.complete(repos, person, turn.state, turn.finish, now)
            conversation.status = finish.status
            conversation.result_ref = finish.result_ref
            messages.extend(finish.messages)
        repos.conversations.flush()
        return Reply(messages=messages, conversation_id=conversation.id)

    def _claim_unbound(self, repos: Repos, key: ConversationKey, now: datetime) -> Conversation | None:
        """A reply can beat `bind_thread` (the thread root was just posted): adopt the unbound conversation.

        Only for a thread with no history, within minutes of the start, so an old thread never takes it over.
        """
        if repos.conversations.latest_closed_for(key) is not None:
            return None
        conversation = repos.conversations.open_for(replace(key, thread=None))
        if conversation is None:  # bind_thread may have committed between our two reads
            return repos.conversations.open_for(key)
        if now - conversation.created_at > UNBOUND_GRACE:
            return None
        conversation.thread = key.thread
        return conversation

    def _no_conversation(self, repos: Repos, key: ConversationKey, inbound: Inbound) -> Outbound:
        closed = repos.conversations.latest_closed_for(key) if key.thread is not None else None
        if closed is not None:
            return Outbound(template=CLOSED_TEMPLATES.get(closed.status, "engine/closed_cancelled"),
                            context={"goal_id": closed.result_ref})  # fmt: skip
        if inbound.text.strip().lower() in ("help", "?", "/help"):
            return Outbound(template="help")
        return Outbound(template="engine/no_conversation")

    def expire_conversation(
        self, repos: Repos, person: Person, conversation: Conversation, now: datetime
    ) -> list[Outbound]:
        flow = self.flows[conversation.flow]
        finish = flow.expire(repos, person, State.load(conversation.step, conversation.payload), now)
        conversation.status = finish.status
        conversation.result_ref = finish.result_ref
        conversation.updated_at = now
        repos.conversations.flush()
        return finish.messages

    def start(self, repos: Repos, key: ConversationKey, flow_name: str, state: State, now: datetime) -> Reply:
        """Open a conversation at `state` and ask its question; used by commands such as /goal."""
        flow = self.flows[flow_name]
        conversation = repos.conversations.start(key, flow_name, state.step, state.dump(), now, now + self.idle)
        return Reply(messages=[flow.ask(state, state.step)], conversation_id=conversation.id)
