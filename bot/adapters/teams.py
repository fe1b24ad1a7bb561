"""Microsoft Teams: `POST /api/messages` verified and kept in the inbox, replies and notices through the Connector.

Handlers never see Teams. An activity becomes a neutral `Inbound`: a 1:1 chat is one conversation (Teams has
no threads there), "goal", "/goal" and "@growthbot goal" all mean the `/goal` command, a card's
`Action.Submit` is a click or a form submission. Every activity refreshes the stored conversation reference,
so the scheduler's notices can reach the person later.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.adapters.teams_auth import BotFrameworkAuth, KeysUnavailable, NotAuthorized, SigningKeys
from bot.adapters.teams_connector import (
    BotTokenProvider,
    ConnectorClient,
    ConnectorError,
    ConnectorRejected,
    ConnectorUnavailable,
    RetryPolicy,
    TokenUnavailable,
)
from bot.adapters.teams_members import MemberLinker
from bot.app import Runtime
from bot.http_server import MAX_BODY_BYTES, WSGIApp
from bot.render.teams import activity, error_texts, form_activity, read_submit, text_of
from handlers.messages import Inbound, Outbound, Reply
from handlers.router import Bot, Delivery
from scheduling.tick import ChannelUnavailable, Recipient, SendLater
from storage import inbox, teams
from storage.teams import Reference

PLATFORM = "teams"
MESSAGES_PATH = "/api/messages"
log = logging.getLogger(__name__)

_MENTION = re.compile(r"<at>[^<]*</at>", re.I)
ENGINE_WORDS = ("cancel", "back", "help", "skip", "keep")  # answers inside a dialog, not commands


def command_of(text: str, commands: Iterable[str]) -> tuple[str | None, str]:
    """("goal", "list") for "goal list", "/goal list" or "@growthbot goal list"; (None, text) otherwise.

    Anything after a slash is a command (an unknown one is answered as such), as in the terminal.
    """
    cleaned = _MENTION.sub(" ", text).strip()
    first, _, rest = cleaned.partition(" ")
    name = first.lstrip("/").lower()
    if name in ENGINE_WORDS:
        return None, cleaned if not first.startswith("/") else name
    if name in commands or (first.startswith("/") and len(first) > 1):
        return name, rest.strip()
    return None, cleaned


def reference_of(item: dict[str, Any]) -> Reference | None:
    conversation = item.get("conversation") or {}
    tenant = conversation.get("tenantId") or ((item.get("channelData") or {}).get("tenant") or {}).get("id")
    if not (tenant and conversation.get("id") and item.get("serviceUrl")):
        return None
    kind = conversation.get("conversationType") or "personal"
    sender = item.get("from") or {}
    data = item.get("channelData") or {}
    channel_name = team_name = None
    if kind == "channel":  # Teams leaves the General channel unnamed
        channel_name = str((data.get("channel") or {}).get("name") or "General")[:255]
        team_name = str((data.get("team") or {}).get("name") or "")[:255] or None
    return Reference(
        tenant_id=str(tenant),
        conversation_id=str(conversation["id"]),
        service_url=str(item["serviceUrl"]),
        bot_id=str((item.get("recipient") or {}).get("id") or ""),
        kind=str(kind),
        user_id=str(sender.get("aadObjectId") or sender.get("id") or "") or None if kind == "personal" else None,
        channel_name=channel_name,
        team_name=team_name,
    )


def _json_answer(start_response: Callable[..., Any], status: str, body: dict[str, Any] | None = None) -> list[bytes]:
    payload = json.dumps(body or {}).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


class TeamsAdapter:
    def __init__(
        self, bot: Bot, auth: BotFrameworkAuth, connector: ConnectorClient, linker: MemberLinker | None = None
    ) -> None:
        self.bot = bot
        self.auth = auth
        self.connector = connector
        self.linker = linker  # links roster people to the members Teams reports (install, first message)
        self.wake: Callable[[], None] = lambda: None  # set by the drain, to start on a kept activity at once

    # -- the endpoint ----------------------------------------------------------------------------------

    def wsgi(self) -> WSGIApp:
        """Verify the Bot Framework token, keep the activity in the inbox, answer 200. Nothing else here."""

        def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("REQUEST_METHOD") != "POST":
                return _json_answer(start_response, "405 Method Not Allowed")
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return _json_answer(start_response, "400 Bad Request")
            if not 0 < length <= MAX_BODY_BYTES:
                return _json_answer(start_response, "413 Content Too Large" if length else "400 Bad Request")
            try:
                item = json.loads(environ["wsgi.input"].read(length))
            except (UnicodeDecodeError, ValueError):
                return _json_answer(start_response, "400 Bad Request")
            try:
                self.auth.verify(environ.get("HTTP_AUTHORIZATION"), item)
            except KeysUnavailable as refused:
                log.warning("could not check a Teams request: %s", refused)
                return _json_answer(start_response, "503 Service Unavailable")
            except NotAuthorized as refused:
                log.warning("refused a Teams request: %s (from %s)", refused, environ.get("REMOTE_ADDR"))
                return _json_answer(start_response, "401 Unauthorized")
            self._keep(item)
            return _json_answer(start_response, "200 OK")

        return application

    def _keep(self, item: dict[str, Any]) -> None:
        key = f"activity:{item.get('id') or secrets.token_hex(8)}"
        order = f"{(item.get('conversation') or {}).get('id')}:{(item.get('from') or {}).get('id')}"
        if inbox.put(self.bot.db, PLATFORM, key, order, str(item.get("type") or "message"), item, self.bot.clock.now()):
            self.wake()
        else:
            log.info("ignoring the Connector's repeat of %s", key)

    # -- handling (the drain) --------------------------------------------------------------------------

    def handle_item(self, kind: str, item: dict[str, Any]) -> None:
        ref = reference_of(item)
        if ref is not None:
            teams.remember(self.bot.db, ref, self.bot.clock.now())
        bot_id = (item.get("recipient") or {}).get("id")
        if kind == "conversationUpdate":
            members = [m for m in item.get("membersAdded") or [] if isinstance(m, dict)]
            if ref is not None and members:
                self._link(MemberLinker.installed, ref, members, bot_id)
            if ref is not None and ref.kind == "personal" and bot_id in [m.get("id") for m in members]:
                self.send(ref, [self.bot.help()])  # installed: say what it can do, once
            return
        if kind == "installationUpdate":
            if ref is not None and str(item.get("action") or "add").startswith("add"):
                self._link(MemberLinker.installed, ref, [], bot_id)
            return
        if kind != "message" or ref is None:
            return
        sender = item.get("from") or {}
        if sender.get("aadObjectId"):  # before handling: linked now, they have their roster roles at once
            self._link(MemberLinker.message_from, ref, str(sender["aadObjectId"]))
        inbound = self.inbound(item)
        if inbound is None:
            return
        if inbound.button and ref.kind != "personal":
            # A button in a channel (a PLC check-in): the form is the clicker's, so it opens in their 1:1 chat.
            try:
                ref = self.personal_chat(ref, inbound.user_id)
            except (ConnectorError, TokenUnavailable):
                log.exception("could not open a 1:1 chat for a button click in %s", ref.conversation_id)
                self.send(ref, [Outbound(template="teams/no_personal_chat")])
                return
            inbound = inbound.model_copy(update={"channel": ref.conversation_id})
        self.deliver(ref, self.bot.handle(inbound))

    def _link(self, step: Callable[..., None], *args: Any) -> None:
        """Roster linking never costs the activity its handling: the linker logs Connector failures itself,
        anything else is logged here, and a later install, message or notice tries again."""
        if self.linker is None:
            return
        try:
            step(self.linker, *args)
        except Exception:
            log.exception("Teams roster linking failed; the activity is handled anyway")

    def personal_chat(self, seen: Reference, user_id: str) -> Reference:
        """The 1:1 chat with `user_id`, created through the service URL of a conversation they are in."""
        found = teams.personal(self.bot.db, seen.tenant_id, user_id)
        if found is not None:
            return found
        conversation = self.connector.create_conversation(seen.service_url, seen.tenant_id, seen.bot_id, user_id)
        ref = Reference(seen.tenant_id, conversation, seen.service_url, seen.bot_id, "personal", user_id)
        teams.remember(self.bot.db, ref, self.bot.clock.now())
        return ref

    def inbound(self, item: dict[str, Any]) -> Inbound | None:
        ref = reference_of(item)
        sender = item.get("from") or {}
        assert ref is not None
        base: dict[str, Any] = {
            "platform": PLATFORM,
            "workspace": ref.tenant_id,
            "user_id": str(sender.get("aadObjectId") or sender.get("id")),
            "user_name": str(sender.get("name") or ""),
            "time_zone": item.get("localTimezone") or None,
            "channel": ref.conversation_id,
            "forms": True,
        }
        value = item.get("value")
        if isinstance(value, dict):
            kind, data = read_submit(value)
            card = item.get("replyToId") or item.get("id")
            if kind == "choice":
                step, chosen = data
                return Inbound(**base, text=chosen, choice_step=step, event_key=f"click:{card}:{step}:{chosen}")
            if kind == "form":
                return Inbound(**base, form=data, event_key=f"card:{card}")
            if kind == "command":  # a command button: this person runs the command (each click its own)
                command, args = data
                return Inbound(**base, command=command, text=args, button=True, event_key=f"button:{item.get('id')}")
            return None
        command, text = command_of(str(item.get("text") or ""), self.bot.commands)
        return Inbound(**base, command=command, text=text, event_key=f"activity:{item.get('id')}")

    def deliver(self, ref: Reference, reply: Reply) -> None:
        activities: list[dict[str, Any]] = []
        if reply.form is not None:
            activities.append(form_activity(reply.form, error_texts(reply.form_errors)))
        activities.extend(activity(message) for message in reply.messages)
        for one in activities:
            try:
                self.connector.send(ref.service_url, ref.conversation_id, one)
            except (ConnectorError, TokenUnavailable):
                log.exception("could not answer in Teams conversation %s", ref.conversation_id)
                return

    def send(self, ref: Reference, messages: list[Outbound]) -> None:
        self.deliver(ref, Reply(messages=messages))

    def deliver_all(self, deliveries: list[Delivery]) -> None:
        """What the bot says on its own (such as "your idle draft was kept"), to the chat it belongs to."""
        for delivery in deliveries:
            if delivery.platform != PLATFORM or not delivery.messages:
                continue
            ref = teams.conversation(self.bot.db, delivery.workspace, delivery.channel)
            if ref is not None:
                self.send(ref, delivery.messages)


class TeamsSender:
    """Sends outbox rows into each person's 1:1 chat, creating the chat where the bot has none yet.

    Connector throttling and outages become "send later" (the row stays in the outbox); one row is one
    activity, the messages joined, an invite attached inline, so a retry never sends half of it twice.
    """

    def __init__(
        self, runtime_db: Any, connector: ConnectorClient, clock: Any, linker: MemberLinker | None = None
    ) -> None:
        self.db = runtime_db
        self.connector = connector
        self.clock = clock
        self.linker = linker

    def send(self, recipient: Recipient, payload: dict[str, Any]) -> None:
        if recipient.user_id.startswith("pending:"):
            recipient = self._linked(recipient)
        channel = str((payload.get("channel") or {}).get("name") or "")
        try:
            ref = self._channel(recipient, channel) if channel else self._chat_with(recipient)
            self.connector.send(ref.service_url, ref.conversation_id, self._activity(payload))
        except ConnectorRejected as error:
            if not channel:
                raise
            log.warning("Teams refused a post in channel %s (%s); falling back to members' DMs", channel, error.status)
            raise ChannelUnavailable(channel, "refused") from error
        except ConnectorUnavailable as error:
            raise SendLater(error.after, f"Teams is not taking messages now ({error.status})") from error
        except TokenUnavailable as error:
            raise SendLater(error.retry_after, "no Teams token yet") from error

    def _linked(self, recipient: Recipient) -> Recipient:
        """A pending roster person: list the tenant's teams again (if due) in case they are there by now."""
        email = recipient.user_id.removeprefix("pending:")
        if self.linker is not None and "@" in email:
            try:
                self.linker.sweep(recipient.workspace)
            except Exception:  # linking is a bonus here; the row is simply retried later
                log.exception("Teams roster linking failed in tenant %s", recipient.workspace)
            user_id = teams.linked_id(self.db, recipient.workspace, email)
            if user_id is not None:
                return replace(recipient, user_id=user_id)
        raise SendLater(timedelta(hours=1), "a roster person not matched to a Teams account yet")

    def _channel(self, recipient: Recipient, name: str) -> Reference:
        """A team channel's stored reference; unknown (the bot never saw it) falls back to the members' DMs."""
        ref = teams.channel_named(self.db, recipient.workspace, name)
        if ref is None:
            log.warning("no Teams conversation reference for channel %s in tenant %s; falling back to members' DMs",
                        name[:80], recipient.workspace)  # fmt: skip
            raise ChannelUnavailable(name, "unknown_channel")
        return ref

    def _chat_with(self, recipient: Recipient) -> Reference:
        ref = teams.personal(self.db, recipient.workspace, recipient.user_id)
        if ref is not None:
            return ref
        known = teams.any_in_tenant(self.db, recipient.workspace)
        if known is None:
            raise SendLater(timedelta(hours=1), "the bot has no conversation in this tenant yet")
        conversation = self.connector.create_conversation(
            known.service_url, recipient.workspace, known.bot_id, recipient.user_id
        )
        ref = Reference(
            recipient.workspace, conversation, known.service_url, known.bot_id, "personal", recipient.user_id
        )
        teams.remember(self.db, ref, self.clock.now())
        return ref

    def _activity(self, payload: dict[str, Any]) -> dict[str, Any]:
        messages = [Outbound.model_validate(m) for m in payload.get("messages", [])]
        first = (
            activity(messages[0])
            if len(messages) == 1
            else {"type": "message", "textFormat": "markdown", "text": "\n\n".join(text_of(m) for m in messages)}
        )
        files = [
            {
                "contentType": "text/calendar",
                "name": a["filename"],
                "contentUrl": "data:text/calendar;base64," + base64.b64encode(a["content"].encode()).decode(),
            }
            for a in payload.get("attachments") or []
        ]
        if files:
            first = {**first, "attachments": [*first.get("attachments", []), *files]}
        return first


# The outbox retries a row on its own schedule, so its sends give up sooner than a reply to someone waiting.
OUTBOX_RETRIES = RetryPolicy(attempts=2, base_delay=0.2, max_wait=2.0)


def build_teams(runtime: Runtime, require_https: bool = True) -> tuple[TeamsAdapter, TeamsSender, BotTokenProvider]:
    """The adapter (endpoint and drain handler), the outbox sender and the token provider, from settings."""
    settings = runtime.settings
    if not (settings.teams_app_id and settings.teams_app_password and settings.teams_tenant_id):
        raise SystemExit("Set TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID (see README, Teams setup).")
    keys = SigningKeys(settings.teams_openid_metadata_url, clock=runtime.clock)
    auth = BotFrameworkAuth(settings.teams_app_id, keys, clock=runtime.clock)
    tokens = BotTokenProvider(
        settings.teams_app_id,
        settings.teams_app_password,
        settings.teams_tenant_id,
        authority_base=settings.teams_authority_url,
        clock=runtime.clock,
    )
    replies = ConnectorClient(tokens, clock=runtime.clock, require_https=require_https)
    outbox = ConnectorClient(tokens, clock=runtime.clock, require_https=require_https, policy=OUTBOX_RETRIES)
    linker = MemberLinker(runtime.db, outbox, runtime.clock)  # background work: the outbox's shorter retries
    adapter = TeamsAdapter(runtime.bot, auth, replies, linker)
    return adapter, TeamsSender(runtime.db, outbox, runtime.clock, linker), tokens
