"""Slack's Web API from growthbot's side: the client with its retry policy, and the outbox's sender."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.render.slack import render_slack
from handlers.messages import Outbound
from scheduling.tick import Recipient, SendLater

log = logging.getLogger(__name__)


def web_client(token: str, base_url: str, rate_limit_retries: int = 5) -> WebClient:
    """A Web API client that waits out 429s (honouring Retry-After) and retries 5xx and network errors.

    The outbox's client waits out no 429 itself (`rate_limit_retries=0`): the row goes back with Slack's
    Retry-After instead, so a long wait never outlives the row's lease.
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


class SlackSender:
    """Sends outbox rows as DMs: one row is one post (a message, or a file with the message as its comment).

    The client waits out 429s and retries 5xx itself; what still fails goes back to the outbox for later.
    """

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def send(self, recipient: Recipient, payload: dict[str, Any]) -> None:
        if recipient.user_id.startswith("pending:"):
            raise SendLater(timedelta(hours=1), f"{recipient.user_id} is not matched to a Slack account yet")
        try:
            self._send(recipient, payload)
        except SlackApiError as error:
            if error.response.status_code != 429:
                raise
            wait = max(int(error.response.headers.get("Retry-After") or 30), 1)
            raise SendLater(timedelta(seconds=wait), "Slack is still rate limiting after retries") from error

    def _send(self, recipient: Recipient, payload: dict[str, Any]) -> None:
        channel = self.client.conversations_open(users=recipient.user_id)["channel"]["id"]
        parts = [render_slack(Outbound.model_validate(m)) for m in payload.get("messages", [])]
        text = "\n\n".join(part["text"] for part in parts)
        attachments = payload.get("attachments") or []
        if attachments:
            self.client.files_upload_v2(
                channel=channel,
                initial_comment=text,
                file_uploads=[
                    {
                        "content": a["content"].encode(),
                        "filename": a["filename"],
                        "title": a.get("title", a["filename"]),
                    }
                    for a in attachments
                ],
            )
            return
        self.client.chat_postMessage(channel=channel, text=text, blocks=[b for part in parts for b in part["blocks"]])
