"""Slack: Bolt receives events, slash commands and clicks; replies go out through the Web API.

Handlers never see Slack. This module turns Slack payloads into neutral `Inbound`s, hands them to the
bot, and posts the neutral replies as Block Kit in the person's DM thread.
"""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

import prompts
from bot.adapters.slack_web import SlackSender, web_client
from bot.app import Runtime
from bot.http_server import MAX_BODY_BYTES, WSGIApp, routes_app
from bot.render.slack import (
    CHOICE_ACTION_PREFIX,
    COMMAND_ACTION_PREFIX,
    parse_choice,
    parse_command,
    plain_text,
    render_slack,
)
from bot.render.slack_forms import CALLBACK_ID, ViewTooLarge, error_text, modal, page_of, read_view
from handlers.messages import Inbound, Outbound, Reply
from handlers.router import Bot, Delivery
from storage import inbox

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
HOUSEKEEPING = timedelta(minutes=15)
log = logging.getLogger(__name__)

# Message subtypes that are still a person typing: a plain reply, one also sent to the channel, /me, a file.
PERSON_SUBTYPES = (None, "thread_broadcast", "me_message", "file_share")


_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")


def command_text(raw: str) -> str:
    """A slash command's text as typed, except that a mention keeps the Slack user id (`@U123`) and a channel
    reads `#name` (`#C123` when Slack sent no name), as a person would type it."""
    raw = _CHANNEL_MENTION.sub(lambda m: f"#{m.group(2) or m.group(1)}", raw)
    return plain_text(_USER_MENTION.sub(lambda m: f"@{m.group(1)}", raw))


def acknowledge(ack: Ack) -> None:
    ack()


def _no_ack() -> None:
    """What `keep_raw` passes as `ack`: its caller answers 200 itself."""


def team_of(body: dict[str, Any]) -> str:
    """The workspace of any payload kind, read the same way for commands, events and clicks."""
    return str(
        body.get("team_id")
        or (body.get("team") or {}).get("id")
        or body.get("enterprise_id")
        or (body.get("enterprise") or {}).get("id")
        or ""
    )


class SlackAdapter:
    """Registers growthbot's listeners on a Bolt app and delivers replies."""

    def __init__(self, bot: Bot, client: WebClient) -> None:
        self.bot = bot
        self.client = client
        self._profiles: dict[str, dict[str, Any]] = {}
        self._dms: dict[str, str] = {}
        # Posts that follow a modal's submission, so the HTTP response (which closes the modal) never waits on them.
        self._after_ack = ThreadPoolExecutor(max_workers=4, thread_name_prefix="slack-after-submit")
        self.wake: Callable[[], None] = lambda: None  # set by the drain, to start on a kept request at once

    def register(self, app: App) -> None:
        """In the request thread: write the request to the inbox, then ack. The drain does the work.

        Slack wants an answer within 3 s and never retries what was acked, so the request is made durable
        first (one short INSERT, deduplicated by its id) and handled afterwards, surviving a crash.
        Modal submissions are the exception: their HTTP response carries the errors or the next page.
        """
        for name in self.bot.commands:
            app.command(f"/{name}")(self.accept_command)
        app.event("message")(self.accept_message)
        app.action(re.compile(f"^{CHOICE_ACTION_PREFIX}"))(self.accept_click)
        app.action(re.compile(f"^{COMMAND_ACTION_PREFIX}"))(self.accept_button)
        app.view(CALLBACK_ID)(self.on_form)
        app.view_closed(CALLBACK_ID)(self.on_form_closed)

    # -- into the inbox ------------------------------------------------------------------------------

    def accept_command(self, ack: Ack, body: dict[str, Any]) -> None:
        key = f"command:{body.get('trigger_id') or secrets.token_hex(8)}"
        self._keep("command", key, f"{team_of(body)}:{body.get('user_id')}:dm", body)
        ack()

    def accept_message(self, ack: Ack, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        from_person = event.get("user") and not event.get("bot_id") and event.get("subtype") in PERSON_SUBTYPES
        if event.get("channel_type") == "im" and from_person:  # the bot's own posts and other channels: ignored
            key = f"event:{body.get('event_id') or event.get('client_msg_id') or secrets.token_hex(8)}"
            thread = event.get("thread_ts") or ""
            self._keep("event", key, f"{team_of(body)}:{event['user']}:{event.get('channel')}:{thread}", body)
        ack()

    def accept_click(self, ack: Ack, body: dict[str, Any]) -> None:
        action = (body.get("actions") or [{}])[0]
        message = body.get("message") or {}
        thread = message.get("thread_ts") or message.get("ts") or ""
        user = (body.get("user") or {}).get("id")
        key = f"click:{action.get('action_id')}:{message.get('ts')}"
        self._keep("action", key, f"{team_of(body)}:{user}:{(body.get('channel') or {}).get('id')}:{thread}", body)
        ack()

    def accept_button(self, ack: Ack, body: dict[str, Any]) -> None:
        """A command button: each click is its person typing the command (kept in their own order, as a command)."""
        user = (body.get("user") or {}).get("id")
        key = f"button:{body.get('trigger_id') or secrets.token_hex(8)}"
        self._keep("button", key, f"{team_of(body)}:{user}:dm", body)
        ack()

    def keep_raw(self, body: bytes, content_type: str) -> int | None:
        """Keep a verified request straight from its bytes if the drain handles it; the HTTP status to answer, or
        None to hand the request to Bolt.

        Commands, DM messages and button clicks are most of the traffic, and all the ack does for them is keep
        the request; routing them through Bolt's middleware and listener matching first cost as much CPU as
        keeping them did. The rest (modal submissions, URL verification, unknown commands) goes to Bolt. A body
        that does not parse is refused here with 400: Bolt would answer it with a 500 and a traceback.
        """
        try:
            if content_type.startswith("application/json"):
                payload = json.loads(body)
                event = payload.get("event", {}) if isinstance(payload, dict) else None
                if not isinstance(event, dict):
                    return 400
                if payload.get("type") != "event_callback":
                    return None
                if event.get("type") == "message":
                    self.accept_message(_no_ack, payload)
                return 200  # an event we do not use is acked too: Slack turns off an app that keeps refusing
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            if "payload" not in form:
                if form.get("command", "").lstrip("/") not in self.bot.commands:
                    return None
                self.accept_command(_no_ack, form)
                return 200
            payload = json.loads(form["payload"])
        except ValueError:
            return 400
        actions = (payload.get("actions") or [{}]) if isinstance(payload, dict) else None
        first = actions[0] if isinstance(actions, list) else None
        if not isinstance(first, dict):
            return 400
        if payload.get("type") != "block_actions":
            return None
        action = str(first.get("action_id") or "")
        if action.startswith(CHOICE_ACTION_PREFIX):
            self.accept_click(_no_ack, payload)
        elif action.startswith(COMMAND_ACTION_PREFIX):
            self.accept_button(_no_ack, payload)
        else:
            return None
        return 200

    def _keep(self, kind: str, key: str, order: str, body: dict[str, Any]) -> None:
        if inbox.put(self.bot.db, PLATFORM, key, order, kind, body, self.bot.clock.now()):
            self.wake()
        else:
            log.info("ignoring Slack's repeat of %s", key)

    def handle_item(self, kind: str, body: dict[str, Any]) -> None:
        """The drain's entry point: one kept request, handled as its listener would have."""
        if kind == "command":
            self.on_command(body, Respond(response_url=body.get("response_url") or None))
        elif kind == "event":
            self.on_message(body["event"], body)
        elif kind == "action":
            self.on_choice(body, (body.get("actions") or [{}])[0])
        elif kind == "button":
            self.on_button(body, (body.get("actions") or [{}])[0])
        else:
            log.warning("unknown inbox item kind %s", kind)

    # -- listeners -----------------------------------------------------------------------------------

    def on_command(self, body: dict[str, Any], respond: Respond) -> None:
        """Guided dialogs run in a DM thread; one-line answers come back privately where they were asked."""
        try:
            self._command(body, respond)
        except Exception:
            ref = secrets.token_hex(3).upper()
            log.exception("%s failed before or after the bot answered (ref %s)", body.get("command"), ref)
            respond(text=prompts.render("errors/unexpected", {"ref": ref}, prompts.MRKDWN), response_type="ephemeral")

    def _command(self, body: dict[str, Any], respond: Respond) -> None:
        user = body["user_id"]
        in_dm = body.get("channel_name") == "directmessage" or str(body.get("channel_id", "")).startswith("D")
        dm = self.dm_of(user)
        trigger = str(body.get("trigger_id") or "")
        inbound = Inbound(
            platform=PLATFORM,
            workspace=team_of(body),
            user_id=user,
            user_name=body.get("user_name", ""),
            **self.profile(user),
            channel=dm,
            command=str(body.get("command", "/goal")).lstrip("/"),
            text=command_text(body.get("text", "")),
            event_key=f"command:{trigger}" if trigger else None,
            forms=bool(trigger),
        )

        def privately(message: Outbound) -> None:
            respond(response_type="ephemeral", **render_slack(message))

        self._run(inbound, trigger, dm, in_dm, privately)

    def _run(self, inbound: Inbound, trigger: str, dm: str, in_dm: bool, privately: Callable[[Outbound], None]) -> None:
        """A command, typed or clicked: a modal if its reply is a form, the DM thread for a dialog, else `privately`."""
        reply = self.bot.handle(inbound)
        if reply.form is not None:
            if self.open_modal(trigger, reply):
                return
            if inbound.button:
                self.bot.form_closed(PLATFORM, inbound.workspace, inbound.user_id, reply.form.id)
            # The trigger expired (or Slack refused the view): the same questions, in the DM thread.
            reply = self.bot.handle(
                inbound.model_copy(update={"forms": False, "event_key": f"{inbound.event_key}:steps"})
            )
            reply.messages.insert(0, Outbound(template="slack/form_fallback"))
            in_dm = in_dm or reply.new_thread
        if reply.new_thread:
            self.deliver(reply, dm, None)
            if not in_dm:
                privately(Outbound(template="slack/opened_dm"))
        elif in_dm:
            self.deliver(reply, dm, None)
        else:
            for message in reply.messages:
                privately(message)

    def on_button(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A command button: the clicker runs its command, with the click's trigger for a modal (`/plc log Team`
        from a channel's check-in, `/survey answer 3` from an invitation)."""
        parsed = parse_command(str(action.get("value") or ""))
        user = (body.get("user") or {}).get("id")
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
        if parsed is None or not user:
            log.warning("a command button click without a command or a person; ignored")
            return
        command, args = parsed
        trigger = str(body.get("trigger_id") or "")

        def privately(message: Outbound) -> None:
            if channel.startswith("D"):
                self.post(channel, None, message)
                return
            try:  # seen only by the clicker, in the channel where they clicked
                self.client.chat_postEphemeral(channel=channel, user=user, **render_slack(message))
            except SlackApiError:
                log.exception("could not answer a button click privately in %s", channel)

        try:
            dm = self.dm_of(user)
            inbound = Inbound(
                platform=PLATFORM,
                workspace=team_of(body),
                user_id=user,
                user_name=str((body.get("user") or {}).get("name") or ""),
                **self.profile(user),
                channel=dm,
                command=command,
                text=plain_text(args),
                event_key=f"button:{trigger}" if trigger else None,
                forms=bool(trigger),
                button=True,
            )
            self._run(inbound, trigger, dm, channel == dm, privately)
        except Exception:
            ref = secrets.token_hex(3).upper()
            log.exception("a /%s button click failed (ref %s)", command, ref)
            privately(Outbound(template="errors/unexpected", context={"ref": ref}))

    def on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """A reply in a DM thread answers that thread's conversation."""
        from_person = event.get("user") and not event.get("bot_id") and event.get("subtype") in PERSON_SUBTYPES
        if event.get("channel_type") != "im" or not from_person:
            return
        channel = event["channel"]
        thread = event.get("thread_ts")
        if thread is None:
            if body.get("event_id") and not self.bot.first_delivery(PLATFORM, f"event:{body['event_id']}"):
                return  # Slack's retry of a message we already answered
            self.post(channel, None, Outbound(template="slack/reply_in_thread"))
            return
        reply = self.bot.handle(
            Inbound(
                platform=PLATFORM,
                workspace=team_of(body),
                user_id=event["user"],
                **self.profile(event["user"]),
                channel=channel,
                thread=thread,
                text=plain_text(event.get("text", "")),
                event_key=f"event:{body['event_id']}" if body.get("event_id") else None,
            )
        )
        self.deliver(reply, channel, thread)

    def on_choice(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A button click answers the step that showed it; a second click of the same button is noted once."""
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get("channel_id")
        if not channel or not message.get("ts"):
            return
        thread = message.get("thread_ts") or message["ts"]
        step, value = parse_choice(action.get("value", ""))
        user = body["user"]["id"]
        reply = self.bot.handle(
            Inbound(
                platform=PLATFORM,
                workspace=team_of(body),
                user_id=user,
                **self.profile(user),
                channel=channel,
                thread=thread,
                text=value,
                choice_step=step or "",
                event_key=f"click:{action.get('action_id')}:{message['ts']}",
            )
        )
        self.deliver(reply, channel, thread)

    def open_modal(self, trigger: str, reply: Reply) -> bool:
        """Show the reply's form as a modal; False if Slack would not (expired trigger, a view over its limits)."""
        assert reply.form is not None
        try:
            self.client.views_open(trigger_id=trigger, view=modal(reply.form))
        except (SlackApiError, ViewTooLarge) as error:
            reason = error.response.get("error") if isinstance(error, SlackApiError) else str(error)
            log.warning("could not open the %s form as a modal (%s); asking step by step", reply.form.id, reason)
            return False
        return True

    def on_form(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        """A modal page submitted: inline errors, the next page, or (on the last page) save and close."""
        try:
            submission, page = read_view(view)
        except ValueError:
            log.warning("a view_submission that is not one of our forms (callback %s)", view.get("callback_id"))
            ack()
            return
        user = body["user"]["id"]
        reply = self.bot.handle(
            Inbound(
                platform=PLATFORM,
                workspace=team_of(body),
                user_id=user,
                user_name=body["user"].get("name", ""),
                channel="modal",
                form=submission,
                event_key=f"view:{view.get('id', '')}",
            )
        )
        if reply.form_errors:
            ack(**self._form_errors(reply, submission.fields))
        elif not submission.last and reply.form is not None:
            ack(response_action="update", view=modal(reply.form, page + 1))
        else:
            ack()
            if reply.messages:
                self._after_ack.submit(self._post_to_dm, user, reply.messages)

    def on_form_closed(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        """A modal closed unsubmitted: a button may open its form again straight away."""
        ack()
        try:
            submission, _page = read_view(view)
        except ValueError:
            return
        user = (body.get("user") or {}).get("id")
        if user:
            self.bot.form_closed(PLATFORM, team_of(body), str(user), submission.form_id)

    def _form_errors(self, reply: Reply, shown: list[str]) -> dict[str, Any]:
        """Errors under the inputs on this page; a problem with an earlier page's answer goes back to it."""
        errors = {name: error_text(message) for name, message in reply.form_errors.items()}
        if set(errors) <= set(shown) or reply.form is None:
            return {"response_action": "errors", "errors": {f"f_{name}": text for name, text in errors.items()}}
        form = reply.form
        first = next(item.name for item in form.fields if item.name in errors)
        banner = [f"{form.field(name).label} {text}" for name, text in errors.items()]
        return {"response_action": "update", "view": modal(form, page_of(form, first), banner)}

    def _post_to_dm(self, user: str, messages: list[Outbound]) -> None:
        try:
            channel = self.dm_of(user)
            for message in messages:
                self.post(channel, None, message)
        except Exception:
            log.exception("could not post a form's confirmation to %s", user)

    # -- delivery ------------------------------------------------------------------------------------

    def deliver(self, reply: Reply, channel: str, thread: str | None) -> None:
        """Post a reply; a new conversation's opening messages become one thread root, then bound to it."""
        messages = list(reply.messages)
        if reply.new_thread and messages:
            root = [render_slack(m) for m in messages]
            posted = self.client.chat_postMessage(  # a failure reaches the listener's apology
                channel=channel,
                text="\n\n".join(part["text"] for part in root),
                blocks=[block for part in root for block in part["blocks"]],
            )
            if reply.conversation_id is not None:
                self.bot.bind_thread(reply.conversation_id, posted["ts"])
            return
        for message in messages:
            self.post(channel, thread, message)

    def deliver_all(self, deliveries: list[Delivery]) -> None:
        """Send what the bot says on its own, such as "your idle draft was kept"."""
        for delivery in deliveries:
            if delivery.platform == PLATFORM:
                for message in delivery.messages:
                    self.post(delivery.channel, delivery.thread, message)

    def post(self, channel: str, thread: str | None, message: Outbound) -> None:
        try:
            self.client.chat_postMessage(channel=channel, thread_ts=thread, **render_slack(message))
        except SlackApiError:
            log.exception("could not post to %s (thread %s)", channel, thread)

    def dm_of(self, user: str) -> str:
        """The person's DM channel with the bot, opened once per process: it never changes, and
        `conversations.open` is a Tier 3 method (about 50 a minute), which a burst of commands would use up."""
        if user not in self._dms:
            self._dms[user] = self.client.conversations_open(users=user)["channel"]["id"]
        return self._dms[user]

    def profile(self, user: str) -> dict[str, Any]:
        """The person's IANA zone and email from their Slack profile, looked up once per process.

        The email ties a first message to the roster row imported for that address.
        """
        if user not in self._profiles:
            try:
                found = self.client.users_info(user=user)["user"]
            except (SlackApiError, KeyError, TypeError):
                log.warning("no Slack profile for %s; using the default time zone", user, exc_info=True)
                return {}
            self._profiles[user] = {"time_zone": found.get("tz"), "email": (found.get("profile") or {}).get("email")}
        return self._profiles[user]


def build_slack_app(runtime: Runtime, client: WebClient | None = None) -> tuple[App, SlackAdapter]:
    settings = runtime.settings
    if settings.slack_bot_token is None or settings.slack_signing_secret is None:
        raise SystemExit("Set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see README, Slack setup).")
    client = client or web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        request_verification_enabled=False,  # `verified` checks every request before Bolt (see there)
        process_before_response=True,  # listeners run in the request thread: they only keep the request and ack
    )
    adapter = SlackAdapter(runtime.bot, client)
    adapter.register(app)
    app.error(log_listener_error)
    return app, adapter


def log_listener_error(error: Exception, body: dict[str, Any]) -> None:
    """Bolt's last resort: keep the traceback, and enough of the payload to find the conversation."""
    log.error("Slack listener failed for %s", body.get("type") or body.get("command"), exc_info=error)


def outbox_sender(runtime: Runtime) -> SlackSender:
    token = runtime.settings.slack_bot_token
    assert token is not None
    client = web_client(token.get_secret_value(), runtime.settings.slack_api_url, rate_limit_retries=0)
    return SlackSender(client, concurrency=runtime.settings.slack_send_concurrency)


_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def _refuse(start_response: Callable[..., Any], status: str) -> Iterable[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [status.encode() + b"\n"]


def verified(inner: WSGIApp, signing_secret: str) -> WSGIApp:
    """Slack's signature checked before Bolt sees anything, every malformed header refused with a 4xx.

    Bolt's own check is turned off: it answers a non-numeric timestamp with a 500 and logs refused bodies,
    which carry people's text. Here a refusal is logged with its reason and address only.
    """
    verifier = SignatureVerifier(signing_secret)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _refuse(start_response, "405 Method Not Allowed")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(start_response, "400 Bad Request")
        if not 0 <= length <= MAX_BODY_BYTES:
            return _refuse(start_response, "413 Content Too Large")
        body = environ["wsgi.input"].read(length)
        try:
            body.decode("utf-8")  # Slack sends UTF-8; anything else is refused before any parsing
        except UnicodeDecodeError:
            return _refuse(start_response, "400 Bad Request")
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        reason = None
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            reason = "a missing or malformed timestamp"
        elif not _SIGNATURE.fullmatch(signature):
            reason = "a missing or malformed signature"
        elif not verifier.is_valid(body, timestamp, signature):
            reason = "a wrong signature or a stale timestamp"
        if reason is not None:
            log.warning("refused a request to %s with %s (from %s)", EVENTS_PATH, reason, environ.get("REMOTE_ADDR"))
            return _refuse(start_response, "401 Unauthorized")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return inner(environ, start_response)

    return application


def quick_acks(bolt: WSGIApp, adapter: SlackAdapter) -> WSGIApp:
    """After `verified`: keep and ack what the drain handles (`SlackAdapter.keep_raw`); hand the rest to Bolt."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        stream = environ["wsgi.input"]
        status = adapter.keep_raw(stream.getvalue(), environ.get("CONTENT_TYPE") or "")
        if status == 200:
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "0")])
            return [b""]
        if status is not None:
            return _refuse(start_response, "400 Bad Request")
        return bolt(environ, start_response)

    return application


def events_app(app: App, adapter: SlackAdapter, signing_secret: str) -> WSGIApp:
    """`POST /slack/events`: the signature checked first, then the quick acks, then Bolt."""
    return verified(quick_acks(SlackRequestHandler(app, path=EVENTS_PATH), adapter), signing_secret)


def wsgi_app(app: App, adapter: SlackAdapter, signing_secret: str) -> WSGIApp:
    """Slack's one URL plus the server's own `/healthz`, as `growthbot serve` serves them."""
    return routes_app({EVENTS_PATH: events_app(app, adapter, signing_secret)})
