"""`/goal check` in Slack: the verdicts open a DM thread, echo the goal escaped, and Yes coaches the missing parts."""

from __future__ import annotations

import json

from tests.bot.conftest import TEACHER, SlackRig

GOAL = (
    "By June 2027, <!channel> 80% of my 3rd graders will read at grade level on the spring DIBELS, up from 55% "
    "this fall, through daily small-group phonics lessons I lead."
)


def test_goal_check_opens_a_dm_thread_with_the_verdicts_and_coaches_the_missing_parts(rig: SlackRig) -> None:
    status, _ = rig.slack.command(TEACHER, text=f"check {GOAL}", channel="C1", response_url=rig.api.respond_url)
    assert status == 200
    posts = rig.api.wait_posts(1)
    root = posts[0]
    assert root["channel"] == f"D{TEACHER}"
    shown = root["text"] + json.dumps(root.get("blocks", []))
    assert "How your goal reads, element by element:" in root["text"]
    assert "T (Timed & Tracked): present" in root["text"].replace("&amp;", "&")
    assert "<!channel>" not in shown
    assert "Yes" in json.dumps(root["blocks"]) and "only the missing parts" in shown

    buttons = [e for b in root["blocks"] if b.get("type") == "actions" for e in b["elements"]]
    yes = next(i for i, e in enumerate(buttons) if e["text"]["text"] == "Yes")
    rig.slack.click(TEACHER, root, yes)
    filled, asked = rig.api.wait_posts(3)[1:3]
    assert filled.get("thread_ts") == asked.get("thread_ts") == root["ts"]
    assert filled["text"].startswith("From your goal I filled in: Specific &amp; Strategic, Measurable")
    assert "What kind of goal" in asked["text"]
