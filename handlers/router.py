"""The bot's front door on the handler side: one Inbound in, one Reply out, whatever the platform.

Each message is handled in one transaction: the platform's event id is recorded, the conversation is
advanced and any record is saved together, so a redelivery is a no-op and a crash loses nothing half-done.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handlers.engine import CheckContext, Flow, State
from handlers.features import Command, Export, Feature, FeatureFactory, Invocation, Setup
from handlers.form_flow import FormFlow, flow_name
from handlers.forms import FormSpec, Submission, check_form
from handlers.messages import Inbound, Outbound, Reply
from handlers.registry import FEATURES
from scheduling.clock import Clock
from scheduling.kinds import Kind
from storage import inbox
from storage.database import Database
from storage.models import Conversation, Person
from storage.unit_of_work import ConcurrentUpdate, ConversationKey, Repos, unit_of_work

log = logging.getLogger(__name__)

UNBOUND_GRACE = timedelta(minutes=5)
EVENT_MEMORY = timedelta(days=7)  # Slack retries for minutes and Teams for hours; a week is ample
BUTTON_FORM_OPEN = timedelta(minutes=30)  # a form a button opened counts as open this long, unless closed sooner
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


class _Undo(Exception):
    """Roll the turn's transaction back but still answer: a submit that changed its mind after writing."""

    def __init__(self, reply: Reply) -> None:
        super().__init__("undo")
        self.reply = reply


class _NoPort:
    """The port of a catalogue: describing features never needs the bot, so any use is a bug."""

    default_timezone = "UTC"

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"a feature used the bot ({name}) while only being described")


def _unique(kind: str, names: list[str]) -> None:
    doubled = sorted({name for name in names if names.count(name) > 1})
    if doubled:
        raise ValueError(f"two features register the {kind} {', '.join(doubled)}")


class Bot:
    """The router: every registered feature's commands, flows and forms behind one `handle`.

    It is also the `Port` features are given, so they can open conversations and forms without importing it.
    """

    def __init__(
        self, db: Database, clock: Clock, settings: Any, features: Sequence[FeatureFactory] = FEATURES
    ) -> None:
        self.db = db
        self.clock = clock
        self.default_timezone: str = settings.default_timezone
        self.idle = timedelta(days=settings.draft_idle_days)
        self.features: list[Feature] = [factory(Setup(port=self, settings=settings)) for factory in features]
        commands = [c for f in self.features for c in f.commands]
        forms = [spec for f in self.features for spec in f.forms]
        flows: list[Flow] = [flow for f in self.features for flow in f.flows] + [FormFlow(spec) for spec in forms]
        exports = [e for f in self.features for e in f.exports]
        for kind, names in (
            ("command", [c.name for c in commands] + ["help"]),
            ("form", [s.id for s in forms]),
            ("flow", [f.name for f in flows]),
            ("export", [e.name for e in exports]),
            ("kind", [k.name for f in self.features for k in f.kinds]),
        ):
            _unique(kind, names)
        self.commands: dict[str, Command] = {c.name: c for c in commands}
        self.forms: dict[str, FormSpec] = {spec.id: spec for spec in forms}
        self.flows: dict[str, Flow] = {flow.name: flow for flow in flows}
        self.exports: dict[str, Export] = {e.name: e for e in exports}

    @staticmethod
    def catalogue(settings: Any, features: Sequence[FeatureFactory] = FEATURES) -> list[Feature]:
        """The features as described, for building a CLI or a manifest: nothing here may talk to anyone."""
        return [factory(Setup(port=_NoPort(), settings=settings)) for factory in features]

    def kinds(self) -> list[Kind]:
        """Every scheduler kind the features register, for the tick's registry."""
        return [kind for feature in self.features for kind in feature.kinds]

    # -- the port features use -------------------------------------------------------------------------

    def flow(self, name: str) -> Flow:
        return self.flows[name]

    def zone(self, person: Person) -> ZoneInfo:
        return zone(person.time_zone, self.default_timezone)

    def open_form(
        self,
        repos: Repos,
        invocation: Invocation,
        form_id: str,
        values: dict[str, Any],
        context: dict[str, Any] | None = None,
    ) -> Reply:
        """A modal or card where the platform shows forms itself; otherwise the same questions in the chat."""
        spec = self.forms[form_id]
        form = spec.form().with_defaults(values).model_copy(update={"context": context or {}})
        if invocation.inbound.forms:
            if invocation.inbound.button and not self._mark_button_form(repos, invocation, form_id):
                return Reply(messages=[Outbound(template="forms/already_open", context={"title": form.title})])
            return Reply(form=form)
        key = invocation.key
        open_one = repos.conversations.open_for(key)
        if open_one is not None:
            if key.platform == "console" or key.thread is not None:
                return Reply(messages=[Outbound(template="forms/finish_open_first")])
            open_one.status = "replaced"  # an unbound conversation whose thread never opened
        flow = self.flows[flow_name(form_id)]
        assert isinstance(flow, FormFlow)
        reply = self.start(repos, key, flow.name, flow.start_state(values, context or {}), invocation.now)
        intro = [Outbound(template="forms/intro", context={"title": form.title, "intro": form.intro})]
        return Reply(
            messages=[*intro, *reply.messages], conversation_id=reply.conversation_id, new_thread=key.thread is None
        )

    @staticmethod
    def _button_form_key(key: ConversationKey, form_id: str) -> ConversationKey:
        return ConversationKey(key.platform, key.workspace_id, "form", f"button:{form_id}", key.user_id)

    def _mark_button_form(self, repos: Repos, invocation: Invocation, form_id: str) -> bool:
        """Note that a button opened this form for this person; False if one it opened is open still.

        A channel's button can be clicked twice (a double click, or again while the card is on screen): the
        second click gets a sentence, never a second form. Submitting or closing the form ends the mark.
        """
        key, now = self._button_form_key(invocation.key, form_id), invocation.now
        found = repos.conversations.open_for(key)
        if found is not None and found.expires_at > now:
            return False
        if found is not None:
            found.status = "expired"
        repos.conversations.start(key, flow_name(form_id), "open", {}, now, now + BUTTON_FORM_OPEN)
        return True

    def form_closed(self, platform: str, workspace: str, user_id: str, form_id: str) -> None:
        """The platform says a form is gone unsubmitted (a modal closed, or it could not open): a button may open
        it again at once."""
        with unit_of_work(self.db) as repos:
            workspace_id = repos.workspaces.ensure(platform, workspace, self.clock.now()).id
            key = ConversationKey(platform, workspace_id, "form", f"button:{form_id}", user_id)
            marked = repos.conversations.open_for(key)
            if marked is not None:
                marked.status = "cancelled"

    # -- entry points --------------------------------------------------------------------------------

    def handle(self, inbound: Inbound) -> Reply:
        """Answer one message. Unexpected errors are logged with a reference the person can quote."""
        try:
            for _attempt in range(3):
                try:
                    return self._handle(inbound)
                except ConcurrentUpdate:
                    log.info("a concurrent write got there first; retrying %s", inbound.event_key, exc_info=True)
                except _Undo as undo:
                    return undo.reply
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
            except ConcurrentUpdate:
                log.info("conversation %s changed while binding its thread; reading it again", conversation_id)
        log.warning("gave up binding conversation %s to thread %s", conversation_id, thread)

    def first_delivery(self, platform: str, event_key: str) -> bool:
        """Record a delivery the adapter answers itself; False if it was seen before (a platform retry)."""
        with unit_of_work(self.db) as repos:
            return repos.events.claim(platform, event_key, self.clock.now())

    def housekeep(self) -> list[Delivery]:
        """Periodic upkeep: set aside idle drafts and forget event ids no platform will redeliver."""
        deliveries = self.expire_idle()
        with unit_of_work(self.db) as repos:
            repos.events.forget_before(self.clock.now() - EVENT_MEMORY)
        inbox.forget_before(self.db, self.clock.now() - EVENT_MEMORY)
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
            first = inbound.form is not None or not inbound.event_key  # a form claims its id only when it saves
            if not first and not repos.events.claim(inbound.platform, inbound.event_key or "", now):
                log.info("ignoring repeated delivery %s", inbound.event_key)
                return Reply()  # the first delivery's answer is already on screen
            arrival = repos.arrivals.find(
                inbound.platform, inbound.workspace, inbound.user_id, inbound.channel, inbound.thread
            )
            workspace_id = arrival.workspace_id or repos.workspaces.ensure(inbound.platform, inbound.workspace, now).id
            person = arrival.person or repos.people.ensure(
                workspace_id,
                inbound.user_id,
                now,
                inbound.user_name or inbound.user_id,
                inbound.time_zone or self.default_timezone,
                email=inbound.email,
            )
            if inbound.time_zone and person.time_zone != inbound.time_zone and not person.zone_chosen:
                person.time_zone = inbound.time_zone
            key = ConversationKey(inbound.platform, workspace_id, inbound.channel, inbound.thread, inbound.user_id)
            if inbound.form is not None:
                return self._submit_form(repos, person, key, inbound, now)
            if inbound.command:
                return self._command(repos, person, key, inbound, now)
            return self._answer(repos, person, key, inbound, now)

    def _command(self, repos: Repos, person: Person, key: ConversationKey, inbound: Inbound, now: datetime) -> Reply:
        name = inbound.command.lstrip("/").lower() if inbound.command else ""
        if name in ("help", "start"):
            return Reply(messages=[self.help()])
        command = self.commands.get(name)
        if command is None:
            known = [c.name for c in self.commands.values()]
            return Reply(
                messages=[
                    Outbound(
                        template="errors/unknown_command",
                        context={"command": (inbound.command or "")[:40], "known": known},
                    )
                ]
            )
        return command.run(Invocation(repos, person, key, inbound.text, now, inbound))

    def help(self) -> Outbound:
        """The help reply, built from what the features register."""
        commands = [{"name": c.name, "summary": c.summary, "usage": c.usage} for c in self.commands.values()]
        return Outbound(template="help", context={"commands": commands})

    def _submit_form(
        self, repos: Repos, person: Person, key: ConversationKey, inbound: Inbound, now: datetime
    ) -> Reply:
        """A form the platform showed: check the page (or the whole form), then submit it exactly once."""
        submitted = inbound.form
        assert submitted is not None
        spec = self.forms.get(submitted.form_id)
        if spec is None:
            return Reply(messages=[Outbound(template="forms/unknown")])
        form = spec.form()
        services = spec.services(repos, person, now) if spec.services else {}
        ctx = CheckContext(today=now.astimezone(self.zone(person)).date(), answers={}, services=services)
        draft_key = ConversationKey(key.platform, key.workspace_id, "form", submitted.draft, key.user_id)
        draft = repos.conversations.open_for(draft_key) if submitted.draft else None
        raw = {**(draft.payload.get("raw", {}) if draft else {}), **submitted.values}
        shown = form.with_defaults(raw).model_copy(update={"context": submitted.context})  # to show it again
        if not submitted.last:
            _values, errors = check_form(spec, form, raw, ctx, only=submitted.fields)
            if errors:
                return Reply(form_errors=_shown(errors), form=shown)
            if draft is None:
                repos.conversations.start(draft_key, flow_name(spec.id), "page", {"raw": raw}, now, now + self.idle)
            else:
                draft.payload = {"raw": raw}
                draft.updated_at = now
            return Reply(form=shown)
        values, errors = check_form(spec, form, raw, ctx)
        if errors:
            return Reply(form_errors=_shown(errors), form=shown)
        if inbound.event_key and not repos.events.claim(inbound.platform, inbound.event_key, now):
            return Reply(messages=[Outbound(template="forms/already_submitted")])
        result = spec.submit(Submission(repos, person, now, values, submitted.context))
        if result.errors:
            raise _Undo(Reply(form_errors=_shown(result.errors), form=shown))
        if draft is not None:
            draft.status = "saved"
        marked = repos.conversations.open_for(self._button_form_key(key, spec.id))
        if marked is not None:
            marked.status = "saved"
        return Reply(messages=result.messages)

    def _answer(self, repos: Repos, person: Person, key: ConversationKey, inbound: Inbound, now: datetime) -> Reply:
        conversation = repos.conversations.open_for(key)
        if conversation is None and key.thread is not None:
            conversation = self._claim_unbound(repos, key, now)
        if conversation is None:
            return Reply(messages=[self._no_conversation(repos, key, inbound)])
        flow = self.flows.get(conversation.flow)
        if flow is None:  # a feature or form that no longer exists: close it rather than fail on every reply
            conversation.status = "expired"
            return Reply(messages=[Outbound(template="forms/unknown")])
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
            return Outbound(
                template=CLOSED_TEMPLATES.get(closed.status, "engine/closed_cancelled"),
                context={"goal_id": closed.result_ref},
            )
        if inbound.text.strip().lower() in ("help", "?", "/help"):
            return self.help()
        return Outbound(template="engine/no_conversation")

    def expire_conversation(
        self, repos: Repos, person: Person, conversation: Conversation, now: datetime
    ) -> list[Outbound]:
        flow = self.flows.get(conversation.flow)
        if flow is None or conversation.channel == "form":  # a gone feature, or a modal's unsent pages
            conversation.status = "expired"
            return []
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


def _shown(problems: dict[str, Any]) -> dict[str, Outbound]:
    return {name: Outbound(template=p.template, context=p.context) for name, p in problems.items()}
