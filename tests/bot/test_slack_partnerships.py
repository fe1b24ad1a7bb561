"""/partnership over signed Slack HTTP: `new` and `plan add` open as modals and their submissions are saved, `show`
and `agenda` answer privately, and at the reminder time the tick posts the agenda once in the partnership's channel
(through the fake Web API), listing the real overdue and upcoming steps."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.adapters.slack_web import SlackSender, web_client
from storage.unit_of_work import unit_of_work
from tests.bot.conftest import TEACHER, SlackRig
from tests.bot.test_slack_observe import responses
from tests.bot.test_slack_surveys import opened

LEAD, OKAFOR, PATEL = TEACHER, "U777", "U555"
NAME = "Riverside & State U <partners>"  # user text: escaped in every message
CHANNEL = "#riverside-partnership"


def seed(rig: SlackRig) -> None:
    """Baker leads partnerships; Okafor and Patel are on the roster (Slack ids), in New York."""
    now = rig.runtime.clock.now()
    rig.api.zones.update({LEAD: "America/New_York", OKAFOR: "America/New_York", PATEL: "America/New_York"})
    with unit_of_work(rig.runtime.db) as repos:
        workspace = repos.workspaces.ensure("slack", "T1", now)
        lead = repos.people.ensure(workspace.id, LEAD, now, "Jordan Baker", "America/New_York")
        lead.roles = ["partnership_lead"]
        repos.people.ensure(workspace.id, OKAFOR, now, "Grace Okafor", "America/New_York").roles = ["evaluator"]
        repos.people.ensure(workspace.id, PATEL, now, "Priya Patel", "America/New_York").roles = ["teacher"]


def deliver(rig: SlackRig) -> None:
    rig.runtime.ticker({"slack": SlackSender(web_client("xoxb-test", rig.api.url))}).tick()


def dm_text(rig: SlackRig, containing: str) -> str:
    """The DM (a chat.postMessage to the lead) that says `containing`, waited for."""
    calls = rig.api.wait_for(
        lambda calls: any(c.method == "chat.postMessage" and containing in str(c.params.get("text")) for c in calls)
    )
    return next(str(c.params["text"]) for c in calls if c.method == "chat.postMessage" and containing in
                str(c.params.get("text")))  # fmt: skip


def inputs(view: dict) -> list[str]:
    return [b["block_id"][2:] for b in view["blocks"] if b["type"] == "input"]


def test_a_partnership_made_in_modals_gets_its_reminder_with_the_agenda_in_its_channel(rig: SlackRig) -> None:
    """Mon Nov 23 10:00 in New York. The leadership meeting is the first Tuesday (Dec 1, 3:30pm); the reminder
    five school days before is Tue Nov 24 at 08:00, and the morning one Dec 1 at 07:30."""
    seed(rig)
    rig.slack.command(LEAD, "new", name="/partnership")
    view = opened(rig)
    assert view["title"]["text"] == "New partnership"
    assert inputs(view) == ["name", "district", "program", "members", "stage", "vision", "leadership", "liaison",
                            "quarterly", "channel"]  # fmt: skip
    answers = {"name": NAME, "district": "Riverside Public Schools", "program": "State University",
               "members": "Grace Okafor: principal\n@patel: liaison", "stage": "implementation",
               "vision": "Every new teacher learned to teach here.", "leadership": "first Tuesday 3:30pm",
               "channel": CHANNEL}  # fmt: skip
    _status, body = rig.slack.submit_view(LEAD, view, answers | {"members": "Sam Nobody: principal"})
    assert '"Sam Nobody": not on the roster' in json.loads(body)["errors"]["f_members"]  # shown under the field
    _status, body = rig.slack.submit_view(LEAD, view, answers)
    assert body in ("", "{}")
    created = dm_text(rig, "Created")
    assert created.startswith("Created *Riverside &amp; State U &lt;partners&gt;*. Members: Jordan Baker (lead), "
                              "Grace Okafor (principal), Priya Patel (liaison).")  # fmt: skip
    assert f"A reminder is posted in {CHANNEL} 5 school days before each meeting" in created
    assert "/invite @growthbot" in created
    rig.slack.submit_view(LEAD, view, answers)  # a second submit of the same modal makes nothing more
    with unit_of_work(rig.runtime.db) as repos:
        assert (
            len(repos.partnerships.in_workspace(repos.workspaces.ensure("slack", "T1", rig.runtime.clock.now()).id))
            == 1
        )

    rig.slack.command(LEAD, "plan add", name="/partnership")
    step_view = opened(rig, 2)
    assert step_view["title"]["text"] == "Action step"
    step = {"step": "Review pipeline data", "start_on": "2026-11-02", "due_on": "2026-11-20",
            "responsible": "@okafor", "impact": "1", "lift": "2", "status": "in_progress"}  # fmt: skip
    _status, body = rig.slack.submit_view(LEAD, step_view, step | {"responsible": "@cole"})
    assert "cole is not a member of the partnership" in json.loads(body)["errors"]["f_responsible"]
    rig.slack.submit_view(LEAD, step_view, step)
    assert 'Added step #1 "Review pipeline data", due Fri Nov 20.' in dm_text(rig, "Added step #1")
    rig.slack.command(LEAD, "plan add", name="/partnership")
    second = opened(rig, 3)
    rig.slack.submit_view(LEAD, second, {"step": "Set up a liaison calendar", "start_on": "2026-11-23",
                                         "due_on": "2026-11-30", "responsible": "Priya Patel", "impact": "1",
                                         "lift": "3", "status": "not_started"})  # fmt: skip
    dm_text(rig, "Added step #2")

    rig.slack.command(PATEL, "show", name="/partnership", response_url=rig.api.respond_url)
    shown = responses(rig, 1)[-1]
    assert "*Riverside &amp; State U &lt;partners&gt;*: Riverside Public Schools with State University." in shown
    assert "Members: Jordan Baker (lead), Grace Okafor (principal), Priya Patel (liaison)" in shown
    assert "leadership meeting: first Tuesday 3:30pm; next Tue Dec 1, 3:30 PM" in shown
    assert "Action plan: 2 steps, 0 done." in shown
    rig.slack.command(OKAFOR, "agenda", name="/partnership", response_url=rig.api.respond_url)
    agenda = responses(rig, 2)[-1]
    assert "leadership meeting, Tue Dec 1 at 3:30 PM." in agenda
    assert "#1 Review pipeline data: Grace Okafor, due Fri Nov 20 (in progress)" in agenda.split("2. Due")[0]
    assert "#2 Set up a liaison calendar: Priya Patel, due Mon Nov 30" in agenda.split("2. Due")[1]
    assert not [p for p in rig.api.posts() if p.get("channel") == CHANNEL]  # nothing in the channel yet

    rig.runtime.clock.set(datetime(2026, 11, 24, 13, 0, 5, tzinfo=UTC))  # type: ignore[attr-defined]
    deliver(rig)
    deliver(rig)  # and nothing more
    [post] = [p for p in rig.api.posts() if p.get("channel") == CHANNEL]
    assert post["text"].startswith(
        "Coming up: *Riverside &amp; State U &lt;partners&gt;* leadership meeting, Tue Dec 1 at 3:30 PM."
    )
    overdue, rest = post["text"].split("1. Overdue steps")[1].split("2. Due before the next meeting")
    assert "#1 Review pipeline data: Grace Okafor, due Fri Nov 20 (in progress)" in overdue
    assert "#2 Set up a liaison calendar: Priya Patel, due Mon Nov 30" in rest.split("3.")[0]
    assert "#2 Set up a liaison calendar: Priya Patel" in rest.split("5. High impact, low lift, not started")[1]
    assert not [p for p in rig.api.posts() if "Agenda" in p["text"] and p.get("channel") != CHANNEL]  # no DMs

    rig.runtime.clock.set(datetime(2026, 12, 1, 12, 30, 5, tzinfo=UTC))  # type: ignore[attr-defined]
    deliver(rig)
    morning = [p for p in rig.api.posts() if p.get("channel") == CHANNEL]
    assert len(morning) == 2 and morning[-1]["text"].startswith("Today: *Riverside &amp; State U")


def test_a_channel_the_bot_is_not_in_sends_the_reminder_to_each_member_and_tells_the_lead(rig: SlackRig) -> None:
    seed(rig)
    rig.slack.command(LEAD, "new", name="/partnership")
    rig.slack.submit_view(LEAD, opened(rig), {"name": NAME, "district": "Riverside Public Schools",
                                              "program": "State University", "stage": "initiation",
                                              "members": "Grace Okafor: principal\nPriya Patel: liaison",
                                              "leadership": "first Tuesday 3:30pm", "channel": CHANNEL})  # fmt: skip
    dm_text(rig, "Created")

    def not_in_channel(params: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        if params.get("channel") == CHANNEL:
            return 200, {}, {"ok": False, "error": "not_in_channel"}
        return rig.api._perform("chat.postMessage", params)

    rig.api.answers["chat.postMessage"] = not_in_channel
    rig.runtime.clock.set(datetime(2026, 11, 24, 13, 0, 5, tzinfo=UTC))  # type: ignore[attr-defined]
    deliver(rig)
    deliver(rig)  # the fallback rows
    deliver(rig)  # and nothing more: the channel post is not retried
    assert len([p for p in rig.api.posts() if p.get("channel") == CHANNEL]) == 1
    agendas = {p["channel"]: p["text"] for p in rig.api.posts() if "Agenda" in p["text"] and p["channel"] != CHANNEL}
    assert sorted(agendas) == sorted(f"D{who}" for who in (LEAD, OKAFOR, PATEL))
    assert f"Type /invite @growthbot in {CHANNEL}" in agendas[f"D{LEAD}"]
    assert all("invite" not in agendas[f"D{who}"] for who in (OKAFOR, PATEL))
    assert all("Coming up: *Riverside &amp; State U &lt;partners&gt;* leadership" in t for t in agendas.values())
