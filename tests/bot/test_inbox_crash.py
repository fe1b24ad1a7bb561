"""A request Slack saw acknowledged is never lost: kill the server after the acks, restart, each is handled once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.bot.test_serve_process import free_port, wait_healthy
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_client import SIGNING_SECRET, SlackSender

PEOPLE = [f"U{n:03d}" for n in range(12)]


def serve(tmp_path: Path, port: int, api: FakeSlackAPI, **extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'crash.db'}",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api.url,
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    wait_healthy(port, process)
    return process


def test_requests_acked_before_a_crash_are_handled_once_after_the_restart(tmp_path: Path) -> None:
    port = free_port()
    with FakeSlackAPI() as api:
        # LISTENER_THREADS=0: the server only keeps and acks, as if it died right after each ack
        first = serve(tmp_path, port, api, LISTENER_THREADS="0")
        slack = SlackSender(port)
        for person in PEOPLE:
            assert slack.command(person, channel=f"D{person}")[0] == 200
            assert slack.dm_reply(person, "a message before any thread", None, event_id=f"Ev-{person}")[0] == 200
        assert slack.dm_reply(PEOPLE[0], "a retry", None, event_id=f"Ev-{PEOPLE[0]}")[0] == 200  # deduplicated
        time.sleep(0.3)
        assert api.posts() == []  # acked, nothing handled yet
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

        second = serve(tmp_path, port, api)
        try:
            posts = api.wait_posts(2 * len(PEOPLE), timeout=30)
            time.sleep(1.0)  # anything doubled would arrive by now
            posts = api.posts()
        finally:
            second.terminate()
            second.wait(timeout=10)
    roots = [p for p in posts if "What kind of goal" in p["text"]]
    nudges = [p for p in posts if "thread" in p["text"] and "What kind of goal" not in p["text"]]
    assert sorted(p["channel"] for p in roots) == sorted(f"D{person}" for person in PEOPLE)
    assert sorted(p["channel"] for p in nudges) == sorted(f"D{person}" for person in PEOPLE)
    assert len(posts) == 2 * len(PEOPLE)
