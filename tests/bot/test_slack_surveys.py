"""Surveys on Slack over signed HTTP: `/survey send` from a slash command, `/survey answer N` opens the
instrument as a modal with the mode line first, a submission is checked like the terminal's and saved once."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from storage.models import SurveySealedAnswer
from storage.unit_of_work import unit_of_work
from tests.bot.conftest import TEACHER, SlackRig
from tests.bot.test_slack_observe import responses

FACILITATOR = "U900"


def facilitator(rig: SlackRig) -> None:
    """The sender is on the roster as a facilitator: sending a survey takes a roster role."""
    with unit_of_work(rig.runtime.db) as repos:
        workspace = repos.workspaces.ensure("slack", "T1", rig.runtime.clock.now())
        repos.people.ensure(
            workspace.id, FACILITATOR, rig.runtime.clock.now(), "Ana Patel", "America/Chicago"
        ).roles = ["facilitator"]


def opened(rig: SlackRig, count: int = 1) -> dict[str, Any]:
    calls = rig.api.wait_for(lambda calls: sum(c.method == "views.open" for c in calls) >= count)
    params = [c.params for c in calls if c.method == "views.open"][count - 1]
    view = params["view"] if isinstance(params["view"], dict) else json.loads(params["view"])
    return {**view, "id": f"V-survey-{count}"}


def test_a_confidential_exit_slip_opens_as_a_modal_says_the_mode_first_and_saves_once(rig: SlackRig) -> None:
    with unit_of_work(rig.runtime.db) as repos:
        workspace = repos.workspaces.ensure("slack", "T1", rig.runtime.clock.now())
        repos.people.ensure(workspace.id, TEACHER, rig.runtime.clock.now(), "Dana Kim", "America/Chicago")
    facilitator(rig)
    rig.slack.command(FACILITATOR, f"send exit_slip to <@{TEACHER}> confidential", name="/survey",
                      response_url=rig.api.respond_url)  # fmt: skip
    assert "goes to 1 person now" in responses(rig, 1)[0]

    rig.slack.command(TEACHER, "answer 1", name="/survey")
    view = opened(rig)
    words = json.dumps(view["blocks"])
    assert "Confidential survey: The person who sent it will see that you answered, never which" in words
    assert words.index("Confidential survey:") < words.index("This session was a good use of my time.")

    _status, body = rig.slack.submit_view(TEACHER, view, {"useful": "agree"})
    again = json.loads(body)["view"]  # a required question left empty: the same view, saying what is missing
    assert 'Please answer \\"One thing you will try' in json.dumps(again["blocks"])
    assert "Confidential survey:" in json.dumps(again["blocks"])
    _status, body = rig.slack.submit_view(TEACHER, view, {"useful": "agree", "try": "Exit tickets"})
    assert body in ("", "{}")
    rig.slack.submit_view(TEACHER, view, {"useful": "agree", "try": "Exit tickets"})  # a double submit
    posts = rig.api.wait_posts(1)
    assert any("are in. They are stored without your name." in p["text"] for p in posts)
    with unit_of_work(rig.runtime.db) as repos:
        rows = repos.session.scalars(select(SurveySealedAnswer)).all()
        assert [r.answers for r in rows] == [{"useful": "Agree", "try": "Exit tickets"}]

    rig.slack.command(TEACHER, "answer 1", name="/survey", response_url=rig.api.respond_url)
    assert "already answered" in responses(rig, 2)[-1]
