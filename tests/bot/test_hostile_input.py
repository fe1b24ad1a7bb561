"""What a hostile tester tried against `growthbot serve`, each hole pinned: headers, retries, text, logs, CSV."""

from __future__ import annotations

import csv
import hashlib
import hmac
import http.client
import io
import json
import logging
import time

import pytest

from handlers.export import as_csv, cell
from handlers.goals.export import GOAL_COLUMNS, goal_rows
from tests.bot.conftest import TEACHER, SlackRig
from tests.bot.test_slack import GOOD_ANSWERS, answer, start_goal
from tests.fakes.slack_client import signature

SECRET_WORDS = "my-private-reflection-about-Room-12"


def raw_post(rig: SlackRig, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", rig.slack.port, timeout=10)
    try:
        connection.request("POST", "/slack/events", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("timestamp", "sign_with"),
    [
        ("abc", "abc"),
        ("", ""),
        ("-1", "-1"),
        ("1e9", "1e9"),
        ("١٢٣٤٥٦٧٨٩٠", "١٢٣٤٥٦٧٨٩٠"),
        ("99999999999999999999", "9"),
    ],
)
def test_every_malformed_timestamp_is_refused_with_401_not_a_500(rig: SlackRig, timestamp: str, sign_with: str) -> None:
    body = "command=/goal&user_id=U1&team_id=T1"
    try:
        signed = signature("test-signing-secret", sign_with, body)
    except UnicodeEncodeError:
        signed = "v0=" + "0" * 64
    status, text = raw_post(
        rig,
        body.encode(),
        {"Content-Type": "application/x-www-form-urlencoded",
         "X-Slack-Request-Timestamp": timestamp.encode("utf-8").decode("latin-1"), "X-Slack-Signature": signed},
    )  # fmt: skip
    assert status == 401 and "Traceback" not in text
    assert rig.api.posts() == []


@pytest.mark.parametrize("signature_header", ["", "v0=zz", "v1=" + "a" * 64, "v0=" + "a" * 63, "v0=" + "a" * 64])
def test_missing_malformed_or_wrong_signatures_are_refused(rig: SlackRig, signature_header: str) -> None:
    status, _ = raw_post(
        rig,
        b"command=/goal",
        {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(int(time.time())),
         "X-Slack-Signature": signature_header},
    )  # fmt: skip
    assert status == 401


def test_a_refused_request_is_logged_without_its_body(rig: SlackRig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    status, _ = rig.slack.command(TEACHER, SECRET_WORDS, secret="not-the-secret")
    assert status == 401
    assert "refused a request" in caplog.text
    assert SECRET_WORDS not in caplog.text


def test_a_signed_body_that_is_not_utf8_gets_400(rig: SlackRig) -> None:
    body = b"command=/goal&text=\xff\xfe"
    ts = str(int(time.time()))
    digest = "v0=" + hmac.new(b"test-signing-secret", b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    status, _ = raw_post(
        rig, body, {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                    "X-Slack-Signature": digest}
    )  # fmt: skip
    assert status == 400


def test_a_top_level_dm_retried_three_times_is_answered_once(rig: SlackRig) -> None:
    for _ in range(3):
        status, _ = rig.slack.dm_reply(TEACHER, "hello?", None, event_id="Ev-top-level")
        assert status == 200
    rig.api.wait_posts(1)
    time.sleep(0.5)
    assert len(rig.api.posts()) == 1


def test_a_lone_surrogate_in_slack_text_neither_crashes_observe_nor_blocks_a_goal(rig: SlackRig) -> None:
    rig.slack.command(TEACHER, "", name="/observe")
    calls = rig.api.wait_for(lambda calls: any(c.method == "views.open" for c in calls))
    view = next(c.params["view"] for c in calls if c.method == "views.open")
    view = {**(view if isinstance(view, dict) else json.loads(view)), "id": "V-s"}
    status, body = rig.slack.submit_view(TEACHER, view, {"mode": "peer", "teacher": "\ud83d kim",
                                                         "when": "Dec 1 10am \ud83d", "minutes": "30"})  # fmt: skip
    assert status == 200
    assert "Sorry" not in body and "\ufffd kim" in json.loads(body)["errors"]["f_teacher"]

    thread = start_goal(rig, channel=f"D{TEACHER}")
    root = rig.api.posts()[0]
    rig.slack.click(TEACHER, root, 0)
    rig.api.wait_posts(2)
    answers = [*GOOD_ANSWERS]
    answers[1] = "my 4th graders \ud83d will read grade-level text fluently"
    for text in answers:
        answer(rig, thread, text)
    done = answer(rig, thread, "1")
    assert "Saved" in done["text"]
    [goal] = goal_rows(rig.runtime.db)
    assert goal["specific"] == "my 4th graders \ufffd will read grade-level text fluently"


def test_csv_exports_never_hand_a_spreadsheet_a_formula() -> None:
    risky = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", " =1", "ok"]
    rows = [{"id": n, "specific": value, "benchmarks": [{"check": "=cmd"}]} for n, value in enumerate(risky)]
    text = as_csv(rows, ("id", "specific", "benchmarks"))
    cells = [row["specific"] for row in csv.DictReader(io.StringIO(text, newline=""))]
    assert cells[:-1] == ["'" + value for value in risky[:-1]] and cells[-1] == "ok"
    assert all(row["benchmarks"].startswith("[") for row in csv.DictReader(io.StringIO(text, newline="")))
    assert cell(-5) == -5 and cell(None) is None  # numbers stay numbers
    assert json.loads(next(csv.DictReader(io.StringIO(text, newline="")))["benchmarks"]) == [{"check": "=cmd"}]
    assert GOAL_COLUMNS[0] == "id"
