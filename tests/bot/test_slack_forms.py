"""Neutral forms as Slack modals over signed HTTP: /settings, and a form long enough to need pages."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bot.adapters.slack import build_slack_app, wsgi_app
from bot.adapters.slack_web import web_client
from bot.app import assemble
from bot.http_server import make_server
from bot.render.slack_forms import INPUTS_PER_PAGE, METADATA_LIMIT, ViewTooLarge, modal
from bot.serve import Platform, start_drain
from bot.settings import Settings
from handlers.features import Command, Feature, Invocation, Setup
from handlers.forms import FormResult, FormSpec, Submission
from handlers.messages import Form, FormField, Outbound, Reply
from handlers.registry import FEATURES
from handlers.router import Bot
from storage.unit_of_work import unit_of_work
from tests.bot.conftest import TEACHER, SlackRig
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_client import SIGNING_SECRET, SlackSender

LONG = Form(
    id="long",
    title="A long needs assessment form",
    fields=[FormField(name=f"q{n}", kind="number", label=f"Question {n}", min=0, max=10) for n in range(1, 26)],
)
SAVED: list[dict[str, Any]] = []


def long_feature(setup: Setup) -> Feature:
    def submit(submission: Submission) -> FormResult:
        SAVED.append(submission.values)
        return FormResult(messages=[Outbound(template="forms/already_submitted")])

    def run(invocation: Invocation) -> Reply:
        return setup.port.open_form(invocation.repos, invocation, "long", {})

    spec = FormSpec(id="long", submit=submit, words=LONG)
    return Feature(name="long", commands=(Command("long", "a long form", "", run),), forms=(spec,))


def opened(api: FakeSlackAPI) -> dict[str, Any]:
    call = api.wait_for(lambda calls: any(c.method == "views.open" for c in calls))
    params = next(c.params for c in call if c.method == "views.open")
    view = params["view"] if isinstance(params["view"], dict) else json.loads(params["view"])
    return {**view, "id": "V-long"}


@pytest.fixture
def long_rig(db, bot: Bot) -> Iterator[SlackRig]:  # type: ignore[no-untyped-def]
    SAVED.clear()
    with FakeSlackAPI() as api:
        settings = Settings(_env_file=None, slack_bot_token="xoxb-test", slack_signing_secret=SIGNING_SECRET,
                            slack_api_url=api.url)  # fmt: skip
        runtime = assemble(settings, db, bot.clock)
        runtime = runtime.__class__(settings, db, Bot(db, bot.clock, settings, (*FEATURES, long_feature)),
                                    bot.clock, runtime.kinds)  # fmt: skip
        app, adapter = build_slack_app(runtime, web_client("xoxb-test", api.url))
        server = make_server(wsgi_app(app, adapter, SIGNING_SECRET), "127.0.0.1", 0, threads=4)
        threading.Thread(target=server.run, daemon=True).start()
        stop = start_drain(
            runtime,
            [
                Platform(
                    "slack",
                    adapter.handle_item,
                    None,
                    adapter.deliver_all,  # type: ignore[arg-type]
                    lambda wake: setattr(adapter, "wake", wake),
                )
            ],
        )
        try:
            yield SlackRig(api=api, slack=SlackSender(server.effective_port), runtime=runtime)
        finally:
            stop.set()
            server.close()


def test_settings_modal_saves_hours_and_a_zone_the_profile_no_longer_overrides(rig: SlackRig) -> None:
    rig.slack.command(TEACHER, "", name="/settings")
    call = rig.api.wait_for(lambda calls: any(c.method == "views.open" for c in calls))
    view = next(c.params for c in call if c.method == "views.open")["view"]
    view = {**(view if isinstance(view, dict) else json.loads(view)), "id": "V-set"}
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["f_time_zone"]["initial_value"] == "America/Chicago"  # from the Slack profile
    assert inputs["f_quiet_start"] == {"type": "timepicker", "action_id": "v", "initial_time": "07:00"}

    _status, body = rig.slack.submit_view(
        TEACHER, view, {"time_zone": "Mars/Olympus", "quiet_start": "08:00", "quiet_end": "08:30"}
    )
    errors = json.loads(body)["errors"]
    assert set(errors) == {"f_time_zone"} and "Mars/Olympus" in errors["f_time_zone"]
    _status, body = rig.slack.submit_view(
        TEACHER, view, {"time_zone": "Europe/Dublin", "quiet_start": "08:00", "quiet_end": "08:30"}
    )
    assert "at least an hour" in json.loads(body)["errors"]["f_quiet_end"]
    rig.slack.submit_view(TEACHER, view, {"time_zone": "Europe/Dublin", "quiet_start": "08:00", "quiet_end": "15:30"})
    assert "between 08:00 and 15:30, Europe/Dublin time" in rig.api.wait_posts(1)[-1]["text"]

    rig.slack.command(TEACHER, "show", channel=f"D{TEACHER}", name="/settings")  # the profile still says Chicago
    assert "Europe/Dublin" in rig.api.wait_posts(2)[-1]["text"]
    with unit_of_work(rig.runtime.db) as repos:
        workspace = repos.workspaces.ensure("slack", "T1", rig.runtime.clock.now())
        person = repos.people.find(workspace.id, TEACHER)
        assert person is not None and (person.quiet_start, person.quiet_end) == ("08:00", "15:30")


def test_a_form_longer_than_a_page_is_split_and_submitted_once_at_the_end(long_rig: SlackRig) -> None:
    long_rig.slack.command(TEACHER, "", name="/long")
    first = opened(long_rig.api)
    inputs = [b for b in first["blocks"] if b["type"] == "input"]
    assert len(inputs) == INPUTS_PER_PAGE and first["submit"]["text"] == "Next"
    assert len(first["title"]["text"]) <= 24 and len(first["blocks"]) <= 100

    answers = {f"q{n}": str(n % 11) for n in range(1, 21)}
    _status, body = long_rig.slack.submit_view(TEACHER, first, {**answers, "q3": "11"})
    assert json.loads(body) == {"response_action": "errors", "errors": {"f_q3": "11 is out of range: type a number "
                                                                                 "from 0 to 10."}}  # fmt: skip
    _status, body = long_rig.slack.submit_view(TEACHER, first, answers)
    update = json.loads(body)
    assert update["response_action"] == "update"
    second = {**update["view"], "id": "V-long"}
    assert [b["block_id"] for b in second["blocks"] if b["type"] == "input"] == [f"f_q{n}" for n in range(21, 26)]
    assert SAVED == []

    _status, body = long_rig.slack.submit_view(TEACHER, second, {f"q{n}": "5" for n in range(21, 26)})
    assert body in ("", "{}")
    long_rig.api.wait_posts(1)
    assert len(SAVED) == 1 and SAVED[0]["q1"] == 1 and SAVED[0]["q25"] == 5


def test_a_view_that_would_break_slacks_limits_is_never_built() -> None:
    too_much = LONG.model_copy(update={"context": {"notes": "x" * METADATA_LIMIT}})
    with pytest.raises(ViewTooLarge):
        modal(too_much)
    long_title = modal(LONG.model_copy(update={"title": "x" * 80}))
    assert len(long_title["title"]["text"]) == 24
