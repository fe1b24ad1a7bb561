"""A fake Slack Web API on a free local port: records every call, can answer 429s and 500s on demand."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class FakeSlackAPI:
    """Start with `with FakeSlackAPI() as api:`; point `SLACK_API_URL` at `api.url`."""

    def __init__(self, tz: str = "America/Chicago") -> None:
        self.calls: list[Call] = []
        self.tz = tz
        self._lock = threading.Lock()
        self._ts = 1700000000.000100
        self._faults: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.emails: dict[str, str] = {}  # users.lookupByEmail: address -> user id
        self.zones: dict[str, str] = {}  # users.info: user id -> tz, when not the default `tz`
        self.uploads: dict[str, bytes] = {}  # file id -> bytes uploaded through files_upload_v2
        # Per-test answers for a method: params -> (status, headers, body); tried before the built-in ones.
        self.answers: dict[str, Callable[[dict[str, Any]], tuple[int, dict[str, str], dict[str, Any]]]] = {}
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

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
                method = self.path.strip("/").split("/")[-1]
                status, headers, body = api._answer(method, params)
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

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

    def fail_next(self, method: str, status: int, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next `times` calls of `method` with `status` (429 carries Retry-After)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._faults.setdefault(method, []).extend([(status, headers)] * times)

    def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            faults = self._faults.get(method)
            if faults:
                status, headers = faults.pop(0)
                self.calls.append(Call(f"{method}!{status}", params))
                return status, headers, {"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"}
            self.calls.append(Call(method, params))
            if method in self.answers:
                return self.answers[method](params)
            if method in ("views.open", "views.push", "views.update"):
                view = params.get("view")
                view = json.loads(view) if isinstance(view, str) else view
                return 200, {}, {"ok": True, "view": {"id": f"V{len(self.calls)}", **(view or {})}}
            if method == "auth.test":
                return 200, {}, {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "growthbot"}
            if method == "conversations.open":
                return 200, {}, {"ok": True, "channel": {"id": "D" + str(params.get("users", "X"))}}
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
                base = self.url.rsplit("/api/", 1)[0]
                return 200, {}, {"ok": True, "upload_url": f"{base}/upload/{file_id}", "file_id": file_id}
            if method == "files.completeUploadExternal":
                files = params.get("files")
                files = json.loads(files) if isinstance(files, str) else files
                return 200, {}, {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}
            if method == "chat.postMessage":
                self._ts += 1
                ts = f"{self._ts:.6f}"
                params["ts"] = ts  # so tests can click buttons of this message
                return 200, {}, {"ok": True, "channel": params.get("channel"), "ts": ts, "message": {"ts": ts}}
            return 200, {}, {"ok": True}

    def _store_upload(self, file_id: str, content: bytes) -> None:
        with self._lock:
            self.uploads[file_id] = content

    # -- reading what happened -----------------------------------------------------------------------

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

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
