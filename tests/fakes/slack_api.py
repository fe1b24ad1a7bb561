"""A fake Slack Web API on a free local port: records every call, can answer 429s and 500s on demand.

It keeps each channel's messages (posts with their `metadata`, and file shares with their initial comment), so
`conversations.history` answers as Slack does, newest first, in pages. Optionally it behaves like Slack under
load: `latency` seconds before every answer, and a workspace-wide limit on posting (`rate_limit` messages per
second with a `burst` allowance, a token bucket) above which posts get 429 with Retry-After.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

POSTING = ("chat.postMessage", "files.completeUploadExternal")  # what the workspace posting limit counts
BOT_USER = "UBOT"

Answer = tuple[int, dict[str, str], dict[str, Any]]


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Fault:
    status: int
    headers: dict[str, str]
    applied: bool  # do what was asked, then answer the error anyway (the answer got lost on its way back)


class FakeSlackAPI:
    """Start with `with FakeSlackAPI() as api:`; point `SLACK_API_URL` at `api.url`."""

    def __init__(
        self,
        tz: str = "America/Chicago",
        latency: float = 0.0,
        rate_limit: float | None = None,
        burst: float | None = None,
    ) -> None:
        self.calls: list[Call] = []
        self.tz = tz
        self.latency = latency
        self.rate_limit = rate_limit
        self.burst = burst if burst is not None else (rate_limit or 0.0)
        self._tokens = self.burst
        self._refilled = time.monotonic()
        self._lock = threading.Lock()
        self._last_ts = 0.0
        self._faults: dict[str, list[_Fault]] = {}
        self.emails: dict[str, str] = {}  # users.lookupByEmail: address -> user id
        self.zones: dict[str, str] = {}  # users.info: user id -> tz, when not the default `tz`
        self.uploads: dict[str, bytes] = {}  # file id -> bytes uploaded through files_upload_v2
        self.filenames: dict[str, str] = {}  # file id -> the name given to files.getUploadURLExternal
        self.history: dict[str, list[dict[str, Any]]] = {}  # channel -> its messages, oldest first
        self.keys: Counter[str] = Counter()  # outbox idempotency key -> posts that carried it
        # Per-test answers for a method: params -> (status, headers, body); tried before the built-in ones.
        self.answers: dict[str, Callable[[dict[str, Any]], Answer]] = {}
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                self._reply(parts.path.strip("/").split("/")[-1], params)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if self.path.startswith("/upload/"):
                    api._store_upload(self.path.rsplit("/", 1)[-1], self.rfile.read(length))
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"OK")
                    return
                raw = self.rfile.read(length).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw).items()}
                self._reply(urlsplit(self.path).path.strip("/").split("/")[-1], params)

            def _reply(self, method: str, params: dict[str, Any]) -> None:
                if api.latency:
                    time.sleep(api.latency)  # the client may give up meanwhile; Slack would still act
                status, headers, body = api._answer(method, params)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client went away (killed mid-request): what was done stays done

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the default of 5 refuses bursts of concurrent clients

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        self.respond_url = f"http://127.0.0.1:{self.server.server_address[1]}/respond/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSlackAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- scripting -----------------------------------------------------------------------------------

    def fail_next(
        self, method: str, status: int, times: int = 1, retry_after: int | None = None, applied: bool = False
    ) -> None:
        """Answer the next `times` calls of `method` with `status` (429 carries Retry-After).

        `applied=True` does what was asked first (the post is made) and then answers the error: Slack took the
        message but the answer never made it back.
        """
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._faults.setdefault(method, []).extend([_Fault(status, headers, applied)] * times)

    def _answer(self, method: str, params: dict[str, Any]) -> Answer:
        with self._lock:
            faults = self._faults.get(method)
            if faults:
                fault = faults.pop(0)
                self.calls.append(Call(f"{method}!{fault.status}", params))
                if fault.applied:
                    self._perform(method, params)
                error = "ratelimited" if fault.status == 429 else "fatal_error"
                return fault.status, fault.headers, {"ok": False, "error": error}
            if method in POSTING and self.rate_limit:
                wait = self._take_token()
                if wait is not None:
                    self.calls.append(Call(f"{method}!429", params))
                    return 429, {"Retry-After": str(wait)}, {"ok": False, "error": "ratelimited"}
            self.calls.append(Call(method, params))
            if method in self.answers:
                return self.answers[method](params)
            return self._perform(method, params)

    def _take_token(self) -> int | None:
        """The workspace posting limit as a token bucket; None if a post may go, else the Retry-After seconds."""
        assert self.rate_limit
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._refilled) * self.rate_limit)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        return max(1, math.ceil((1 - self._tokens) / self.rate_limit))

    def _next_ts(self) -> str:
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _perform(self, method: str, params: dict[str, Any]) -> Answer:
        if method in ("views.open", "views.push", "views.update"):
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return 200, {}, {"ok": True, "view": {"id": f"V{len(self.calls)}", **(view or {})}}
        if method == "auth.test":
            return 200, {}, {"ok": True, "user_id": BOT_USER, "bot_id": "BBOT", "team_id": "T1", "user": "growthbot"}
        if method == "conversations.open":
            return 200, {}, {"ok": True, "channel": {"id": "D" + str(params.get("users", "X"))}}
        if method == "conversations.history":
            return self._history(params)
        if method == "users.info":
            user = params.get("user")
            email = next((address for address, uid in self.emails.items() if uid == user), None)
            profile = {"email": email} if email else {}
            return 200, {}, {"ok": True, "user": {"id": user, "tz": self.zones.get(str(user), self.tz),
                                                  "profile": profile}}  # fmt: skip
        if method == "users.lookupByEmail":
            user_id = self.emails.get(str(params.get("email", "")).lower())
            if user_id is None:
                return 200, {}, {"ok": False, "error": "users_not_found"}
            return 200, {}, {"ok": True, "user": {"id": user_id, "tz": self.zones.get(user_id, self.tz)}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{len(self.uploads) + len(self.calls)}"
            self.filenames[file_id] = str(params.get("filename", ""))
            base = self.url.rsplit("/api/", 1)[0]
            return 200, {}, {"ok": True, "upload_url": f"{base}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            shared = [{"id": f["id"], "title": f.get("title", ""), "name": self.filenames.get(f["id"], "")}
                      for f in files]  # fmt: skip
            channel = params.get("channel_id")
            if channel and not params.get("thread_ts"):
                message = {"type": "message", "ts": self._next_ts(), "user": BOT_USER, "upload": True,
                           "text": params.get("initial_comment", ""), "files": shared}  # fmt: skip
                self.history.setdefault(str(channel), []).append(message)
            return 200, {}, {"ok": True, "files": [{"id": f["id"], "title": f["title"]} for f in shared]}
        if method == "chat.postMessage":
            channel = str(params.get("channel", ""))
            if channel.startswith("U"):  # a user id posts to the app's DM with that person
                channel = params["channel"] = "D" + channel
            ts = self._next_ts()
            params["ts"] = ts  # so tests can click buttons of this message
            if not params.get("thread_ts"):
                metadata = params.get("metadata")
                metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
                message = {"type": "message", "ts": ts, "user": BOT_USER, "bot_id": "BBOT",
                           "text": params.get("text", "")}  # fmt: skip
                if metadata:
                    message["metadata"] = metadata
                    key = (metadata.get("event_payload") or {}).get("key")
                    if key:
                        self.keys[str(key)] += 1
                self.history.setdefault(channel, []).append(message)
            return 200, {}, {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}
        return 200, {}, {"ok": True}

    def _history(self, params: dict[str, Any]) -> Answer:
        """Newest first, `limit` at a time; metadata only with include_all_metadata, as Slack does."""
        messages = list(reversed(self.history.get(str(params.get("channel", "")), [])))
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        page = messages[start : start + limit]
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        if not with_metadata:
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        more = start + limit < len(messages)
        body: dict[str, Any] = {"ok": True, "messages": page, "has_more": more}
        body["response_metadata"] = {"next_cursor": str(start + limit) if more else ""}
        return 200, {}, body

    def _store_upload(self, file_id: str, content: bytes) -> None:
        with self._lock:
            self.uploads[file_id] = content

    # -- reading what happened -----------------------------------------------------------------------

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def count(self, method: str) -> int:
        with self._lock:
            return sum(c.method == method for c in self.calls)

    def wait_for(self, predicate: Callable[[list[Call]], bool], timeout: float = 10.0) -> list[Call]:
        """Bolt answers Slack first and works after, so tests wait for the calls they expect."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                snapshot = list(self.calls)
            if predicate(snapshot):
                return snapshot
            time.sleep(0.01)
        raise AssertionError(f"timed out; calls so far: {[c.method for c in self.calls]}")

    def posts(self) -> list[dict[str, Any]]:
        return [c.params for c in self.of("chat.postMessage")]

    def wait_posts(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        self.wait_for(lambda calls: sum(c.method == "chat.postMessage" for c in calls) >= count, timeout)
        return self.posts()

    def outbox_keys(self) -> Counter[str]:
        """How many posts carried each outbox idempotency key (a post Slack took, whatever it answered)."""
        with self._lock:
            return Counter(self.keys)
