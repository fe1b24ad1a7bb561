"""The HTTP side of `growthbot serve`: one WSGI app routing each platform's path, served by waitress.

Platforms plug in a WSGI app per path (`/slack/events`, later `/api/messages`); `/healthz` answers load
balancers without touching the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from waitress import create_server
from waitress.server import BaseWSGIServer, MultiSocketServer

MAX_BODY_BYTES = 1_000_000  # Slack and Teams payloads are kilobytes; refuse huge bodies before parsing

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


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


def make_server(app: WSGIApp, host: str, port: int, threads: int) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server (production-grade, pure Python); port 0 picks a free port, for tests."""
    return create_server(
        app, host=host, port=port, threads=threads, ident="growthbot", max_request_body_size=MAX_BODY_BYTES
    )
