"""1,000 idle or trickling connections held against `growthbot serve`'s HTTP server: do real requests get in?

Run from the repository root:

    .venv/bin/python benchmarks/flood.py [--connections 1000] [--seconds 30] [--trickle-every 2]

Two servers, one after the other, each in a child process: growthbot's Slack app (`build_slack_app`, a SQLite file,
the Web API pointed at a fake) served by `bot.http_server.make_server` as it is now ("tuned"), and the same app
served by waitress as `make_server` configured it before ("defaults": connection limit 100, select(), idle timeout
120 s, no request timeout).

This process holds `--connections` connections open for `--seconds` (loopback, bounded): half idle (connected,
silent), half trickling (a request line, then one header byte every `--trickle-every` seconds, never finishing).
A connection the server closes is opened again at once, so the count stays at the target. Meanwhile a probe every
0.5 s alternates `GET /healthz` and a signed Slack `message.im` event (`POST /slack/events`), each on a new
connection with a 5 s timeout. Reported: probe latency p50/p99/max, how many answered within 1 s, how many not at
all, and how many flood connections the server closed.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import multiprocessing
import selectors
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.tick_cost import machine, percentile  # noqa: E402
from tests.fakes.slack_client import SIGNING_SECRET, SlackSender  # noqa: E402

TOKEN = "xoxb-bench"
PROBE_EVERY = 0.5
PROBE_TIMEOUT = 5.0
MAX_RECONNECTS = 50_000  # bound on the flood, whatever the server does


def _serve(mode: str, conn: Connection) -> None:
    """Child process: growthbot's Slack app on a free port, served the `mode` way, until the parent says stop."""
    from waitress import create_server

    from bot.adapters.slack import build_slack_app, wsgi_app
    from bot.adapters.slack_web import web_client
    from bot.app import build
    from bot.http_server import MAX_BODY_BYTES, make_server
    from bot.settings import Settings
    from tests.fakes.slack_api import FakeSlackAPI

    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="growthbot-flood-") as tmp, FakeSlackAPI() as api:
        settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp}/flood.db", slack_bot_token=TOKEN,
                            slack_signing_secret=SIGNING_SECRET, slack_api_url=api.url)  # fmt: skip
        runtime = build(settings)
        app, adapter = build_slack_app(runtime, web_client(TOKEN, api.url))
        wsgi = wsgi_app(app, adapter, SIGNING_SECRET)
        if mode == "tuned":
            server = make_server(wsgi, "127.0.0.1", 0, settings.http_threads)
        else:  # make_server before this change: waitress's defaults but for the body limit
            server = create_server(wsgi, host="127.0.0.1", port=0, threads=settings.http_threads, ident="growthbot",
                                   max_request_body_size=MAX_BODY_BYTES)  # fmt: skip
        threading.Thread(target=server.run, daemon=True).start()
        conn.send(server.effective_port)  # type: ignore[union-attr]
        conn.recv()
    conn.close()


@dataclass
class Probes:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"healthz": [], "slack": []})
    failures: dict[str, int] = field(default_factory=lambda: {"healthz": 0, "slack": 0})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float | None) -> None:
        with self.lock:
            if seconds is None:
                self.failures[kind] += 1
            else:
                self.latencies[kind].append(seconds)


def probe(kind: str, port: int, probes: Probes, n: int) -> None:
    began = time.perf_counter()
    try:
        if kind == "healthz":
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT)
            try:
                connection.request("GET", "/healthz")
                status = connection.getresponse().status
            finally:
                connection.close()
        else:
            status, _ = SlackSender(port).dm_reply(f"UFLOOD{n % 50}", "hello", None, event_id=f"EvFlood{n}")
        ok = status == 200
    except OSError:
        ok = False
    elapsed = time.perf_counter() - began
    probes.record(kind, elapsed if ok and elapsed <= PROBE_TIMEOUT else None)


class Flood:
    """Keeps `count` connections open: half silent, half sending a header byte every `every` seconds."""

    def __init__(self, port: int, count: int, every: float) -> None:
        self.port, self.count, self.every = port, count, every
        self.selector = selectors.DefaultSelector()
        self.next_byte: dict[socket.socket, float] = {}
        self.closed_by_server = 0
        self.opened = 0

    def _open(self, trickle: bool) -> None:
        if self.opened >= MAX_RECONNECTS:
            return
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.setblocking(False)
        self.opened += 1
        if trickle:
            sock.send(f"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Trickle-{self.opened}: ".encode())
            self.next_byte[sock] = time.monotonic() + self.every
        self.selector.register(sock, selectors.EVENT_READ, trickle)

    def run(self, seconds: float) -> None:
        for n in range(self.count):
            self._open(trickle=n % 2 == 1)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for key, _events in self.selector.select(timeout=0.1):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    data = sock.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:  # the server hung up: take its place again
                    self.closed_by_server += 1
                    self._drop(sock)
                    self._open(trickle=bool(key.data))
            now = time.monotonic()
            for sock, when in list(self.next_byte.items()):
                if when <= now:
                    try:
                        sock.send(b"x")
                        self.next_byte[sock] = now + self.every
                    except OSError:
                        pass
        for key in list(self.selector.get_map().values()):
            self._drop(key.fileobj)  # type: ignore[arg-type]

    def _drop(self, sock: socket.socket) -> None:
        self.selector.unregister(sock)
        self.next_byte.pop(sock, None)
        sock.close()


@dataclass
class Result:
    mode: str
    probes: Probes
    closed_by_server: int
    opened: int


def run(mode: str, args: argparse.Namespace) -> Result:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(mode, child), daemon=True)
    process.start()
    port = parent.recv()
    flood = Flood(port, args.connections, args.trickle_every)
    flooding = threading.Thread(target=flood.run, args=(args.seconds,))
    flooding.start()
    time.sleep(1.0)  # let the flood build up
    probes = Probes()
    threads = []
    n = 0
    while flooding.is_alive() and n * PROBE_EVERY < args.seconds - 1.5:
        kind = "healthz" if n % 2 == 0 else "slack"
        thread = threading.Thread(target=probe, args=(kind, port, probes, n), daemon=True)
        thread.start()
        threads.append(thread)
        n += 1
        time.sleep(PROBE_EVERY)
    for thread in threads:
        thread.join(timeout=PROBE_TIMEOUT + 5)
    flooding.join()
    parent.send("stop")
    process.join(timeout=30)
    if process.is_alive():
        process.kill()
    return Result(mode, probes, flood.closed_by_server, flood.opened)


def table(results: list[Result], args: argparse.Namespace) -> str:
    lines = [
        f"**Machine:** {machine()}. {args.connections:,} connections held for {args.seconds:g} s (half idle, half "
        f"trickling a header byte every {args.trickle_every:g} s), loopback; a probe every {PROBE_EVERY} s.",
        "",
        "| Server | Probe | Answered | Within 1 s | No answer in 5 s | p50 ms | p99 ms | max ms |"
        " Flood connections closed by the server |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for kind, title in (("healthz", "`GET /healthz`"), ("slack", "signed `message.im` event")):
            late = r.probes.latencies[kind]
            total = len(late) + r.probes.failures[kind]
            quick = sum(1 for v in late if v <= 1.0)
            stats = (f"{statistics.median(late) * 1000:.1f} | {percentile(late, 0.99) * 1000:.1f} | "
                     f"{max(late) * 1000:.1f}") if late else "– | – | –"  # fmt: skip
            lines.append(f"| {r.mode} | {title} | {len(late)}/{total} | {quick}/{total} | {r.probes.failures[kind]} "
                         f"| {stats} | {r.closed_by_server:,} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--trickle-every", type=float, default=2.0)
    parser.add_argument("--skip-defaults", action="store_true", help="only the tuned server")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    results = [run("tuned", args)]
    if not args.skip_defaults:
        results.append(run("defaults", args))
    print(table(results, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
