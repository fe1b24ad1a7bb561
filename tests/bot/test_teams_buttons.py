"""Teams end to end through the signed-activity rig: command buttons on cards (a survey's "Answer"), the card
form they open for whoever clicks, a second click while it is open, and `/away`."""

from __future__ import annotations

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
