"""Signs and sends requests to growthbot's HTTP app the way Slack does."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
from itertools import count
from typing import Any
from urllib.parse import urlencode

SIGNING_SECRET = "test-signing-secret"
_ids = count(1)


def signature(secret: str, timestamp: str, body: str) -> str:
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


class SlackSender:
    def __init__(self, port: int, secret: str = SIGNING_SECRET, team: str = "T1") -> None:
        self.port = port
        self.secret = secret
        self.team = team

    def send(
        self,
        body: str,
        content_type: str,
        timestamp: int | None = None,
        secret: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature(secret or self.secret, ts, body),
            **(extra_headers or {}),
        }
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("POST", "/slack/events", body=body.encode(), headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def command(
        self, user: str, text: str = "", channel: str = "C1", response_url: str = "", name: str = "/goal", **kw: Any
    ) -> tuple[int, str]:
        form = {
            "token": "x",
            "team_id": self.team,
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": name,
            "text": text,
            "response_url": response_url,
            "trigger_id": f"trigger-{next(_ids)}",
        }
        return self.send(urlencode(form), "application/x-www-form-urlencoded", **kw)

    def dm_reply(
        self,
        user: str,
        text: str,
        thread: str | None,
        event_id: str | None = None,
        subtype: str | None = None,
        **kw: Any,
    ) -> tuple[int, str]:
        event: dict[str, Any] = {
            "type": "message",
            "channel": f"D{user}",
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": f"{time.time():.6f}",
        }
        if thread is not None:
            event["thread_ts"] = thread
        if subtype is not None:
            event["subtype"] = subtype
        body = {
            "token": "x",
            "team_id": self.team,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_ids)}",
            "event_time": int(time.time()),
            "event": event,
        }
        return self.send(json.dumps(body), "application/json", **kw)

    def click(self, user: str, message: dict[str, Any], index: int, **kw: Any) -> tuple[int, str]:
        """Click button `index` of the actions block in `message` (a chat.postMessage call's params)."""
        blocks = message["blocks"] if isinstance(message["blocks"], list) else json.loads(message["blocks"])
        actions = next(b for b in blocks if b["type"] == "actions")
        button = actions["elements"][index]
        payload = {
            "type": "block_actions",
            "team": {"id": self.team},
            "user": {"id": user},
            "api_app_id": "A1",
            "trigger_id": f"trigger-{next(_ids)}",
            "channel": {"id": message["channel"]},
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": message["channel"]},
            "message": {"ts": message["ts"], "thread_ts": message.get("thread_ts") or message["ts"]},
            "actions": [
                {"type": "button", "action_id": button["action_id"], "block_id": actions["block_id"],
                 "value": button["value"], "action_ts": f"{time.time():.6f}"}
            ],
        }  # fmt: skip
        return self.send(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **kw)

    def submit_view(self, user: str, view: dict[str, Any], values: dict[str, Any], **kw: Any) -> tuple[int, str]:
        """Submit a modal `view` (as sent to views.open, with its Slack `id`) with `values` per field name.

        A value is a string, or a list of option values for checkboxes; it is placed where Slack puts each
        element type's state (`value`, `selected_option`, `selected_date`, ...).
        """
        state: dict[str, Any] = {}
        for block in view["blocks"]:
            if block["type"] != "input" or block["block_id"][2:] not in values:
                continue
            element, value = block["element"], values[block["block_id"][2:]]
            kind = element["type"]
            if kind in ("radio_buttons", "static_select"):
                entry = {
                    "type": kind,
                    "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
                }
            elif kind in ("checkboxes", "multi_static_select"):
                entry = {"type": kind, "selected_options": [{"value": v} for v in value]}
            elif kind == "datepicker":
                entry = {"type": kind, "selected_date": value}
            elif kind == "timepicker":
                entry = {"type": kind, "selected_time": value}
            else:
                entry = {"type": kind, "value": value}
            state[block["block_id"]] = {element["action_id"]: entry}
        payload = {
            "type": "view_submission",
            "team": {"id": self.team},
            "user": {"id": user, "name": user.lower()},
            "api_app_id": "A1",
            "view": {**view, "state": {"values": state}, "hash": f"h{next(_ids)}"},
        }
        return self.send(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **kw)
