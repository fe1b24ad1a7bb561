"""Command buttons and channel posts over signed Slack HTTP: a survey invitation's "Answer" opens the survey as a
modal for the person who clicks, a second click while it is open gets a sentence instead of a second modal, and
closing the modal lets the button open it again; a PLC check-in is posted in the team's channel and its "Log data
review" opens the log modal for each member who clicks; a channel the bot is not in sends the check-in to every
member's DM and tells the lead how to invite the bot."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from bot.adapters.slack_web import SlackSender, web_client
from handlers.plc.cadence import read_cadence
from handlers.plc.service import NewTeam, PlcService
from storage.models import OutboxMessage
from storage.unit_of_work import unit_of_work
from tests.bot.conftest import TEACHER, SlackRig
from tests.bot.test_slack_observe import responses
from tests.bot.test_slack_surveys import FACILITATOR, facilitator, opened


def close_view(rig: SlackRig, user: str, view: dict[str, Any]) -> None:
    """What Slack sends when a person closes a modal opened with notify_on_close."""
    payload = {"type": "view_closed", "team": {"id": "T1"}, "user": {"id": user}, "api_app_id": "A1",
               "view": view, "is_cleared": False}  # fmt: skip
    status, _ = rig.slack.send(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
    assert status == 200


def deliver(rig: SlackRig) -> None:
    rig.runtime.ticker({"slack": SlackSender(web_client("xoxb-test", rig.api.url))}).tick()


def test_the_invitation_answer_button_opens_the_survey_modal_once_until_it_is_closed(rig: SlackRig) -> None:
    with unit_of_work(rig.runtime.db) as repos:
        workspace = repos.workspaces.ensure("slack", "T1", rig.runtime.clock.now())
        repos.people.ensure(workspace.id, TEACHER, rig.runtime.clock.now(), "Dana Kim", "America/Chicago")
    facilitator(rig)
    rig.slack.command(FACILITATOR, f"send exit_slip to <@{TEACHER}> confidential", name="/survey",
                      response_url=rig.api.respond_url)  # fmt: skip
    assert "goes to 1 person now" in responses(rig, 1)[0]
    deliver(rig)
    [invite] = [p for p in rig.api.posts() if "asks for your answers" in p["text"]]
    assert invite["channel"] == f"D{TEACHER}"
    blocks = invite["blocks"] if isinstance(invite["blocks"], list) else json.loads(invite["blocks"])
    [button] = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert button["text"]["text"] == "Answer"

    rig.slack.click(TEACHER, invite, 0)
    view = opened(rig)
    assert view["notify_on_close"] is True
    assert "Confidential survey:" in json.dumps(view["blocks"])

    rig.slack.click(TEACHER, invite, 0)  # again, while the modal is open (or a double click)
    said = rig.api.wait_for(lambda calls: any("form open already" in str(c.params.get("text")) for c in calls))
    assert sum(c.method == "views.open" for c in said) == 1

    close_view(rig, TEACHER, view)
    rig.slack.click(TEACHER, invite, 0)
    again = opened(rig, 2)
    _status, body = rig.slack.submit_view(TEACHER, again, {"useful": "agree", "try": "Exit tickets"})
    assert body in ("", "{}")
    rig.api.wait_for(lambda calls: any("They are stored without your name" in str(c.params.get("text"))
                                       for c in calls))  # fmt: skip
    rig.slack.click(TEACHER, invite, 0)  # answered: a confidential answer cannot be changed
    rig.api.wait_for(lambda calls: any("already answered" in str(c.params.get("text")) for c in calls))
    assert rig.api.count("views.open") == 2


LINH, STRANGER = "U777", "U555"


def plc_team(rig: SlackRig, channel: str) -> None:
    """Grade 4 PLC (lead: the teacher, with Linh), meeting Mondays at 3pm, check-ins posted in `channel`."""
    clock = rig.runtime.clock
    with unit_of_work(rig.runtime.db) as repos:
        workspace = repos.workspaces.ensure("slack", "T1", clock.now())
        lead = repos.people.ensure(workspace.id, TEACHER, clock.now(), "Ana Rivera", "America/New_York")
        lead.roles = ["plc_lead"]
        linh = repos.people.ensure(workspace.id, LINH, clock.now(), "Linh Nguyen", "America/New_York")
        repos.people.ensure(workspace.id, STRANGER, clock.now(), "Sam Cole", "America/New_York")
        repos.session.flush()
        PlcService("America/New_York").create(
            repos, workspace.id,
            NewTeam(name="Grade 4 PLC", school="", channel=channel, lead=lead, members=[linh],
                    cadence_text="every Monday 3pm", cadence=read_cadence("every Monday 3pm"), assessments=[]),
            clock.now(),
        )  # fmt: skip


def meeting_tick(rig: SlackRig) -> None:
    """Walk to the meeting (Mon Nov 23, 3pm in New York) and send what is due."""
    rig.runtime.clock.set(datetime(2026, 11, 23, 20, 0, 5, tzinfo=UTC))  # type: ignore[attr-defined]
    deliver(rig)


def test_check_in_is_posted_in_the_channel_and_its_button_opens_the_log_modal_for_each_clicker(rig: SlackRig) -> None:
    plc_team(rig, "<#C0PLC|grade4-plc>")
    meeting_tick(rig)
    [post] = [p for p in rig.api.posts() if "PLC check-in" in p["text"]]
    assert post["channel"] == "C0PLC"  # straight to the channel, no DM opened for it
    assert "PLC check-in for *Grade 4 PLC*, Mon Nov 23 at 3:00 PM." in post["text"]
    blocks = post["blocks"] if isinstance(post["blocks"], list) else json.loads(post["blocks"])
    [button] = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert button["text"]["text"] == "Log data review"

    rig.slack.click(LINH, post, 0)
    view = opened(rig)
    assert view["title"]["text"] == "Log data review"
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["f_team"]["initial_value"] == "Grade 4 PLC"
    rig.slack.click(LINH, post, 0)  # a second click while Linh's modal is open
    rig.api.wait_for(lambda calls: any(c.method == "chat.postEphemeral" and c.params.get("user") == LINH
                                       and "form open already" in c.params["text"] for c in calls))  # fmt: skip
    rig.slack.click(TEACHER, post, 0)  # the lead gets a modal of her own
    opened(rig, 2)
    rig.slack.click(STRANGER, post, 0)
    said = rig.api.wait_for(lambda calls: any(c.method == "chat.postEphemeral" and c.params.get("user") == STRANGER
                                              for c in calls))  # fmt: skip
    assert any("You're not on *Grade 4 PLC*" in c.params["text"] for c in said if c.method == "chat.postEphemeral")
    assert rig.api.count("views.open") == 2

    answers = {"team": "Grade 4 PLC", "assessment": "Unit 3", "given_on": "2026-11-20", "students_assessed": "20",
               "percent_at_target": "55", "tier2": "5", "tier3": "2", "gaps": "", "next_steps": ""}  # fmt: skip
    rig.slack.submit_view(LINH, view, answers)
    rig.api.wait_for(lambda calls: any("Logged the *Grade 4 PLC* review" in str(c.params.get("text")) for c in calls))
    rig.slack.click(LINH, post, 0)  # submitted: the button opens a fresh form again
    opened(rig, 3)
    with unit_of_work(rig.runtime.db) as repos:
        [team] = repos.plc.in_workspace(repos.workspaces.ensure("slack", "T1", rig.runtime.clock.now()).id)
        assert [c.status for c in repos.plc.checkins(team.id)] == ["logged"]


def test_a_channel_the_bot_is_not_in_sends_the_check_in_to_each_member_and_tells_the_lead_how_to_invite_it(
    rig: SlackRig,
) -> None:
    plc_team(rig, "#grade4-plc")

    def not_in_channel(params: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        if params.get("channel") == "#grade4-plc":
            return 200, {}, {"ok": False, "error": "not_in_channel"}
        return rig.api._perform("chat.postMessage", params)

    rig.api.answers["chat.postMessage"] = not_in_channel
    meeting_tick(rig)
    deliver(rig)  # the fallback rows
    deliver(rig)  # and nothing more: the channel post is not retried
    attempts = [p for p in rig.api.posts() if p.get("channel") == "#grade4-plc"]
    assert len(attempts) == 1
    dms = {p["channel"]: p["text"] for p in rig.api.posts() if "PLC check-in" in p["text"] and p is not attempts[0]}
    assert sorted(dms) == [f"D{TEACHER}", f"D{LINH}"]
    assert "Type /invite @growthbot in #grade4-plc" in dms[f"D{TEACHER}"]
    assert "invite" not in dms[f"D{LINH}"]
    with unit_of_work(rig.runtime.db) as repos:
        rows = repos.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        channel_row = next(r for r in rows if r.idempotency_key.endswith(":channel"))
        assert channel_row.status == "failed"  # not tried again
        assert "can't post in #grade4-plc: not_in_channel; sent to DMs instead" in (channel_row.last_error or "")
        assert sorted(r.status for r in rows if ":channel:dm:" in r.idempotency_key) == ["sent", "sent"]


def test_a_survey_to_a_plc_channel_mention_reaches_the_team(rig: SlackRig) -> None:
    plc_team(rig, "#grade4-plc")
    facilitator(rig)
    rig.slack.command(FACILITATOR, "send exit_slip to <#C0PLC|grade4-plc> confidential", name="/survey",
                      response_url=rig.api.respond_url)  # fmt: skip
    assert "goes to 2 people now" in responses(rig, 1)[0]
    rig.slack.command(FACILITATOR, "send exit_slip to <#C0ELSE|staff-room>", name="/survey",
                      response_url=rig.api.respond_url)  # fmt: skip
    assert "I can't send to #staff-room: I know the people of a channel only when" in responses(rig, 2)[-1]
