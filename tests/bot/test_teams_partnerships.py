"""/partnership over Teams through the signed-activity rig: `new` and `plan add` are Adaptive Cards whose submits
are checked and saved, `show` and `agenda` answer in the chat, and at the reminder time the tick posts the agenda
once to the partnership's channel (its stored conversation reference), or, with no channel, to each member's 1:1
chat (created for members who never wrote to the bot)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from storage import teams as teams_store
from storage.unit_of_work import unit_of_work
from tests.bot.test_teams import TENANT_ID, Person, TeamsRig, actions, rig, text  # noqa: F401  (the rig fixture)

CHANNEL = "19:riverside@thread.tacv2"
NAME = "Riverside & State U <partners>"  # user text: escaped in every message
SHOWN = "Riverside & State U \\<partners\\>"  # as Teams markdown shows it, never a tag


def seed(rig: TeamsRig) -> None:  # noqa: F811
    """Baker leads partnerships; Okafor and Patel are on the roster with their Teams (AAD) ids, in New York."""
    now = rig.clock.now()
    with unit_of_work(rig.runtime.db) as repos:
        ws = repos.workspaces.ensure("teams", TENANT_ID, now)
        repos.people.ensure(ws.id, "aad-baker", now, "Jordan Baker", "America/New_York").roles = ["partnership_lead"]
        repos.people.ensure(ws.id, "aad-okafor", now, "Grace Okafor", "America/New_York").roles = ["evaluator"]
        repos.people.ensure(ws.id, "aad-patel", now, "Priya Patel", "America/New_York").roles = ["teacher"]


def inputs(card: dict[str, Any]) -> list[str]:
    return [b["id"] for b in card["attachments"][0]["content"]["body"] if b["type"].startswith("Input.")]


def new_partnership(rig: TeamsRig, channel: str) -> str:  # noqa: F811
    """`/partnership new` as a card, a submit with a member not on the roster, then a good one; the reply."""
    baker = rig.person("aad-baker")
    card = baker.say("/partnership new")[-1]
    assert inputs(card) == ["name", "district", "program", "members", "stage", "vision", "leadership", "liaison",
                            "quarterly", "channel"]  # fmt: skip
    submit = actions(card)[0]["data"]
    answers = {**submit, "name": NAME, "district": "Riverside Public Schools", "program": "State University",
               "members": "Grace Okafor: principal\n@patel: liaison", "stage": "implementation",
               "vision": "Every new teacher learned to teach here.", "leadership": "first Tuesday 3:30pm",
               "channel": channel}  # fmt: skip
    wrong = baker.submit(card, {**answers, "members": "Sam Nobody: principal"})
    assert "Sam Nobody" in json.dumps(wrong[-1]) and "not on the roster" in json.dumps(wrong[-1])  # under its input
    done = text(baker.submit(card, answers)[-1])
    assert "already submitted" in text(baker.submit(card, answers)[-1])  # a second submit of the same card
    return done


def add_steps(rig: TeamsRig) -> None:  # noqa: F811
    """Step 1 (Okafor) was due Fri Nov 20, so it is overdue; step 2 (Patel) is due Mon Nov 30, before the meeting."""
    baker = rig.person("aad-baker")
    card = baker.say("/partnership plan add")[-1]
    assert inputs(card)[:4] == ["step", "start_on", "due_on", "responsible"]
    submit = actions(card)[0]["data"]
    step = {**submit, "step": "Review pipeline data", "start_on": "2026-11-02", "due_on": "2026-11-20",
            "responsible": "@okafor", "impact": "1", "lift": "2", "status": "in_progress"}  # fmt: skip
    wrong = baker.submit(card, {**step, "responsible": "@cole"})
    assert "cole is not a member of the partnership" in json.dumps(wrong[-1])
    assert 'Added step #1 "Review pipeline data", due Fri Nov 20.' in text(baker.submit(card, step)[-1])
    card = baker.say("/partnership plan add")[-1]
    second = {**actions(card)[0]["data"], "step": "Set up a liaison calendar", "start_on": "2026-11-23",
              "due_on": "2026-11-30", "responsible": "Priya Patel", "impact": "1", "lift": "3",
              "status": "not_started"}  # fmt: skip
    assert 'Added step #2 "Set up a liaison calendar"' in text(baker.submit(card, second)[-1])


def tick(rig: TeamsRig, at: datetime) -> None:  # noqa: F811
    rig.clock.set(at)
    rig.runtime.ticker({"teams": rig.sender}).tick()
    rig.runtime.ticker({"teams": rig.sender}).tick()  # anything redirected, and nothing twice


def agenda_checks(said: str) -> None:
    overdue, rest = said.split("1. Overdue steps")[1].split("2. Due before the next meeting")
    assert "#1 Review pipeline data: Grace Okafor, due Fri Nov 20 (in progress)" in overdue
    assert "#2 Set up a liaison calendar: Priya Patel, due Mon Nov 30" in rest.split("3.")[0]
    assert "#2 Set up a liaison calendar: Priya Patel" in rest.split("5. High impact, low lift, not started")[1]


def test_a_partnership_made_in_cards_gets_its_reminder_with_the_agenda_in_its_channel(rig: TeamsRig) -> None:  # noqa: F811
    """Mon Nov 23 10:00 in New York; the leadership meeting is the first Tuesday (Dec 1, 3:30pm), so the reminder
    five school days before is Tue Nov 24 at 08:00 and the morning one Dec 1 at 07:30."""
    seed(rig)
    done = new_partnership(rig, "#riverside-partnership")
    assert done.startswith(f"Created **{SHOWN}**. Members: Jordan Baker (lead), "
                           "Grace Okafor (principal), Priya Patel (liaison).")  # fmt: skip
    assert "A reminder is posted in \\#riverside-partnership 5 school days before each meeting" in done
    assert "add growthbot to the team, then mention @growthbot once in that channel" in done
    add_steps(rig)

    shown = text(rig.person("aad-patel").say("/partnership show")[-1])
    assert f"**{SHOWN}**: Riverside Public Schools with State University." in shown
    assert "Members: Jordan Baker (lead), Grace Okafor (principal), Priya Patel (liaison)" in shown
    assert "leadership meeting: first Tuesday 3:30pm; next Tue Dec 1, 3:30 PM" in shown
    assert "Action plan: 2 steps, 0 done." in shown
    agenda = text(rig.person("aad-okafor").say("/partnership agenda")[-1])
    assert "leadership meeting, Tue Dec 1 at 3:30 PM." in agenda
    agenda_checks(agenda)

    # The bot is added to the team: the channel's conversation reference is kept, found by its name.
    installed = rig.person("aad-baker").activity(
        type="conversationUpdate", membersAdded=[{"id": "28:bot"}],
        conversation={"id": CHANNEL, "conversationType": "channel", "tenantId": TENANT_ID},
        channelData={"tenant": {"id": TENANT_ID}, "team": {"id": "19:team", "name": "Riverside"},
                     "channel": {"id": CHANNEL, "name": "riverside-partnership"}},
    )  # fmt: skip
    assert rig.post(installed) == 200
    deadline = time.monotonic() + 5
    while teams_store.channel_named(rig.runtime.db, TENANT_ID, "#riverside-partnership") is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    before = {chat: len(rig.sent_to(chat)) for chat in (f"a:chat-aad-{who}" for who in ("baker", "okafor", "patel"))}

    tick(rig, datetime(2026, 11, 24, 13, 0, 5, tzinfo=UTC))
    [reminder] = rig.sent_to(CHANNEL)
    said = text(reminder)
    assert said.startswith(f"Coming up: **{SHOWN}** leadership meeting, Tue Dec 1 at 3:30 PM.")
    agenda_checks(said)
    assert {chat: len(rig.sent_to(chat)) for chat in before} == before  # the channel only, no DMs
    assert not rig.connector.of("create")

    tick(rig, datetime(2026, 12, 1, 12, 30, 5, tzinfo=UTC))
    posts = rig.sent_to(CHANNEL)
    assert len(posts) == 2 and text(posts[-1]).startswith(f"Today: **{SHOWN}**")


def test_without_a_channel_each_member_gets_the_reminder_in_their_own_chat(rig: TeamsRig) -> None:  # noqa: F811
    seed(rig)
    done = new_partnership(rig, "")
    assert "Members get a reminder 5 school days before each meeting and on its morning" in done
    add_steps(rig)
    baker = rig.person("aad-baker")
    before = len(rig.sent_to(baker.conversation))

    tick(rig, datetime(2026, 11, 24, 13, 0, 5, tzinfo=UTC))
    [mine] = rig.sent_to(baker.conversation)[before:]  # Baker's chat is known: he wrote to the bot
    assert text(mine).startswith(f"Coming up: **{SHOWN}** leadership meeting")
    agenda_checks(text(mine))
    created = rig.connector.of("create")  # Okafor and Patel never wrote: their 1:1 chats are opened for it
    assert sorted(c.body["members"][0]["id"] for c in created) == ["aad-okafor", "aad-patel"]
    for chat in rig.connector.conversations:
        [theirs] = rig.sent_to(chat)
        assert text(theirs) == text(mine)
