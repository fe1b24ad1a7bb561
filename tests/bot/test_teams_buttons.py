"""Teams end to end through the signed-activity rig: command buttons on cards (a survey's "Answer", a PLC
check-in's "Log data review" in the team's channel), the card form they open in the clicker's own chat, a second
click while it is open, a channel the bot has never seen (the members' DMs instead), and `/away`."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from handlers.plc.cadence import read_cadence
from handlers.plc.service import NewTeam, PlcService
from storage import teams as teams_store
from storage.unit_of_work import unit_of_work
from tests.bot.test_teams import TENANT_ID, TeamsRig, actions, rig, text  # noqa: F401  (the rig fixture)


def seed(rig: TeamsRig) -> None:  # noqa: F811
    with unit_of_work(rig.runtime.db) as repos:
        ws = repos.workspaces.ensure("teams", TENANT_ID, rig.clock.now())
        lopez = repos.people.ensure(ws.id, "aad-lopez", rig.clock.now(), "Maria Lopez", "America/New_York")
        repos.people.ensure(ws.id, "aad-kim", rig.clock.now(), "Dana Kim", "America/New_York")
        lopez.roles = ["facilitator"]


def test_the_invitation_card_answer_button_opens_the_survey_card_once(rig: TeamsRig) -> None:  # noqa: F811
    seed(rig)
    kim = rig.person("aad-kim")
    kim.say("/survey")  # Kim's chat is known
    sent = rig.person("aad-lopez").say("/survey send exit_slip to @aad-kim confidential")
    assert "goes to 1 person now" in text(sent[-1])
    assert rig.runtime.ticker({"teams": rig.sender}).tick().sent == 1
    invite = rig.sent_to(kim.conversation)[-1]
    assert "asks for your answers to **Session exit slip**" in text(invite)
    [answer] = actions(invite)
    assert answer["title"] == "Answer"

    card = kim.submit(invite, answer["data"])[-1]
    body = card["attachments"][0]["content"]["body"]
    assert "Confidential survey:" in str(body)
    assert [b["id"] for b in body if b["type"].startswith("Input.")][:2] == ["useful", "why_not"]

    again = kim.submit(invite, answer["data"])  # the button again, while that card is unanswered
    assert "You have the **Session exit slip** form open already" in text(again[-1])
    assert len(again) == 1

    submit = actions(card)[0]["data"]
    done = kim.submit(card, {**submit, "useful": "agree", "try": "Exit tickets"})
    assert "They are stored without your name" in text(done[-1])
    after = kim.submit(invite, answer["data"])
    assert "already answered" in text(after[-1])


def test_away_over_teams_sets_reports_and_ends_it(rig: TeamsRig) -> None:  # noqa: F811
    kim = rig.person("aad-kim")
    set_ = text(kim.say("/away until Dec 10")[-1])
    assert set_.startswith("Away until ") and "Dec 10" in set_ and "reminders are paused" in set_
    assert "You're away until " in text(kim.say("away")[-1])  # the bare word works too, as in a 1:1 chat
    assert "Welcome back: your reminders are on again." in text(kim.say("/away off")[-1])
    assert "You're not away." in text(kim.say("/away")[-1])
    with unit_of_work(rig.runtime.db) as repos:
        ws = repos.workspaces.ensure("teams", TENANT_ID, rig.clock.now())
        person = repos.people.find(ws.id, "aad-kim")
        assert person is not None and person.away_until is None


CHANNEL = "19:grade4@thread.tacv2"


def plc_team(rig: TeamsRig, channel: str) -> None:  # noqa: F811
    """Grade 4 PLC (lead Ana Rivera, with Linh), Mondays at 3pm, check-ins posted in `channel`."""
    now = rig.clock.now()
    with unit_of_work(rig.runtime.db) as repos:
        ws = repos.workspaces.ensure("teams", TENANT_ID, now)
        lead = repos.people.ensure(ws.id, "aad-rivera", now, "Ana Rivera", "America/New_York")
        linh = repos.people.ensure(ws.id, "aad-linh", now, "Linh Nguyen", "America/New_York")
        lead.roles = ["plc_lead"]
        repos.session.flush()
        PlcService("America/New_York").create(
            repos, ws.id,
            NewTeam(name="Grade 4 PLC", school="", channel=channel, lead=lead, members=[linh],
                    cadence_text="every Monday 3pm", cadence=read_cadence("every Monday 3pm"), assessments=[]),
            now,
        )  # fmt: skip


def in_channel(rig: TeamsRig, **fields: Any) -> dict[str, Any]:  # noqa: F811
    """An activity in the team's channel (the bot was added to the team, or someone clicked a card there)."""
    return rig.person("aad-linh").activity(
        conversation={"id": CHANNEL, "conversationType": "channel", "tenantId": TENANT_ID},
        channelData={"tenant": {"id": TENANT_ID}, "team": {"id": "19:team", "name": "Grade 4"},
                     "channel": {"id": CHANNEL, "name": "grade4-plc"}},
        **fields,
    )  # fmt: skip


def meeting_tick(rig: TeamsRig) -> None:  # noqa: F811
    rig.clock.set(datetime(2026, 11, 23, 20, 0, 5, tzinfo=UTC))
    rig.runtime.ticker({"teams": rig.sender}).tick()
    rig.runtime.ticker({"teams": rig.sender}).tick()  # anything redirected


def test_check_in_card_in_the_channel_opens_the_log_card_in_the_clickers_chat(rig: TeamsRig) -> None:  # noqa: F811
    plc_team(rig, "#grade4-plc")
    installed = in_channel(rig, type="conversationUpdate", membersAdded=[{"id": "28:bot"}])
    assert rig.post(installed) == 200  # the bot is added to the team: the channel's reference is kept
    deadline = time.monotonic() + 5
    while teams_store.channel_named(rig.runtime.db, TENANT_ID, "#grade4-plc") is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    meeting_tick(rig)
    [card] = rig.sent_to(CHANNEL)
    assert "PLC check-in for **Grade 4 PLC**, Mon Nov 23 at 3:00 PM." in text(card)
    [log] = actions(card)
    assert log["title"] == "Log data review"

    assert rig.post(in_channel(rig, value=log["data"], replyToId=card["id"])) == 200
    deadline = time.monotonic() + 5
    while not rig.connector.of("create"):  # Linh never wrote to the bot: her 1:1 chat is opened for the form
        assert time.monotonic() < deadline
        time.sleep(0.02)
    [created] = rig.connector.of("create")
    assert created.body["members"] == [{"id": "aad-linh"}]
    chat = next(iter(rig.connector.conversations))
    [form] = rig.wait_for(chat, 1)
    body = form["attachments"][0]["content"]["body"]
    team_input = next(b for b in body if b.get("id") == "team")
    assert team_input["value"] == "Grade 4 PLC" and "Log data review" in json.dumps(body)
    assert rig.post(in_channel(rig, value=log["data"], replyToId=card["id"])) == 200
    again = rig.wait_for(chat, 2)
    assert "You have the **Log data review** form open already" in text(again[-1])
    assert len(rig.sent_to(CHANNEL)) == 1  # nothing was said in the channel


def test_an_unknown_teams_channel_falls_back_to_members_dms_and_tells_the_lead(rig: TeamsRig) -> None:  # noqa: F811
    plc_team(rig, "#nowhere")
    rivera, linh = rig.person("aad-rivera"), rig.person("aad-linh")
    rivera.say("/plc list")
    linh.say("/plc list")  # both chats are known
    meeting_tick(rig)
    lead = [text(a) for a in rig.sent_to(rivera.conversation) if "PLC check-in" in text(a)]
    member = [text(a) for a in rig.sent_to(linh.conversation) if "PLC check-in" in text(a)]
    assert len(lead) == 1 and len(member) == 1
    assert "I couldn't post in **\\#nowhere** on Teams" in lead[0] and "Add growthbot to the team" in lead[0]
    assert "couldn't post" not in member[0]
