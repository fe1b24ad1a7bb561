"""The HTTP server outlasts a flood of idle and trickling connections (its home would be tests/bot).

Before: waitress stopped accepting at its default 100 connections, so 150 clients holding half-sent headers
kept `/healthz` from answering at all, and a client trickling a byte now and then held its connection for ever.
The full figure (1,000 connections for 30 s, signed Slack requests too) is benchmarks/flood.py.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from bot.http_server import make_server, routes_app

HOLDERS = 150


@pytest.fixture
def port() -> Iterator[int]:
    server = make_server(routes_app({}), "127.0.0.1", 0, threads=4, request_timeout=1, channel_timeout=3)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.effective_port  # type: ignore[union-attr]
    finally:
        server.close()


def hold(port: int, count: int) -> list[socket.socket]:
    """`count` connections that start a request and never finish its headers."""
    held = []
    for n in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow-{n}: ".encode())
        held.append(sock)
    return held


def healthz(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status
    finally:
        connection.close()


def test_healthz_answers_while_more_connections_than_waitress_allows_by_default_hang(port: int) -> None:
    held = hold(port, HOLDERS)
    try:
        assert healthz(port) == 200
    finally:
        for sock in held:
            sock.close()


def test_a_request_still_arriving_after_the_request_timeout_is_dropped(port: int) -> None:
    [sock] = hold(port, 1)
    try:
        closed = threading.Event()

        def trickle() -> None:
            """A byte every 0.3 s: never idle, never done."""
            try:
                for _ in range(60):
                    sock.sendall(b"x")
                    time.sleep(0.3)
            except OSError:
                closed.set()

        writer = threading.Thread(target=trickle, daemon=True)
        writer.start()
        sock.settimeout(15)
        assert sock.recv(1) == b""  # the server hung up on it
        writer.join(timeout=20)
    finally:
        sock.close()
