"""Slack's Web API from growthbot's side: the client with its retry policy, and the outbox's sender."""

from __future__ import annotations

import html
import http.client
import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web import SlackResponse

from bot.render.slack import render_slack
from handlers.messages import Outbound
from scheduling.pacing import Pacer
from scheduling.tick import ChannelUnavailable, Delivered, NotSent, Outgoing, Recipient, SendLater

log = logging.getLogger(__name__)

EVENT_TYPE = "growthbot_outbox"  # message metadata: {"event_type": EVENT_TYPE, "event_payload": {"key": ...}}
CONCURRENCY = 8  # posts in flight per process; Slack's pace, not this, is the limit (see SlackSender)
HISTORY_LIMIT = 10  # messages per conversations.history page when looking for an earlier attempt ...
HISTORY_PAGES = 3  # ... and pages at most, stopping early at messages older than the row
HISTORY_MARGIN = 300.0  # seconds of clock difference allowed between this host and Slack
MAX_RATE_LIMITED = 5  # 429s in a row for one call before its row goes back to the outbox
MAX_UNANSWERED = 4  # 5xx or dropped connections in a row for one call before its row goes back
POST, READ = "post", "read"  # Slack limits posting and Tier 3 reads (history, open) separately
_AMBIGUOUS = (OSError, http.client.HTTPException, SlackRequestError)  # the request may have reached Slack
CHANNEL_REFUSALS = ("not_in_channel", "channel_not_found", "is_archived")  # a channel post retrying won't fix
_CHANNEL_REF = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")


def channel_target(name: str) -> str:
    """What chat.postMessage takes for a channel as a person typed it: `<#C123|x>` and `C123` as the id, a name
    (`#grade4-plc`) as it is (Slack looks names up)."""
    name = name.strip()
    found = _CHANNEL_REF.fullmatch(name)
    return found.group(1) if found else name


def web_client(token: str, base_url: str, rate_limit_retries: int = 5) -> WebClient:
    """A Web API client that waits out 429s (honouring Retry-After) and retries 5xx and network errors.

    The outbox's sender uses its own copy of the client without these handlers (see SlackSender).
    """
    if not base_url.endswith("/"):
        base_url += "/"
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
            ServerErrorRetryHandler(max_retry_count=4),
            ConnectionErrorRetryHandler(max_retry_count=4),
        ],
    )


class _Attempt:
    """What one delivery attempt knows: whether anything of it may have reached Slack unseen."""

    def __init__(self, uncertain: bool) -> None:
        self.maybe_sent = uncertain


class SlackSender:
    """Sends outbox rows as DMs, several at once, at the pace Slack allows, and never one twice.

    - One row is one post: a message (blocks, with the row's idempotency key in its `metadata`), or a file share
      (the .ics invite) with the message as its initial comment.
    - No `conversations.open` per message: a post names the person's user id as its channel (Slack posts it in
      the app's DM with them) and the DM channel id it answers with is kept in memory for the file shares and
      history checks that need one.
    - Pace: per workspace, posts and Tier 3 reads each have a `Pacer`. A 429 pauses every post of the workspace
      for Retry-After and sets the pace to what Slack accepted; `concurrency` posts are in flight meanwhile.
    - Never twice: the client retries nothing itself. A 5xx or a dropped connection may come after Slack took
      the post, so before posting again the sender looks in the DM's recent history for it; a row whose earlier
      attempt ended unseen (its worker died) arrives `uncertain` and is looked for before its first post here.
      A post is recognised by the key in its metadata; a file share (which cannot carry metadata) by its file
      names and its initial comment.
    """

    def __init__(
        self,
        client: WebClient,
        concurrency: int = CONCURRENCY,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            headers=dict(client.headers or {}),
            retry_handlers=[],
        )
        self.concurrency = concurrency
        self._sleep = sleep
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._channels: dict[tuple[str, str], str] = {}
        self._pacers: dict[tuple[str, str], Pacer] = {}

    # -- the ticker's entry points ---------------------------------------------------------------------

    def send(self, recipient: Recipient, payload: dict[str, Any]) -> None:
        """A post with no idempotency key (nothing to look for later); the outbox uses `deliver`."""
        self._deliver(recipient, payload, key="", since=0.0, attempt=_Attempt(False))

    def deliver(self, item: Outgoing) -> Delivered:
        attempt = _Attempt(item.uncertain)
        try:
            return self._deliver(item.recipient, item.payload, item.key, item.since.timestamp(), attempt)
        except ChannelUnavailable:
            raise  # Slack said why it will not post there: nothing went out
        except (SendLater, NotSent) as error:
            if attempt.maybe_sent:
                if isinstance(error, NotSent):
                    raise RuntimeError(f"{error} (after an attempt whose outcome is unknown)") from error
                error.maybe_sent = True
            raise

    def pacer(self, workspace: str, kind: str) -> Pacer:
        with self._lock:
            found = self._pacers.get((workspace, kind))
            if found is None:
                found = self._pacers[(workspace, kind)] = Pacer(monotonic=self._monotonic, sleep=self._sleep)
            return found

    # -- one row ---------------------------------------------------------------------------------------

    def _deliver(
        self, recipient: Recipient, payload: dict[str, Any], key: str, since: float, attempt: _Attempt
    ) -> Delivered:
        if recipient.user_id.startswith("pending:"):
            raise SendLater(timedelta(hours=1), f"{recipient.user_id} is not matched to a Slack account yet")
        parts = [render_slack(Outbound.model_validate(m)) for m in payload.get("messages", [])]
        text = "\n\n".join(part["text"] for part in parts)
        attachments = payload.get("attachments") or []
        blocks = [block for part in parts for block in part["blocks"]]
        channel = str((payload.get("channel") or {}).get("name") or "")
        if channel:
            return self._post_in_channel(recipient, channel, text, blocks, key, since, attempt)
        if attachments:
            return self._share_files(recipient, text, attachments, since, attempt)
        return self._post(recipient, text, blocks, key, since, attempt)

    def _post_in_channel(
        self, recipient: Recipient, name: str, text: str, blocks: list[dict[str, Any]], key: str, since: float,
        attempt: _Attempt,
    ) -> Delivered:  # fmt: skip
        """A team's channel (a PLC check-in): posted straight to it, never through a DM.

        Slack's "not in channel" or "no such channel" is a ChannelUnavailable: the tick then sends it to each member
        and tells the person it was for how to invite the bot. Before a repeat, the channel's history is read when
        the bot may (`channels:history`); without that scope the post is made again.
        """
        target = channel_target(name)

        def posted(message: dict[str, Any]) -> bool:
            metadata = message.get("metadata") or {}
            return metadata.get("event_type") == EVENT_TYPE and (metadata.get("event_payload") or {}).get("key") == key

        def look() -> bool:
            with self._lock:
                known = target if target[:1] in ("C", "G") else self._channels.get((recipient.workspace, target))
            if known is None:
                return False
            try:
                return self._found(recipient, known, since, posted)
            except NotSent:
                log.info("can't read the history of channel %s to look for an earlier post; posting", known)
                return False

        if attempt.maybe_sent and key and look():
            return "found"
        attempt.maybe_sent = False
        metadata = {"event_type": EVENT_TYPE, "event_payload": {"key": key}} if key else None

        def call() -> SlackResponse:
            return self.client.chat_postMessage(channel=target, text=text, blocks=blocks, metadata=metadata)

        try:
            response = self._call(recipient.workspace, POST, attempt, call, look=look if key else None)
        except NotSent as refused:
            reason = next((r for r in CHANNEL_REFUSALS if r in str(refused)), None)
            if reason is None:
                raise
            raise ChannelUnavailable(name, reason) from refused
        if isinstance(response, SlackResponse) and response.get("channel"):
            with self._lock:
                self._channels[(recipient.workspace, target)] = str(response["channel"])
        return "sent"

    def _post(
        self, recipient: Recipient, text: str, blocks: list[dict[str, Any]], key: str, since: float, attempt: _Attempt
    ) -> Delivered:
        """One message, its key in its metadata; to the user id when the DM channel is not known yet."""

        def posted(message: dict[str, Any]) -> bool:
            metadata = message.get("metadata") or {}
            return metadata.get("event_type") == EVENT_TYPE and (metadata.get("event_payload") or {}).get("key") == key

        def look() -> bool:
            return self._found(recipient, self._channel(recipient), since, posted)

        if attempt.maybe_sent and key and look():
            return "found"
        attempt.maybe_sent = False
        metadata = {"event_type": EVENT_TYPE, "event_payload": {"key": key}} if key else None

        def post(channel: str) -> Any:
            def call() -> SlackResponse:
                return self.client.chat_postMessage(channel=channel, text=text, blocks=blocks, metadata=metadata)

            return self._call(recipient.workspace, POST, attempt, call, look=look if key else None)

        cached = self._cached(recipient)
        try:
            response = post(cached or recipient.user_id)
        except NotSent as refused:
            if cached or "channel_not_found" not in str(refused):
                raise
            response = post(self._channel(recipient))  # a workspace that will not take a user id: open the DM
        if isinstance(response, SlackResponse) and response.get("channel"):
            self._remember(recipient, str(response["channel"]))
        return "sent"

    def _share_files(
        self, recipient: Recipient, text: str, attachments: list[dict[str, str]], since: float, attempt: _Attempt
    ) -> Delivered:
        """Files (invites) with the message as their comment; known again by their names and that comment."""
        names = sorted(a["filename"] for a in attachments)
        uploads = [
            {"content": a["content"].encode(), "filename": a["filename"], "title": a.get("title", a["filename"])}
            for a in attachments
        ]
        channel = self._channel(recipient)

        def shared(message: dict[str, Any]) -> bool:
            files = sorted(str(f.get("name", "")) for f in message.get("files") or [])
            return files == names and _plain(str(message.get("text", ""))) == _plain(text)

        def look() -> bool:
            return self._found(recipient, channel, since, shared)

        if attempt.maybe_sent and look():
            return "found"
        attempt.maybe_sent = False

        def call() -> SlackResponse:
            return self.client.files_upload_v2(channel=channel, initial_comment=text, file_uploads=uploads)

        self._call(recipient.workspace, POST, attempt, call, look=look)
        return "sent"

    # -- DM channels -------------------------------------------------------------------------------------

    def _cached(self, recipient: Recipient) -> str | None:
        with self._lock:
            return recipient.channel or self._channels.get((recipient.workspace, recipient.user_id))

    def _remember(self, recipient: Recipient, channel: str) -> None:
        if channel.startswith("D"):
            with self._lock:
                self._channels[(recipient.workspace, recipient.user_id)] = channel

    def _channel(self, recipient: Recipient) -> str:
        """The person's DM channel id: known already, or one `conversations.open` (Tier 3) per person."""
        cached = self._cached(recipient)
        if cached:
            return cached

        def call() -> SlackResponse:
            return self.client.conversations_open(users=recipient.user_id)

        response = self._call(recipient.workspace, READ, _Attempt(False), call)
        channel = str(response["channel"]["id"])
        self._remember(recipient, channel)
        return channel

    # -- looking for an earlier attempt ----------------------------------------------------------------

    def _found(self, recipient: Recipient, channel: str, since: float, match: Callable[[dict[str, Any]], bool]) -> bool:
        """Whether the DM already shows this row: its newest messages, back to shortly before the row was due."""
        cursor: str | None = None
        for _page in range(HISTORY_PAGES):

            def call(cursor: str | None = cursor) -> SlackResponse:
                return self.client.conversations_history(
                    channel=channel, limit=HISTORY_LIMIT, include_all_metadata=True, cursor=cursor
                )

            response = self._call(recipient.workspace, READ, _Attempt(False), call)
            messages = list(response.get("messages") or [])
            if any(match(message) for message in messages):
                return True
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or cursor is None or not messages:
                return False
            if min(float(message.get("ts") or 0) for message in messages) < since - HISTORY_MARGIN:
                return False
        log.warning("outbox check: over %s messages in a DM since its row was due", HISTORY_LIMIT * HISTORY_PAGES)
        return False

    # -- one Web API call at Slack's pace ------------------------------------------------------------------

    def _call(
        self,
        workspace: str,
        kind: str,
        attempt: _Attempt,
        call: Callable[[], Any],
        look: Callable[[], bool] | None = None,
    ) -> Any:
        """Make `call` when the workspace's pace allows; wait out 429s; retry 5xx and dropped connections.

        `look` marks a call that must not be repeated blindly (a post): after a failure that may have come once
        Slack had taken it, `look()` checks, and the call is repeated only if Slack has not got it. A call
        without `look` is safe to repeat (a read). Returns the response, or None if `look` found it there.
        """
        pacer = self.pacer(workspace, kind)
        limited = unanswered = 0
        while True:
            pacer.acquire()
            try:
                response = call()
            except SlackApiError as error:
                status = error.response.status_code
                if status == 429:
                    wait = _retry_after(error.response)
                    pacer.limited(wait)
                    limited += 1
                    if limited > MAX_RATE_LIMITED:
                        after = timedelta(seconds=max(wait, 1.0))
                        raise SendLater(after, "Slack is still rate limiting after retries") from error
                    continue
                if status < 500:
                    raise NotSent(f"Slack refused it: {error.response.get('error') or status}") from error
                failure: Exception = error
            except _AMBIGUOUS as error:
                failure = error
            else:
                pacer.succeeded()
                return response
            unanswered += 1
            if look is not None:
                attempt.maybe_sent = True
            if unanswered > MAX_UNANSWERED:
                raise failure
            log.info("Slack did not answer (%s); trying again in %.1f s", type(failure).__name__, _backoff(unanswered))
            self._sleep(_backoff(unanswered))
            if look is not None:
                if look():
                    return None
                attempt.maybe_sent = False


def _retry_after(response: SlackResponse) -> float:
    """Slack's Retry-After in seconds (30 if it sent none)."""
    value = next((v for k, v in (response.headers or {}).items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(float(value if value is not None else 30), 0.0)
    except (TypeError, ValueError):
        return 30.0


def _backoff(failures: int) -> float:
    """0.5, 1, 2, 4 s: a passing hiccup is ridden out, an outage goes back to the outbox's own backoff."""
    return 0.5 * 2 ** (failures - 1)


_LINK = re.compile(r"<([^<>|]*)\|([^<>]*)>")


def _plain(text: str) -> str:
    """Message text as compared across a round trip through Slack: links as their labels, entities and spacing
    undone, so a file share found in the history is recognised even if Slack reformatted its comment."""
    text = _LINK.sub(lambda m: m.group(2), text)
    text = re.sub(r"<([^<>]*)>", lambda m: m.group(1), text)
    return " ".join(html.unescape(text).split())
