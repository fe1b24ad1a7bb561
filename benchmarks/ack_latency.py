"""Ack latency of growthbot's Slack HTTP app next to a bare Bolt app, both served by the same waitress setup.

Run from the repository root (`make bench` runs it without options):

    .venv/bin/python benchmarks/ack_latency.py [--requests N] [--out docs/PERFORMANCE.md] [--api-delay-ms MS]

What is measured: the time from sending a signed request (a `/goal` slash command as a form post, or a
`message.im` thread reply as a JSON `event_callback`) until its HTTP response has been read. That response is
the "ack" Slack waits 3 seconds for; after that it retries an event, and shows the person an error for a command.

Each app runs in its own child process (so the load generator does not share a GIL with the server):
`wsgi_app(...)` served by `make_server` (waitress) on 127.0.0.1 port 0, the Web API pointed at a FakeSlackAPI
in a process of its own, as Slack is (answering at once, or `--api-delay-ms` later, closer to the real Slack).
growthbot uses a fresh
SQLite database in a temp dir, migrated by `bot.app.build`. The bare app is `slack_bolt.App` with the same
signing secret and Web API client and two no-op listeners.

The load generator is this process: at each concurrency level, that many threads share a fixed number of
requests; each thread keeps one HTTP/1.1 keep-alive connection (or opens one per request with
`--new-connections`) and sends its next request as soon as the previous one is answered. Everything is loopback,
every loop is bounded, and the run stops by itself. `--out` rewrites only this benchmark's section of the file
(one section per `--api-delay-ms` value) and keeps the rest.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import multiprocessing
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from itertools import count
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.settings import Settings  # noqa: E402
from tests.fakes.slack_api import FakeSlackAPI  # noqa: E402
from tests.fakes.slack_client import SIGNING_SECRET, signature  # noqa: E402

TOKEN = "xoxb-bench"
TEAM = "T1"
EVENTS_PATH = "/slack/events"
APPS = ("growthbot", "bare Bolt")
KINDS = ("command", "message")
KIND_TITLES = {"command": "`/goal` slash command", "message": "`message.im` thread reply"}
COMMAND_USERS = 100  # /goal senders, cycled; each /goal in a DM opens a new conversation
OPEN_CONVERSATIONS = 60  # prepared before the message runs; replies cycle over them
REPLY_TEXT = "not sure yet"  # not one of the goal-type choices: the coach re-asks, the conversation stays put
SECTION = "## Ack latency: growthbot vs bare Bolt"
SLACK_ACK_DEADLINE_MS = 3000.0
DEFAULT_THREADS: int = Settings.model_fields["http_threads"].default  # what `growthbot serve` uses


# -- the server side (runs in a child process) -----------------------------------------------------------


class _Tally(logging.Handler):
    """Counts warnings and errors logged in the server process (listener errors, missed acks, ...)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.lock_ = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        with self.lock_:
            if record.name == "waitress.queue":  # "Task queue depth is N": all waitress threads were busy
                depth = int(re.sub(r"\D", "", message) or 0)
                self.counts["waitress queue depth (max)"] = max(self.counts["waitress queue depth (max)"], depth)
                self.counts["waitress queued requests"] += 1
                return
            self.counts[f"{record.levelname} {record.name}: {re.sub(r'[0-9a-fA-F]{6,}', '…', message)[:80]}"] += 1


def _fake_api(api_delay: float, conn: Connection) -> None:
    """Child process: the fake Web API, away from the app's GIL as Slack is; it answers the app's questions."""
    with FakeSlackAPI() as api:
        if api_delay > 0:  # Slack's real Web API answers in tens to hundreds of ms, not in a loopback instant
            answer = api._answer

            def slow_answer(method: str, params: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
                time.sleep(api_delay)
                return answer(method, params)

            api._answer = slow_answer  # type: ignore[method-assign]
        conn.send(api.url)
        while True:
            order = conn.recv()
            if order == "calls":
                conn.send(len(api.calls))
            elif order == "posts":
                conn.send(len(api.of("chat.postMessage")))
            elif order == "threads":
                roots: dict[str, str] = {}
                for post in api.posts():
                    if not post.get("thread_ts"):
                        roots.setdefault(post["channel"], post["ts"])
                conn.send(roots)
            else:
                break


class _RemoteApi:
    """The app process's handle on the fake Web API's process."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.lock = threading.Lock()

    def ask(self, order: str) -> Any:
        with self.lock:
            self.conn.send(order)
            return self.conn.recv()


def _drain(runtime: Any, api: _RemoteApi, quiet: float = 0.3, limit: float = 120.0) -> float:
    """Wait until the kept requests are all handled (growthbot's inbox is empty and the Web API is quiet);
    return how long that took (-1: gave up). The bare app does no work after its ack."""
    from storage import inbox

    started = last_change = time.monotonic()
    last = -1
    while time.monotonic() - started < limit:
        calls = api.ask("calls")
        pending = inbox.pending(runtime.db) if runtime is not None else 0
        now = time.monotonic()
        if calls != last or pending:
            last, last_change = calls, now
        elif now - last_change >= quiet:
            return max(0.0, last_change - started)
        time.sleep(0.05)
    return -1.0


def _serve(which: str, threads: int, api_url: str, api_conn: Connection, conn: Connection) -> None:
    """Child process: one app under waitress, its Web API the fake's process, then obey the parent's pipe."""
    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    from bot.adapters.slack import build_slack_app, wsgi_app
    from bot.adapters.slack_web import web_client
    from bot.app import build
    from bot.http_server import SWITCH_INTERVAL, Traffic, freeze_startup, make_server, routes_app
    from bot.serve import Platform, start_drain

    tally = _Tally()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().addHandler(tally)
    queue_log = logging.getLogger("waitress.queue")  # one line per queued request: counted, not printed
    queue_log.propagate = False
    queue_log.addHandler(tally)
    runtime = None
    drained_by_others = False
    traffic = None
    api = _RemoteApi(api_conn)
    with tempfile.TemporaryDirectory(prefix="growthbot-bench-") as tmp:
        client = web_client(TOKEN, api_url)
        if which == "growthbot":
            settings = Settings(
                _env_file=None,
                database_url=f"sqlite:///{tmp}/bench.db",
                slack_bot_token=TOKEN,
                slack_signing_secret=SIGNING_SECRET,
                slack_api_url=api_url,
            )
            runtime = build(settings)
            app, adapter = build_slack_app(runtime, client)
            wsgi = wsgi_app(app, adapter, SIGNING_SECRET)
            platform = Platform(
                "slack",
                adapter.handle_item,
                None,
                adapter.deliver_all,  # type: ignore[arg-type]
                lambda wake: setattr(adapter, "wake", wake),
            )
            traffic = Traffic()  # as `growthbot serve` does: its drain waits for gaps between requests
            if settings.listener_threads > 0:  # LISTENER_THREADS=0: keep and ack only, to see the ack path alone
                start_drain(runtime, [platform], traffic=traffic)
            else:
                drained_by_others = True
        else:
            # The strongest fair baseline: Bolt acking in the request thread, with no work after the ack.
            app = App(client=client, signing_secret=SIGNING_SECRET, process_before_response=True)

            @app.command("/goal")
            def on_goal(ack: Any) -> None:
                ack()

            @app.event("message")
            def on_message() -> None:
                pass

            wsgi = routes_app({"/slack/events": SlackRequestHandler(app, path="/slack/events")})
            sys.setswitchinterval(SWITCH_INTERVAL)  # the same GIL slices as growthbot's server, to be fair

        server = make_server(wsgi, "127.0.0.1", 0, threads, traffic=traffic)
        freeze_startup()  # as `growthbot serve` does; for both apps, to be fair
        server_thread = threading.Thread(target=server.run, name="waitress", daemon=True)
        server_thread.start()
        threads_after_ack = runtime.settings.listener_threads if runtime is not None else 0
        conn.send({"port": server.effective_port, "executor_threads": threads_after_ack})
        try:
            while True:
                order = conn.recv()
                if order == "drain":
                    drained = _drain(None if drained_by_others else runtime, api)
                    with tally.lock_:
                        logged = dict(tally.counts)
                    conn.send({"drain_s": drained, "posts": api.ask("posts"), "logged": logged})
                elif order == "threads":
                    conn.send(api.ask("threads"))
                else:
                    break
        finally:
            # No server.close(): closing waitress's sockets under its running loop makes select() fail noisily.
            # The loop thread is a daemon and goes with the process, which ends right after this.
            if runtime is not None:
                runtime.db.dispose()
            api_conn.send("stop")
    conn.close()


class Server:
    """The parent's handle on one child process."""

    def __init__(self, name: str, which: str, threads: int, api_delay: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.name = name
        api_pipe, api_child = ctx.Pipe()
        self.api = ctx.Process(target=_fake_api, args=(api_delay, api_child), name=f"bench-api-{which}", daemon=True)
        self.api.start()
        api_child.close()
        if not api_pipe.poll(60):
            raise RuntimeError(f"{name}'s fake Web API did not start")
        api_url = api_pipe.recv()
        self.pipe, child = ctx.Pipe()
        arguments = (which, threads, api_url, api_pipe, child)
        self.process = ctx.Process(target=_serve, args=arguments, name=f"bench-{which}", daemon=True)
        self.process.start()
        child.close()
        api_pipe.close()  # the app's process talks to it from now on
        if not self.pipe.poll(120):
            raise RuntimeError(f"{name} server did not start")
        hello = self.pipe.recv()
        self.port: int = hello["port"]
        self.executor_threads = hello["executor_threads"]

    def ask(self, order: str, timeout: float = 180.0) -> Any:
        self.pipe.send(order)
        if not self.pipe.poll(timeout):
            raise RuntimeError(f"{self.name} server did not answer {order!r}")
        return self.pipe.recv()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.pipe.send("stop")
        for process in (self.process, self.api):
            process.join(30)
            if process.is_alive():
                process.terminate()
                process.join(5)


# -- the client side ---------------------------------------------------------------------------------------

_ids = count(1)
_run = uuid.uuid4().hex[:8]


def command_body(user: str) -> tuple[str, str]:
    n = next(_ids)
    form = {
        "token": "x",
        "team_id": TEAM,
        "channel_id": f"D{user}",
        "channel_name": "directmessage",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/goal",
        "text": "",
        "response_url": "",
        "trigger_id": f"trigger-{_run}-{n}",
    }
    return urlencode(form), "application/x-www-form-urlencoded"


def reply_body(user: str, thread: str, text: str = REPLY_TEXT) -> tuple[str, str]:
    n = next(_ids)
    now = time.time()
    body = {
        "token": "x",
        "team_id": TEAM,
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": f"Ev{_run}{n}",  # unique, or growthbot's dedupe table would short-circuit it
        "event_time": int(now),
        "event": {
            "type": "message",
            "channel": f"D{user}",
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": f"{now:.6f}",
            "thread_ts": thread,
        },
    }
    return json.dumps(body), "application/json"


@dataclass
class Phase:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    elapsed_s: float = 0.0

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        if len(ordered) == 1:
            return ordered[0]
        return statistics.quantiles(ordered, n=100, method="inclusive")[round(q * 100) - 1]

    def merge(self, other: Phase) -> None:
        self.latencies_ms.extend(other.latencies_ms)
        self.statuses.update(other.statuses)
        self.elapsed_s += other.elapsed_s

    @property
    def p50(self) -> float:
        return self.quantile(0.50)

    @property
    def p99(self) -> float:
        return self.quantile(0.99)

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def failures(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)


def run_phase(port: int, make: Callable[[int], tuple[str, str]], total: int, clients: int, keep_alive: bool) -> Phase:
    """`clients` threads send `total` signed requests between them; each waits for its answer before the next."""
    lock = threading.Lock()
    indices = iter(range(total))
    results: list[tuple[float, int]] = []
    start = threading.Barrier(clients + 1)

    def client() -> None:
        mine: list[tuple[float, int]] = []
        connection: http.client.HTTPConnection | None = None
        start.wait()
        while True:
            with lock:
                index = next(indices, None)
            if index is None:
                break
            body, content_type = make(index)
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature(SIGNING_SECRET, stamp, body),
            }
            payload = body.encode()
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            began = time.perf_counter()
            try:
                connection.request("POST", EVENTS_PATH, body=payload, headers=headers)
                response = connection.getresponse()
                response.read()
                status, closing = response.status, response.will_close
            except (OSError, http.client.HTTPException):
                status, closing = 0, True
            mine.append(((time.perf_counter() - began) * 1000.0, status))
            if closing or not keep_alive:
                connection.close()
                connection = None
        if connection is not None:
            connection.close()
        with lock:
            results.extend(mine)

    workers = [threading.Thread(target=client, name=f"client-{i}", daemon=True) for i in range(clients)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join(300)
    phase = Phase(elapsed_s=time.perf_counter() - began)
    for latency, status in results:
        phase.latencies_ms.append(latency)
        phase.statuses[status] += 1
    return phase


# -- the run -----------------------------------------------------------------------------------------------


@dataclass
class Cell:
    phase: Phase
    drain_s: float
    posts: int


def fmt(value: float) -> str:
    return "n/a" if value != value else (f"{value:.1f}" if value < 100 else f"{value:.0f}")


def ratio(a: float, b: float) -> str:
    return "n/a" if not b or a != a or b != b else f"{a / b:.2f}×"


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else (platform.processor() or "unknown CPU")


def code_version() -> str:
    """The commit measured, and whether the working tree differed from it."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)

    try:
        rev = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if rev.returncode != 0:
        return "unknown"
    return rev.stdout.strip() + (" with uncommitted changes" if dirty.stdout.strip() else "")


def machine() -> dict[str, str]:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("slack-bolt", "slack-sdk", "waitress"))
    return {
        "nproc": str(cpus),
        "cpu": cpu_model(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(terse=True),
        "libs": versions,
        "code": code_version(),
        "load": load_average(),
    }


def load_average() -> str:
    """The 1/5/15-minute load average: the machine is shared, and a loaded one inflates every latency."""
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def build_table(cells: dict[tuple[str, int, str], Cell], levels: list[int]) -> str:
    lines = [
        "| Request | Clients | growthbot p50 | growthbot p99 | bare p50 | bare p99 | p50 ratio | p99 ratio |"
        " growthbot req/s | bare req/s | non-200 (g/b) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in KINDS:
        for level in levels:
            g, b = cells[(kind, level, APPS[0])].phase, cells[(kind, level, APPS[1])].phase
            lines.append(
                f"| {KIND_TITLES[kind]} | {level} | {fmt(g.p50)} | {fmt(g.p99)} | {fmt(b.p50)} | {fmt(b.p99)} "
                f"| {ratio(g.p50, b.p50)} | {ratio(g.p99, b.p99)} | {g.rate:.0f} | {b.rate:.0f} "
                f"| {g.failures}/{b.failures} |"
            )
    return "\n".join(lines)


def reading(
    cells: dict[tuple[str, int, str], Cell], levels: list[int], logged: dict[str, int], threads: int
) -> list[str]:
    """A few sentences computed from the figures, so they stay true when the benchmark is re-run."""
    out: list[str] = []
    g_cells = {k: c for k, c in cells.items() if k[2] == APPS[0]}
    worst_key, worst = max(g_cells.items(), key=lambda kv: kv[1].phase.p99)
    out.append(
        f"- Worst growthbot p99: {fmt(worst.phase.p99)} ms ({KIND_TITLES[worst_key[0]]}, {worst_key[1]} clients), "
        f"{worst.phase.p99 / SLACK_ACK_DEADLINE_MS:.1%} of Slack's 3-second ack deadline."
    )
    over = sum(1 for c in g_cells.values() for x in c.phase.latencies_ms if x >= SLACK_ACK_DEADLINE_MS)
    failures = sum(c.phase.failures for c in cells.values())
    out.append(
        f"- growthbot acks at or over 3 s (too late for Slack; Bolt itself stops waiting for `ack()` after 3 s and "
        f"answers anyway): {over}. Non-200 answers in all measured runs, both apps: {failures}."
    )
    for kind in KINDS:
        ratios = []
        for level in levels:
            g, b = cells[(kind, level, APPS[0])].phase, cells[(kind, level, APPS[1])].phase
            ratios.append(f"{level}: {ratio(g.p50, b.p50)} / {ratio(g.p99, b.p99)}")
        out.append(f"- {KIND_TITLES[kind]}, growthbot/bare p50 / p99 by clients — " + "; ".join(ratios) + ".")
    for kind in KINDS:
        drains = " / ".join(f"{cells[(kind, level, APPS[0])].drain_s:.1f}" for level in levels)
        sent = sum(len(cells[(kind, level, APPS[0])].phase.latencies_ms) for level in levels)
        posts = sum(cells[(kind, level, APPS[0])].posts for level in levels)
        out.append(
            f"- {KIND_TITLES[kind]}: growthbot's inbox drain was still at work up to {drains} s after a level's last "
            f"ack ({' / '.join(map(str, levels))} clients; until its Web API calls stopped). It posted {posts} "
            f"messages for {sent} requests."
        )
    depth = logged.pop("waitress queue depth (max)", 0)
    queued = logged.pop("waitress queued requests", 0)
    if depth:
        out.append(
            f"- In growthbot's process, waitress queued {queued} requests because all {threads} of its threads were "
            f"busy (deepest queue: {depth}); a queued request's wait for a thread is part of its ack latency."
        )
    if logged:
        top = sorted(logged.items(), key=lambda kv: -kv[1])[:5]
        out.append(
            "- Warnings/errors logged by the growthbot process: " + "; ".join(f"{n}× `{m}`" for m, n in top) + "."
        )
    else:
        out.append("- The growthbot process logged no warnings or errors during the run.")
    return out


def render_section(
    cells: dict[tuple[str, int, str], Cell],
    args: argparse.Namespace,
    levels: list[int],
    info: dict[str, str],
    when: str,
    seconds: float,
    logged: dict[str, int],
    command_line: str,
    executor_threads: object,
) -> str:
    connections = "a new TCP connection per request" if args.new_connections else "one HTTP/1.1 keep-alive connection"
    default = ", growthbot's default `HTTP_THREADS`" if args.threads == DEFAULT_THREADS else ""
    api_note = f" that waits {args.api_delay_ms} ms before each answer" if args.api_delay_ms else " (answers at once)"
    method = f"""- **What is measured:** ack latency, from sending a signed request to having read its HTTP response
  (the response Slack waits up to 3 s for). Requests are signed exactly as Slack signs them
  (`X-Slack-Signature`, v0 HMAC-SHA256); signing happens before the clock starts.
  - `/goal` slash commands: form posts from {COMMAND_USERS} users (cycled) in their DM with the bot; in growthbot
    each one starts a new coaching conversation (DB write, `chat.postMessage`; `conversations.open` once per user).
  - `message.im` events: JSON `event_callback`s replying `{REPLY_TEXT}` in the DM threads of
    {OPEN_CONVERSATIONS} conversations opened beforehand through `/goal` (growthbot re-asks the goal-type step, so
    each reply is a full turn: dedupe claim, person and conversation lookup, state update, one reply post).
    Every event id is unique. The bare app gets the same payloads.
- **Servers:** each app in its own process: `wsgi_app(...)` served by `make_server` (waitress, {args.threads}
  threads{default}) on 127.0.0.1, its Web API calls going to a FakeSlackAPI in a process of its own, as
  Slack is{api_note}.
  growthbot: `build_slack_app` on a fresh SQLite file migrated by `bot.app.build`; in the request thread it checks
  the signature, writes the request to the inbox and acks; its inbox drain then does the work on
  {executor_threads} threads (`LISTENER_THREADS`) in the same process, served as `growthbot serve` serves it: the
  server counts requests in flight (`Traffic`) and the drain starts a turn in a gap between them (or, when the
  load leaves none for 0.5 s, one turn at a time). In both processes the GIL switch interval is 0.5 ms and
  start-up objects are frozen out of the garbage collector (`gc.freeze`). Bare Bolt (the strongest fair
  baseline): `slack_bolt.App` with the same signing secret and client, `process_before_response=True` so its
  `/goal` listener's `ack()` runs in the request thread, and no work at all after the ack.
- **Clients:** the parent process; at each level, that many threads share {args.requests} requests per app and
  kind, each thread using {connections} and sending its next request as soon as the previous one
  is answered (closed loop). Warm-up first ({args.warmup} requests per app and kind, not counted). The
  {args.requests} requests are sent in {args.rounds} rounds alternating growthbot and bare Bolt with no pause
  between them (sustained load: growthbot's work after each ack competes with the next requests); only when a
  level is done does the benchmark wait for growthbot's inbox to empty, to count its posts.
- **Run:** `{command_line}`, {when}, {seconds:.0f} s in all."""
    info_line = (
        f"{info['nproc']} CPUs ({info['cpu']}), {info['python']}, {info['os']}; {info['libs']}; "
        f"growthbot at commit {info['code']}; load average {info['load']} at the start and "
        f"{info.get('load_end', 'unknown')} at the end (1 / 5 / 15 min; the machine is shared); loopback only. "
        "Latencies in milliseconds."
    )
    return "\n".join(
        [
            section_title(args.api_delay_ms),
            "",
            "Generated by `benchmarks/ack_latency.py`; re-run it to refresh this section.",
            "",
            f"**Machine:** {info_line}",
            "",
            "### Method",
            "",
            method,
            "",
            "### Results",
            "",
            build_table(cells, levels),
            "",
            "### Reading",
            "",
            *reading(cells, levels, dict(logged), args.threads),
            "",
        ]
    )


def section_title(api_delay_ms: int) -> str:
    return SECTION + (f", Web API answering in {api_delay_ms} ms" if api_delay_ms else "")


def update_document(path: Path, title: str, section: str) -> None:
    """Replace (or append) the section called `title`, keeping every other section of the file as it was."""
    text = path.read_text() if path.exists() else "# Performance\n"
    pattern = re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2100, help="measured requests per app, kind and level")
    parser.add_argument("--warmup", type=int, default=60, help="unmeasured requests per app and kind first")
    parser.add_argument("--rounds", type=int, default=3, help="alternate the apps this many times per level")
    parser.add_argument("--levels", default="1,10,50", help="comma-separated numbers of concurrent clients")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="waitress threads of both servers")
    parser.add_argument(
        "--api-delay-ms", type=int, default=0, help="make the fake Web API answer this much later (default: at once)"
    )
    parser.add_argument("--new-connections", action="store_true", help="one TCP connection per request")
    parser.add_argument("--out", type=Path, help="write/update this markdown file (e.g. docs/PERFORMANCE.md)")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    if args.requests < 1 or args.warmup < 0 or args.rounds < 1 or not levels or min(levels) < 1 or max(levels) > 200:
        parser.error("need --requests >= 1, --warmup >= 0, --rounds >= 1 and levels between 1 and 200")

    started = time.monotonic()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    info = machine()
    keep_alive = not args.new_connections
    print(f"machine: {info}", flush=True)
    delay = args.api_delay_ms / 1000.0
    servers = {
        APPS[0]: Server(APPS[0], "growthbot", args.threads, delay),
        APPS[1]: Server(APPS[1], "bare", args.threads, delay),
    }
    cells: dict[tuple[str, int, str], Cell] = {}
    try:
        growthbot = servers[APPS[0]]
        # Open the conversations the message runs reply in, through the real /goal path.
        reply_users = [f"UM{i:03d}" for i in range(OPEN_CONVERSATIONS)]
        run_phase(growthbot.port, lambda i: command_body(reply_users[i]), OPEN_CONVERSATIONS, 5, keep_alive)
        growthbot.ask("drain")
        roots = growthbot.ask("threads")
        pairs = [(user, roots.get(f"D{user}", f"{1700000000 + i}.000100")) for i, user in enumerate(reply_users)]
        missing = sum(f"D{user}" not in roots for user in reply_users)
        if missing:
            print(f"warning: {missing} prepared conversations have no thread; their replies hit 'no conversation'")
        command_users = [f"UC{i:03d}" for i in range(COMMAND_USERS)]
        makers: dict[str, Callable[[int], tuple[str, str]]] = {
            "command": lambda i: command_body(command_users[i % COMMAND_USERS]),
            "message": lambda i: reply_body(*pairs[i % OPEN_CONVERSATIONS]),
        }
        posts: dict[str, int] = {}
        for kind in KINDS:
            for name, server in servers.items():
                if args.warmup:
                    run_phase(server.port, makers[kind], args.warmup, min(10, max(levels)), keep_alive)
                posts[name] = server.ask("drain")["posts"]
                print(f"warmed up {name} ({kind})", flush=True)
            for level in levels:
                # Alternate the apps over a few rounds so a slow patch of the machine hits both alike.
                sizes = [args.requests // args.rounds + (r < args.requests % args.rounds) for r in range(args.rounds)]
                # Sustained load: the rounds follow each other with no pause, so work growthbot does after
                # its acks competes with the next requests; the backlog is drained only once the level is done.
                for size in filter(None, sizes):
                    for name, server in servers.items():
                        phase = run_phase(server.port, makers[kind], size, level, keep_alive)
                        cell = cells.setdefault((kind, level, name), Cell(Phase(), 0.0, 0))
                        cell.phase.merge(phase)
                for name, server in servers.items():
                    before, after = posts[name], server.ask("drain")
                    posts[name] = after["posts"]
                    cell = cells[(kind, level, name)]
                    cell.drain_s = max(cell.drain_s, after["drain_s"])
                    cell.posts += after["posts"] - before
                for name in servers:
                    cell = cells[(kind, level, name)]
                    print(
                        f"{kind:8} {level:3} clients {name:10} p50 {fmt(cell.phase.p50):>6} ms"
                        f"  p99 {fmt(cell.phase.p99):>6} ms  {cell.phase.rate:6.0f} req/s"
                        f"  statuses {dict(cell.phase.statuses)}  drained in {cell.drain_s:.1f}s  posts {cell.posts}",
                        flush=True,
                    )
        logged = growthbot.ask("drain")["logged"]
    finally:
        for server in servers.values():
            server.stop()

    seconds = time.monotonic() - started
    info["load_end"] = load_average()
    print(f"load average at the end: {info['load_end']}", flush=True)
    command_line = " ".join(["benchmarks/ack_latency.py", *(argv if argv is not None else sys.argv[1:])])
    executor_threads = servers[APPS[0]].executor_threads
    section = render_section(cells, args, levels, info, when, seconds, logged, command_line, executor_threads)
    print()
    print(section)
    if args.out:
        update_document(args.out, section_title(args.api_delay_ms), section)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
