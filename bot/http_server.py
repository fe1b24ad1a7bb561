"""The HTTP side of `growthbot serve`: one WSGI app routing each platform's path, served by waitress.

Platforms plug in a WSGI app per path (`/slack/events`, later `/api/messages`); `/healthz` answers load
balancers without touching the database.

Floods. waitress reads requests on one event loop and hands only complete ones to its threads, so slow or idle
clients cost a socket each, not a thread. Its defaults still let ~100 of them shut everyone else out (it stops
accepting at `connection_limit`, 100) and let a client that trickles a byte now and then hold a connection for
ever (its idle timeout counts any byte as activity). So, deliberately:

- `connection_limit` 4,000 (and the process's open-file limit raised to fit, or the limit lowered to what the
  hard limit allows), with `poll()` instead of `select()`, which cannot watch more than 1,024 sockets;
- `request_timeout` 10 s: a request whose headers and body have not all arrived 10 s after its first byte is
  dropped (Slack sends a request in milliseconds), checked every `cleanup_interval`, 1 s;
- `channel_timeout` 15 s: a connection with nothing to say is closed;
- headers at most 64 KB, bodies at most 1 MB (`MAX_BODY_BYTES`), both refused before anything is parsed.

In production put a reverse proxy (nginx, a cloud load balancer) in front anyway: it buffers slow clients and
limits connections per address, which no in-process setting can.
"""

from __future__ import annotations

import gc
import logging
import resource
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable
from typing import Any

from waitress import create_server
from waitress.server import BaseWSGIServer, MultiSocketServer

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000  # Slack and Teams payloads are kilobytes; refuse huge bodies before parsing
MAX_HEADER_BYTES = 65_536
CONNECTION_LIMIT = 4_000
REQUEST_TIMEOUT = 10.0  # seconds from a request's first byte to its last
CHANNEL_TIMEOUT = 15  # seconds a connection may say nothing
CLEANUP_INTERVAL = 1  # seconds between checks of the two timeouts
FILE_HEADROOM = 256  # descriptors kept for the database, logs and the Web API client

SWITCH_INTERVAL = 0.0005  # seconds a thread may hold the GIL while another waits for it (CPython's default: 0.005)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Traffic:
    """Requests in flight, so work that can wait (the inbox drain) keeps out of the way of work that cannot (acks).

    In one process every thread shares the GIL. A turn is milliseconds of Python; an ack is a few short steps,
    each giving the GIL up (a socket read, a SQLite call) and then waiting to get it back from whatever holds it
    - up to CPython's switch interval, 5 ms, per step. Measured: a 1.6 ms ack became 16 ms with the drain busy
    beside it. So the drain starts a turn only once no request has been in flight for `QUIET` seconds (or it has
    waited `patience`); a turn already running still shares the GIL, in slices shortened to `SWITCH_INTERVAL`.
    At Slack's real rates (a school district: a few requests a second, bursts of tens) such gaps come every few
    milliseconds; only a saturating closed loop, as in the ack benchmark, leaves none.
    """

    QUIET = 0.01

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self._last = 0.0  # monotonic time the last request ended

    def counting(self, app: WSGIApp) -> WSGIApp:
        def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            with self._lock:
                self._in_flight += 1
            try:
                return app(environ, start_response)
            finally:
                with self._lock:
                    self._in_flight -= 1
                    self._last = time.monotonic()

        return application

    def busy(self) -> bool:
        return self._in_flight > 0 or time.monotonic() - self._last < self.QUIET

    def wait_quiet(self, patience: float) -> bool:
        """Wait until no request has been in flight for QUIET seconds (True) or `patience` has passed (False)."""
        deadline = time.monotonic() + patience
        while self.busy():
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.QUIET / 2)
        return True


def _not_found(_environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"not found\n"]


def routes_app(routes: dict[str, WSGIApp]) -> WSGIApp:
    """Dispatch by exact path; `GET /healthz` is always there."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"ok\n"]
        return routes.get(path, _not_found)(environ, start_response)

    return application


def freeze_startup() -> None:
    """Move what start-up built (the app, ORM mappers, templates) out of the garbage collector's view.

    It lives as long as the process, yet every full collection would walk it again, and a collection runs in
    whichever request thread allocates at the wrong moment: that request's ack pays for it.
    """
    gc.collect()
    gc.freeze()


def make_server(
    app: WSGIApp,
    host: str,
    port: int,
    threads: int,
    *,
    connection_limit: int = CONNECTION_LIMIT,
    request_timeout: float = REQUEST_TIMEOUT,
    channel_timeout: int = CHANNEL_TIMEOUT,
    cleanup_interval: int = CLEANUP_INTERVAL,
    traffic: Traffic | None = None,
) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server (production-grade, pure Python) set up to outlast floods; port 0 picks a free port.

    With `traffic`, requests are counted there (see `Traffic`), and the process's GIL switch interval is shortened,
    so a request thread waiting for the GIL gets it back within half a millisecond instead of five.
    """
    if traffic is not None:
        app = traffic.counting(app)
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
    server = create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="growthbot",
        max_request_body_size=MAX_BODY_BYTES,
        max_request_header_size=MAX_HEADER_BYTES,
        connection_limit=_fit_open_files(connection_limit),
        channel_timeout=channel_timeout,
        cleanup_interval=cleanup_interval,
        asyncore_use_poll=True,
    )
    for listener in [server, *getattr(server, "map", {}).values()]:
        if isinstance(listener, BaseWSGIServer):
            _drop_slow_requests(listener, request_timeout)
    return server


def _fit_open_files(wanted: int) -> int:
    """Raise the soft open-file limit to fit `wanted` connections; else the connections that fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + FILE_HEADROOM
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            log.warning("could not raise the open-file limit from %s", soft, exc_info=True)
    if soft != resource.RLIM_INFINITY and soft < needed:
        fitted = max(soft - FILE_HEADROOM, 64)
        log.warning("open-file limit %s allows %s connections, not %s", soft, fitted, wanted)
        return fitted
    return wanted


def _drop_slow_requests(server: BaseWSGIServer, request_timeout: float) -> None:
    """Extend the server's periodic sweep: close connections whose request is still arriving after the timeout.

    waitress's own sweep closes only connections idle for `channel_timeout`; a client that trickles a byte now and
    then is never idle. A request being read is `channel.request` (complete ones move to `channel.requests`); the
    sweep notes when it first saw each one and closes the connection once that is older than `request_timeout`.
    """
    sweep = server.maintenance

    def maintenance(self: BaseWSGIServer, now: float) -> None:
        sweep(now)
        for channel in list(self.active_channels.values()):
            partial = getattr(channel, "request", None)
            if partial is None or channel.requests or channel.will_close:
                continue
            first_seen = getattr(partial, "growthbot_first_seen", None)
            if first_seen is None:
                partial.growthbot_first_seen = now
            elif now - first_seen > request_timeout:
                channel.will_close = True

    server.maintenance = types.MethodType(maintenance, server)  # type: ignore[method-assign]
