"""`growthbot serve` as a real process: /goal to a saved goal in a DM thread, against a fake Web API."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_client import SIGNING_SECRET, SlackSender

YEAR = date.today().year + 2  # the server reads the real clock; keep the goal's dates in the future
ANSWERS = [
    "Our fall writing rubric: 30% of my 7th graders scored 3 or higher on argument writing",
    "my 7th-grade students will write arguments that cite two pieces of text evidence",
    "share scoring 3+ on the district argument rubric from 30% to 65%",
    "I will teach a claim-evidence-reasoning routine weekly and confer with small groups",
    "students use text evidence in every written response",
    f"end of May {YEAR}",
    f"2/15/{YEAR}: mid-year writing sample",
    "District literacy goal 1",
    "save",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else "server exited"
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("growthbot serve did not become healthy")


def test_serve_carries_a_goal_from_slash_command_to_saved_record(tmp_path: Path) -> None:
    port = free_port()
    database = f"sqlite:///{tmp_path / 'serve.db'}"
    with FakeSlackAPI() as api:
        env = {
            **os.environ,
            "DATABASE_URL": database,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api.url,
            "LOG_LEVEL": "WARNING",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stderr=subprocess.PIPE,
        )
        try:
            wait_healthy(port, process)
            slack = SlackSender(port)
            assert slack.command("U42", channel="DU42")[0] == 200
            root = api.wait_posts(1)[0]
            assert root["channel"] == "DU42" and not root.get("thread_ts")
            slack.click("U42", root, 0)
            api.wait_posts(2)
            for text in ANSWERS:
                before = len(api.posts())
                assert slack.dm_reply("U42", text, root["ts"])[0] == 200
                api.wait_posts(before + 1)
            final = api.posts()[-1]
            assert final["thread_ts"] == root["ts"]
            assert "Saved as goal #1" in final["text"]
        finally:
            process.terminate()
            process.wait(timeout=10)
    exported = subprocess.run(
        [sys.executable, "-m", "bot", "export", "goals", "--format", "json"],
        cwd=tmp_path,
        env={**os.environ, "DATABASE_URL": database},
        capture_output=True,
        check=True,
        text=True,
    )
    goals = json.loads(exported.stdout)
    assert len(goals) == 1
    assert goals[0]["platform"] == "slack" and goals[0]["user_id"] == "U42" and goals[0]["status"] == "saved"
    assert goals[0]["completion_date"] == f"{YEAR}-05-31"
    assert goals[0]["benchmarks"] == [{"date": f"{YEAR}-02-15", "check": "mid-year writing sample"}]
