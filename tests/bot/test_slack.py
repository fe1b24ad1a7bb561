"""Slack end to end: signed requests through the real HTTP app, replies to a fake Web API."""

from __future__ import annotations

import json
import time

from handlers.goals.export import goal_rows
from storage import inbox
from storage.unit_of_work import unit_of_work
from tests.bot.conftest import TEACHER, SlackRig


def start_goal(rig: SlackRig, channel: str = "C1") -> str:
    """Run /goal and return the ts of the DM message that roots the coaching thread."""
    status, _ = rig.slack.command(TEACHER, channel=channel, response_url=rig.api.respond_url)
    assert status == 200
    posts = rig.api.wait_posts(1)
    root = posts[0]
    assert root["channel"] == f"D{TEACHER}"
    assert "thread_ts" not in root or not root["thread_ts"]
    return root["ts"]


def answer(rig: SlackRig, thread: str, text: str, **kw) -> dict:
    """Reply in the thread and return the bot's one reply (failing loudly if it sent more or elsewhere)."""
    before = len(rig.api.posts())
    status, _ = rig.slack.dm_reply(TEACHER, text, thread, **kw)
    assert status == 200
    posts = rig.api.wait_posts(before + 1)
    new = posts[before:]
    assert len(new) == 1 and new[0].get("thread_ts") == thread, [p["text"][:80] for p in posts]
    return new[0]


GOOD_ANSWERS = [
    "Fall benchmark: 38% of my 4th graders read at grade level",
    "my 4th graders will read grade-level text fluently",
    "share at benchmark on the DIBELS probe from 38% to 70%",
    "I will run daily guided reading groups and weekly fluency checks",
    "students below benchmark close half the gap",
    "June 15, 2027",
    "Jan 29: winter fluency probe",
    "School improvement plan goal 2",
]


def test_goal_from_slash_command_to_saved_record_in_a_dm_thread(rig: SlackRig) -> None:
    thread = start_goal(rig)
    root = rig.api.posts()[0]
    assert "S.M.A.R.T." in root["text"] and "What kind of goal" in root["text"]
    assert "Student learning" in json.dumps(root["blocks"])
    # used in a channel, the person is told where the thread is, privately
    responded = rig.api.wait_for(lambda calls: any(c.method == "respond" for c in calls))
    assert any("DM" in c.params.get("text", "") for c in responded if c.method == "respond")

    rig.slack.click(TEACHER, root, 0)  # Student learning
    rig.api.wait_posts(2)
    for text in GOOD_ANSWERS:
        reply = answer(rig, thread, text)
        assert reply["thread_ts"] == thread
        assert reply["channel"] == f"D{TEACHER}"
    review = rig.api.posts()[-1]
    assert "Here is your draft" in review["text"]
    rig.slack.click(TEACHER, review, 0)  # Save
    saved = rig.api.wait_for(lambda calls: any("Saved as goal" in c.params.get("text", "") for c in calls))
    assert saved
    rows = goal_rows(rig.runtime.db)
    assert len(rows) == 1
    goal = rows[0]
    assert goal["platform"] == "slack" and goal["workspace_id"] == "T1" and goal["user_id"] == TEACHER
    assert goal["status"] == "saved" and goal["goal_type"] == "student_learning"
    assert goal["completion_date"] == "2027-06-15"
    assert goal["statement"].startswith("By June 15, 2027, my 4th graders")


def test_typed_answer_works_on_a_choice_step(rig: SlackRig) -> None:
    thread = start_goal(rig)
    reply = answer(rig, thread, "professional practice")
    assert "Step 2 of 9" in reply["text"]


def test_retried_event_is_answered_once(rig: SlackRig) -> None:
    thread = start_goal(rig)
    answer(rig, thread, "1")
    first = answer(rig, thread, GOOD_ANSWERS[0], event_id="EvSAME")
    assert "Step 3 of 9" in first["text"]
    count = len(rig.api.posts())
    status, _ = rig.slack.dm_reply(
        TEACHER, GOOD_ANSWERS[0], thread, event_id="EvSAME", extra_headers={"X-Slack-Retry-Num": "1"}
    )
    assert status == 200
    time.sleep(0.5)
    assert len(rig.api.posts()) == count  # no second reply
    reply = answer(rig, thread, GOOD_ANSWERS[1])
    assert "Step 4 of 9" in reply["text"]  # the retry did not advance the dialog a second time


def test_five_identical_clicks_answer_once_and_post_nothing_more(rig: SlackRig) -> None:
    start_goal(rig)
    root = rig.api.posts()[0]
    for _ in range(5):
        rig.slack.click(TEACHER, root, 1)
    rig.api.wait_posts(2)
    time.sleep(0.5)
    assert len(rig.api.posts()) == 2  # one answer; the repeats are Slack retries or double clicks, and stay silent
    rig.slack.click(TEACHER, root, 0)  # another button of an answered question
    posts = rig.api.wait_posts(3)
    assert "already been answered" in posts[-1]["text"]


def test_wrong_signature_is_rejected(rig: SlackRig) -> None:
    status, _ = rig.slack.command(TEACHER, secret="not-the-secret")
    assert status == 401
    time.sleep(0.2)
    assert rig.api.posts() == []


def test_stale_timestamp_is_rejected(rig: SlackRig) -> None:
    status, _ = rig.slack.command(TEACHER, timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    time.sleep(0.2)
    assert rig.api.posts() == []


def test_user_text_echoed_back_cannot_ping_or_link(rig: SlackRig) -> None:
    thread = start_goal(rig)
    answer(rig, thread, "1")
    answer(rig, thread, GOOD_ANSWERS[0])
    # On the wire: a real @channel mention, a user mention, a link, and the literal text "<!here> & <@U1>"
    # that a person typed (Slack sends typed <, > and & as entities).
    wire = "<!channel> my <@U999> students <https://evil.example|click> &lt;!here&gt; &amp; &lt;@U1&gt; will read"
    answer(rig, thread, wire)
    for text in GOOD_ANSWERS[2:]:
        answer(rig, thread, text)
    review = rig.api.posts()[-1]
    assert "Here is your draft" in review["text"]
    shown = review["text"] + json.dumps(review["blocks"])
    for live in ("<!channel>", "<!here>", "<@U999>", "<@U1>", "<https://"):
        assert live not in shown
    assert "&lt;!here&gt; &amp; &lt;@U1&gt;" in review["text"]  # the typed text, shown as typed
    rig.slack.click(TEACHER, review, 0)
    rig.api.wait_for(lambda calls: any("Saved as goal" in c.params.get("text", "") for c in calls))
    stored = goal_rows(rig.runtime.db)[0]["specific"]
    assert stored == "@channel my @U999 students click <!here> & <@U1> will read"  # readable in exports


def test_rate_limited_post_is_retried_after_retry_after(rig: SlackRig) -> None:
    rig.api.fail_next("chat.postMessage", 429, times=1, retry_after=1)
    started = time.monotonic()
    start_goal(rig)
    calls = rig.api.calls
    failed = [c for c in calls if c.method == "chat.postMessage!429"]
    ok = [c for c in calls if c.method == "chat.postMessage"]
    assert len(failed) == 1 and len(ok) == 1
    assert ok[0].at - failed[0].at >= 0.9  # waited as told
    assert time.monotonic() - started < 10


def test_server_errors_are_retried_and_delivered_once(rig: SlackRig) -> None:
    rig.api.fail_next("chat.postMessage", 500, times=2)
    start_goal(rig)
    assert len(rig.api.of("chat.postMessage")) == 1


def test_reply_in_old_thread_after_save_says_how_to_edit(rig: SlackRig) -> None:
    thread = start_goal(rig)
    answer(rig, thread, "1")
    for text in GOOD_ANSWERS:
        answer(rig, thread, text)
    reply = answer(rig, thread, "save")
    assert "Saved as goal #" in reply["text"]
    late = answer(rig, thread, "actually one more thing")
    assert "already saved" in late["text"] and "/goal edit" in late["text"]
    assert len(goal_rows(rig.runtime.db)) == 1


def test_top_level_dm_is_pointed_to_the_thread(rig: SlackRig) -> None:
    status, _ = rig.slack.dm_reply(TEACHER, "hello?", None)
    assert status == 200
    post = rig.api.wait_posts(1)[-1]
    assert "reply in its thread" in post["text"]


def test_goal_list_in_a_channel_answers_privately(rig: SlackRig) -> None:
    status, _ = rig.slack.command(TEACHER, text="list", response_url=rig.api.respond_url)
    assert status == 200
    calls = rig.api.wait_for(lambda calls: any(c.method == "respond" for c in calls))
    responded = [c for c in calls if c.method == "respond"]
    assert "no goals yet" in responded[0].params["text"]
    assert responded[0].params["response_type"] == "ephemeral"
    assert rig.api.posts() == []


def test_healthz(rig: SlackRig) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", rig.slack.port, timeout=5)
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    assert response.status == 200 and response.read() == b"ok\n"


def test_a_reply_also_sent_to_the_channel_still_answers(rig: SlackRig) -> None:
    thread = start_goal(rig)
    before = len(rig.api.posts())
    rig.slack.dm_reply(TEACHER, "2", thread, subtype="thread_broadcast")
    reply = rig.api.wait_posts(before + 1)[-1]
    assert "Step 2 of 9" in reply["text"]


def test_when_slack_fails_to_open_the_dm_the_person_gets_an_apology(rig: SlackRig) -> None:
    rig.api.fail_next("conversations.open", 400)
    rig.slack.command(TEACHER, response_url=rig.api.respond_url)
    calls = rig.api.wait_for(lambda calls: any(c.method == "respond" for c in calls))
    [apology] = [c.params for c in calls if c.method == "respond"]
    assert "went wrong" in apology["text"] and apology["response_type"] == "ephemeral"


def test_a_failed_dm_open_is_tried_again_and_a_dm_once_open_is_not_opened_again(rig: SlackRig) -> None:
    """`conversations.open` is Tier 3 (about 50 a minute): a burst of commands must not spend it per command."""
    rig.api.fail_next("conversations.open", 400)
    rig.slack.command(TEACHER, response_url=rig.api.respond_url)
    rig.api.wait_for(lambda calls: any(c.method == "respond" for c in calls))
    for n in range(1, 4):
        rig.slack.command(TEACHER, "list", channel=f"D{TEACHER}", response_url=rig.api.respond_url)
        rig.api.wait_posts(n)  # "/goal list" in the DM: answered there
    opened = rig.api.of("conversations.open")
    assert len(opened) == 1 and all(c.params["users"] == TEACHER for c in opened)  # the 400 is not counted


def test_what_the_quick_ack_does_not_keep_still_reaches_bolt(rig: SlackRig) -> None:
    """Slack's URL check when the Request URL is saved, its SSL check, an event we do not use (acked, so Slack
    never turns the app off), a command we do not have and signed nonsense: answered, nothing kept or posted."""
    status, body = rig.slack.send(json.dumps({"type": "url_verification", "challenge": "c-42", "token": "x"}),
                                  "application/json")  # fmt: skip
    assert status == 200 and "c-42" in body
    assert rig.slack.send("ssl_check=1&token=x", "application/x-www-form-urlencoded")[0] == 200
    other = {"type": "event_callback", "team_id": "T1", "event_id": "Ev-other",
             "event": {"type": "app_home_opened", "user": TEACHER}}  # fmt: skip
    assert rig.slack.send(json.dumps(other), "application/json")[0] == 200
    assert rig.slack.command(TEACHER, name="/nonsense")[0] == 404  # Bolt's answer for a command it lacks
    for junk in ("{not json", "[1, 2]", '{"type": "event_callback", "event": "message"}'):
        assert rig.slack.send(junk, "application/json")[0] == 400  # Bolt alone answered 500, with a traceback
    for payload in ("%7Bnope", "%5B%5D", "%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%7B%22a%22%3A1%7D%7D"):
        assert rig.slack.send(f"payload={payload}", "application/x-www-form-urlencoded")[0] == 400
    time.sleep(0.3)
    assert rig.api.posts() == []
    assert inbox.pending(rig.runtime.db) == 0
    with unit_of_work(rig.runtime.db) as repos:
        assert repos.events.count() == 0
