"""Command buttons over signed Slack HTTP: a survey invitation's "Answer" opens the survey as a modal for the
person who clicks, a second click while it is open gets a sentence instead of a second modal, and closing the
modal lets the button open it again."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from bot.adapters.slack_web import SlackSender, web_client
from storage.unit_of_work import unit_of_work
from tests.bot.conftest import TEACHER, SlackRig
from tests.bot.test_slack_observe import responses
from tests.bot.test_slack_surveys import FACILITATOR, opened


def close_view(rig: SlackRig, user: str, view: dict[str, Any]) -> None:
    """What Slack sends when a person closes a modal opened with notify_on_close."""
    payload = {"type": "view_closed", "team": {"id": "T1"}, "user": {"id": user}, "api_app_id": "A1",
               "view": view, "is_cleared": False}  # fmt: skip
    status, _ = rig.slack.send(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
    assert status == 200


def deliver(rig: SlackRig) -> None:
    report = rig.runtime.ticker({"slack": SlackSender(web_client("xoxb-test", rig.api.url))}).tick()
    assert report.failed == 0


def test_the_invitation_answer_button_opens_the_survey_modal_once_until_it_is_closed(rig: SlackRig) -> None:
    with unit_of_work(rig.runtime.db) as repos:
        workspace = repos.workspaces.ensure("slack", "T1", rig.runtime.clock.now())
        repos.people.ensure(workspace.id, TEACHER, rig.runtime.clock.now(), "Dana Kim", "America/Chicago")
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
