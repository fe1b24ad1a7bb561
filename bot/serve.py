"""`growthbot serve`, `socket` and `worker`: whichever platforms are configured, in one process.

Slack is configured by SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, Teams by TEAMS_APP_ID, TEAMS_APP_PASSWORD
and TEAMS_TENANT_ID; either or both. They share one HTTP port (`/slack/events`, `/api/messages`), one
inbox drain, one housekeeping timer and one scheduler tick with a sender per platform.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.app import Runtime
from bot.http_server import Traffic, WSGIApp, freeze_startup, make_server, routes_app
from bot.inbox_drain import Drain, Handler
from handlers.router import Delivery
from scheduling.background import start_periodic
from scheduling.tick import Sender
from scheduling.wakeup import DeliveryLoop

log = logging.getLogger(__name__)
HOUSEKEEPING = timedelta(minutes=15)
NOTHING_CONFIGURED = (
    "Configure a platform: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET for Slack, or TEAMS_APP_ID, "
    "TEAMS_APP_PASSWORD and TEAMS_TENANT_ID for Teams (see README)."
)


@dataclass
class Platform:
    """What one chat platform brings to the process."""

    name: str
    handle_item: Handler
    sender: Sender
    deliver_all: Callable[[list[Delivery]], None]
    set_wake: Callable[[Callable[[], None]], None]
    routes: dict[str, WSGIApp] = field(default_factory=dict)
    upkeep: Callable[[], Any] = lambda: None  # e.g. renew the Teams token before it is needed


def slack_platform(runtime: Runtime, http: bool = True) -> Platform:
    from bot.adapters.slack import EVENTS_PATH, SlackAdapter, build_slack_app, events_app, outbox_sender
    from bot.adapters.slack_web import web_client

    settings = runtime.settings
    assert settings.slack_bot_token is not None
    routes: dict[str, WSGIApp] = {}
    if http:
        app, adapter = build_slack_app(runtime)
        assert settings.slack_signing_secret is not None
        routes[EVENTS_PATH] = events_app(app, adapter, settings.slack_signing_secret.get_secret_value())
    else:
        adapter = SlackAdapter(
            runtime.bot, web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
        )

    def set_wake(wake: Callable[[], None]) -> None:
        adapter.wake = wake

    return Platform("slack", adapter.handle_item, outbox_sender(runtime), adapter.deliver_all, set_wake, routes)


def teams_platform(runtime: Runtime) -> Platform:
    from bot.adapters.teams import MESSAGES_PATH, build_teams

    adapter, sender, tokens = build_teams(runtime)

    def set_wake(wake: Callable[[], None]) -> None:
        adapter.wake = wake

    return Platform(
        "teams",
        adapter.handle_item,
        sender,
        adapter.deliver_all,
        set_wake,
        {MESSAGES_PATH: adapter.wsgi()},
        tokens.refresh_if_due,
    )


def configured(runtime: Runtime, http: bool = True) -> list[Platform]:
    settings = runtime.settings
    platforms = []
    if settings.slack_bot_token is not None and (settings.slack_signing_secret is not None or not http):
        platforms.append(slack_platform(runtime, http))
    if settings.teams_app_id and settings.teams_app_password and settings.teams_tenant_id:
        platforms.append(teams_platform(runtime))
    if not platforms:
        raise SystemExit(NOTHING_CONFIGURED)
    return platforms


def start_drain(
    runtime: Runtime, platforms: list[Platform], threads: int | None = None, traffic: Traffic | None = None
) -> threading.Event:
    """Handle kept requests on LISTENER_THREADS threads, woken by each new one; set the event to stop.

    With `traffic` (the HTTP server's, in the same process) a turn waits for a gap between requests first.
    """
    drain = Drain(
        runtime.db,
        runtime.clock,
        {p.name: p.handle_item for p in platforms},
        threads or runtime.settings.listener_threads,
        traffic,
    )
    for platform in platforms:
        platform.set_wake(drain.wake)
    return drain.start()


def start_background(
    runtime: Runtime, platforms: list[Platform], drain: bool = True, traffic: Traffic | None = None
) -> list[Callable[[], None]]:
    """The inbox drain (unless LISTENER_THREADS=0), housekeeping and the scheduler's tick, in this process."""

    def housekeeping() -> None:
        deliveries = runtime.bot.housekeep()
        for platform in platforms:
            platform.upkeep()
            platform.deliver_all(deliveries)

    for platform in platforms:
        platform.upkeep()
    schedulers = [
        start_periodic({"housekeeping": housekeeping}, HOUSEKEEPING),
        runtime.start_ticking({p.name: p.sender for p in platforms}),
    ]
    stoppers: list[Callable[[], None]] = [lambda s=s: s.shutdown(wait=False) for s in schedulers]
    if drain and runtime.settings.listener_threads > 0:
        stoppers.append(start_drain(runtime, platforms, traffic=traffic).set)
    return stoppers


def serve(runtime: Runtime, host: str, port: int) -> int:
    platforms = configured(runtime)
    routes = {path: app for platform in platforms for path, app in platform.routes.items()}
    settings = runtime.settings
    traffic = Traffic()
    server = make_server(
        routes_app(routes),
        host,
        port,
        settings.http_threads,
        connection_limit=settings.http_connection_limit,
        request_timeout=settings.http_request_timeout,
        channel_timeout=settings.http_channel_timeout,
        traffic=traffic,
    )
    stoppers = start_background(runtime, platforms, traffic=traffic)
    freeze_startup()
    log.info("growthbot listening on http://%s:%s for %s", host, port, ", ".join(sorted(routes)))
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        for stop in stoppers:
            stop()
        server.close()
    return 0


def socket_mode(runtime: Runtime) -> int:
    """Slack over Socket Mode (a websocket, no public URL), with the same background work as `serve`."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.adapters.slack import build_slack_app

    if runtime.settings.slack_app_token is None:
        raise SystemExit("Set SLACK_APP_TOKEN (an xapp- token with connections:write) for Socket Mode.")
    app, adapter = build_slack_app(runtime)
    platforms = [p for p in configured(runtime, http=False) if p.name != "slack"]
    platforms.append(
        Platform(
            "slack",
            adapter.handle_item,
            slack_platform(runtime, http=False).sender,
            adapter.deliver_all,
            lambda wake: setattr(adapter, "wake", wake),
        )
    )
    stoppers = start_background(runtime, platforms)
    try:
        SocketModeHandler(app, runtime.settings.slack_app_token.get_secret_value()).start()
    finally:
        for stop in stoppers:
            stop()
    return 0


def worker(runtime: Runtime, once: bool = False) -> int:
    """Drain the inbox and tick, for scale-out: several workers may share one PostgreSQL database."""
    settings = runtime.settings
    platforms = configured(runtime, http=False)
    ticker = runtime.ticker({p.name: p.sender for p in platforms})
    for platform in platforms:
        platform.upkeep()
    drain = Drain(
        runtime.db, runtime.clock, {p.name: p.handle_item for p in platforms}, max(settings.listener_threads, 1)
    )
    if once:
        drain.drain_all()
        ticker.tick()
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    loop = DeliveryLoop(ticker, runtime.wakeup, timedelta(seconds=settings.tick_seconds)).start()
    drain_stop = drain.start()
    log.info("worker %s draining the inbox and ticking every %s s", ticker.worker, settings.tick_seconds)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        drain_stop.set()
        loop.shutdown(wait=True)
    return 0
