"""`/away` over signed Slack HTTP: set, asked, ended, each answered privately where it was typed."""

from __future__ import annotations

from storage.unit_of_work import unit_of_work
from tests.bot.conftest import TEACHER, SlackRig
from tests.bot.test_slack_observe import responses


def test_away_is_set_reported_and_ended_privately(rig: SlackRig) -> None:
    def away(text: str, count: int) -> str:
        rig.slack.command(TEACHER, text, name="/away", response_url=rig.api.respond_url)
        return responses(rig, count)[-1]

    assert away("until Dec 10", 1).startswith("Away until ") and "reminders are paused" in responses(rig, 1)[-1]
    assert "You're away until " in away("", 2)
    assert "Welcome back: your reminders are on again." in away("off", 3)
    assert "You're not away." in away("", 4)
    with unit_of_work(rig.runtime.db) as repos:
        person = repos.people.find(repos.workspaces.ensure("slack", "T1", rig.runtime.clock.now()).id, TEACHER)
        assert person is not None and person.away_until is None
