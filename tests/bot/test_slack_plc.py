"""/plc over signed Slack HTTP: the log form opens as a modal from the slash command; bad counts are shown under
their fields, a good review is saved once and confirmed in the DM."""

from __future__ import annotations

import json

from handlers.plc.cadence import read_cadence
from handlers.plc.service import NewTeam, PlcService
from scheduling.clock import FakeClock
from storage.unit_of_work import unit_of_work
from tests.bot.conftest import TEACHER, SlackRig

OTHER = "U777"


def test_log_data_review_modal_checks_counts_and_saves_once(rig: SlackRig, clock: FakeClock) -> None:
    rig.slack.command(TEACHER, "", name="/settings")  # the person and the workspace come from Slack
    rig.api.wait_for(lambda calls: any(c.method == "views.open" for c in calls))
    rig.api.calls.clear()
    with unit_of_work(rig.runtime.db) as repos:
        lead = next(p for ws in [repos.workspaces.ensure("slack", "T1", clock.now())]
                    for p in [repos.people.find(ws.id, TEACHER)] if p is not None)  # fmt: skip
        other = repos.people.ensure(lead.workspace_id, OTHER, clock.now(), "Linh Nguyen", "America/New_York")
        repos.session.flush()
        PlcService("America/New_York").create(
            repos,
            lead.workspace_id,
            NewTeam(
                name="Grade 4 PLC",
                school="",
                channel="#g4",
                lead=lead,
                members=[other],
                cadence_text="every Monday 3pm",
                cadence=read_cadence("every Monday 3pm"),
                assessments=[],
            ),
            clock.now(),
        )
    rig.slack.command(TEACHER, "log", name="/plc")
    views = [c for c in rig.api.wait_for(lambda calls: sum(c.method == "views.open" for c in calls) >= 1)
             if c.method == "views.open"]  # fmt: skip
    raw = views[-1].params["view"]
    view = {**(raw if isinstance(raw, dict) else json.loads(raw)), "id": "V-plc"}
    assert view["title"]["text"] == "Log data review"
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["f_team"]["initial_value"] == "Grade 4 PLC"
    answers = {"team": "Grade 4 PLC", "assessment": "Unit 3", "given_on": "2026-11-20", "students_assessed": "20",
               "percent_at_target": "55", "tier2": "15", "tier3": "9", "gaps": "", "next_steps": ""}  # fmt: skip
    _status, body = rig.slack.submit_view(TEACHER, view, answers)
    errors = json.loads(body)["errors"]
    assert "more than the 20 assessed" in errors["f_tier3"]
    _status, body = rig.slack.submit_view(TEACHER, view, answers | {"tier3": "3"})
    assert "Logged the *Grade 4 PLC* review of Unit 3" in rig.api.wait_posts(1)[-1]["text"]
    rig.slack.submit_view(TEACHER, view, answers | {"tier3": "3"})  # a second submit of the same modal
    with unit_of_work(rig.runtime.db) as repos:
        team = repos.plc.in_workspace(lead.workspace_id)[0]
        assert len(repos.plc.reviews(team.id)) == 1
