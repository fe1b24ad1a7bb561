"""The Slack rig: the real HTTP app on a free port, signed requests in, a fake Web API out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.adapters.slack import build_slack_app, wsgi_app
from bot.adapters.slack_web import web_client
from bot.app import Runtime, assemble
from bot.http_server import make_server
from bot.serve import Platform, start_drain
from bot.settings import Settings
from handlers.router import Bot
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_client import SIGNING_SECRET, SlackSender

TEACHER = "U123"


@dataclass
class SlackRig:
    api: FakeSlackAPI
    slack: SlackSender
    runtime: Runtime

    def text_of(self, post: dict) -> str:
        return post["text"]

    def thread_posts(self, thread: str) -> list[dict]:
        return [p for p in self.api.posts() if p.get("thread_ts") == thread]


@pytest.fixture
def rig(db, bot: Bot) -> Iterator[SlackRig]:
    with FakeSlackAPI() as api:
        settings = Settings(
            _env_file=None,
            slack_bot_token="xoxb-test",
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=api.url,
        )
        runtime = assemble(settings, db, bot.clock)
        client = web_client("xoxb-test", api.url)
        app, adapter = build_slack_app(runtime, client)
        server = make_server(wsgi_app(app, adapter, SIGNING_SECRET), "127.0.0.1", 0, threads=4)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        stop = start_drain(
            runtime,
            [
                Platform(
                    "slack",
                    adapter.handle_item,
                    None,
                    adapter.deliver_all,  # type: ignore[arg-type]
                    lambda wake: setattr(adapter, "wake", wake),
                )
            ],
        )
        try:
            yield SlackRig(api=api, slack=SlackSender(server.effective_port), runtime=runtime)
        finally:
            stop.set()
            server.close()
