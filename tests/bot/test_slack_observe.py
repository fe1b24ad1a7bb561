"""/observe over Slack HTTP: signed commands in, notices and .ics invites out through the fake Web API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from bot.adapters.slack_web import SlackSender, web_client
from scheduling.clock import FakeClock
from storage.unit_of_work import unit_of_work
from tests.bot.conftest import SlackRig

EVALUATOR, KIM = "UEVAL", "UKIM"


@pytest.fixture
def org(rig: SlackRig, clock: FakeClock) -> SlackRig:
    with unit_of_work(rig.runtime.db) as repos:
        ws = repos.workspaces.ensure("slack", "T1", clock.now())
        lopez = repos.people.ensure(ws.id, EVALUATOR, clock.now(), "Maria Lopez", "America/New_York")
        lopez.roles = ["evaluator"]
        kim = repos.people.ensure(ws.id, KIM, clock.now(), "Dana Kim", "America/Chicago")
        kim.roles, kim.email = ["teacher"], "kim@school.example"
        repos.session.flush()
        kim.evaluator_id = lopez.id
    rig.api.zones[EVALUATOR] = "America/New_York"
    return rig


def responses(rig: SlackRig, count: int) -> list[str]:
    calls = rig.api.wait_for(lambda calls: sum(c.method == "respond" for c in calls) >= count)
    return [c.params.get("text", "") for c in calls if c.method == "respond"]


def test_one_line_observe_answers_privately_and_the_tick_delivers_invites_despite_errors(org: SlackRig) -> None:
    status, _ = org.slack.command(
        EVALUATOR, f"<@{KIM}|dana> Dec 1 10am announced 30", response_url=org.api.respond_url, name="/observe"
    )
    assert status == 200
    reply = responses(org, 1)[0]
    assert "Scheduled #1: announced observation of *Dana Kim*" in reply
    assert "Tue Dec 1, 2026, 10:00 AM EST (Tue Dec 1, 2026, 9:00 AM CST for Dana Kim)" in reply

    org.api.fail_next("files.completeUploadExternal", 500)
    org.api.fail_next("conversations.open", 429, retry_after=1)
    sender = SlackSender(web_client("xoxb-test", org.api.url))
    report = org.runtime.ticker({"slack": sender}).tick()
    assert report.sent == 2 and report.failed == 0
    completes = org.api.of("files.completeUploadExternal")
    by_channel = {c.params["channel_id"]: c.params for c in completes}
    assert sorted(by_channel) == [f"D{EVALUATOR}", f"D{KIM}"]  # one each, the 500 retried once
    assert "will observe your class" in by_channel[f"D{KIM}"]["initial_comment"]
    file_id = json.loads(by_channel[f"D{KIM}"]["files"])[0]["id"]
    event = Calendar.from_ical(org.api.uploads[file_id]).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert "mailto:kim@school.example" in str(event["attendee"])

    assert org.runtime.ticker({"slack": sender}).tick().sent == 0  # nothing twice


def test_a_teacher_who_is_not_yours_is_refused_privately(org: SlackRig) -> None:
    org.slack.command(KIM, f"<@{EVALUATOR}|maria> Dec 1 10am", response_url=org.api.respond_url, name="/observe")
    assert "Maria Lopez is not one of your educators" in responses(org, 1)[0]


def opened_view(rig: SlackRig, count: int = 1) -> dict:
    """The view of the `count`th views.open call, with the id the fake gave it."""
    calls = rig.api.wait_for(lambda calls: sum(c.method == "views.open" for c in calls) >= count)
    view = [c.params for c in calls if c.method == "views.open"][count - 1]["view"]
    view = json.loads(view) if isinstance(view, str) else view
    return {**view, "id": f"V-{count}"}


def observations(rig: SlackRig) -> list[dict]:
    from handlers.observations.export import observation_rows

    return observation_rows(rig.runtime.db)


def test_observe_alone_opens_a_modal_with_inline_errors_then_schedules_once(org: SlackRig) -> None:
    status, _ = org.slack.command(EVALUATOR, "", name="/observe")
    assert status == 200
    view = opened_view(org)
    assert view["type"] == "modal" and len(view["title"]["text"]) <= 24
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == ["f_mode", "f_teacher", "f_when", "f_minutes"]
    assert inputs["f_mode"]["element"]["initial_option"]["value"] == "announced"
    assert inputs["f_minutes"]["element"]["initial_value"] == "30"

    status, body = org.slack.submit_view(
        EVALUATOR, view, {"mode": "announced", "teacher": "Nobody Here", "when": "someday", "minutes": "30"}
    )
    answer = json.loads(body)
    assert status == 200 and answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"f_teacher", "f_when"}  # every field that is wrong, each under its input
    assert "Nobody Here" in answer["errors"]["f_teacher"]

    status, body = org.slack.submit_view(
        EVALUATOR, view, {"mode": "announced", "teacher": f"<@{KIM}>", "when": "Nov 28 10am", "minutes": "30"}
    )
    assert json.loads(body)["errors"].keys() == {"f_when"}  # Saturday: not a school day, said under the field

    good = {"mode": "announced", "teacher": f"<@{KIM}>", "when": "Dec 1 10am", "minutes": "30"}
    status, body = org.slack.submit_view(EVALUATOR, view, good)
    assert status == 200 and body in ("", "{}")  # an empty answer closes the modal
    post = org.api.wait_posts(1)[-1]
    assert "Scheduled #1: announced observation of *Dana Kim*, 30 minutes." in post["text"]
    assert post["channel"] == f"D{EVALUATOR}"

    status, body = org.slack.submit_view(EVALUATOR, view, good)  # the same modal submitted again
    assert status == 200
    assert "already submitted" in org.api.wait_posts(2)[-1]["text"]
    assert len(observations(org)) == 1

    org.slack.command(EVALUATOR, "", name="/observe")  # a second modal for the visit already booked
    org.slack.submit_view(EVALUATOR, opened_view(org, 2), good)
    assert "already have this visit scheduled as #1" in org.api.wait_posts(3)[-1]["text"]
    assert len(observations(org)) == 1


def test_an_expired_trigger_falls_back_to_the_same_questions_in_a_dm_thread(org: SlackRig) -> None:
    org.api.answers["views.open"] = lambda _params: (200, {}, {"ok": False, "error": "expired_trigger_id"})
    org.slack.command(EVALUATOR, "", channel=f"D{EVALUATOR}", name="/observe")
    root = org.api.wait_posts(1)[0]
    assert "could not open in time" in root["text"] and "What kind of visit is it?" in root["text"]
    org.slack.click(EVALUATOR, root, 0)  # announced
    org.api.wait_posts(2)
    for count, text in enumerate([f"<@{KIM}>", "Dec 1 10am", "30"], start=3):
        org.slack.dm_reply(EVALUATOR, text, root["ts"])
        org.api.wait_posts(count)
    confirm = org.api.posts()[-1]
    assert "Announced observation of *Dana Kim*, 30 minutes" in confirm["text"]
    org.slack.click(EVALUATOR, confirm, 0)  # Schedule it
    done = org.api.wait_posts(6)[-1]
    assert "Scheduled #1" in done["text"] and done["thread_ts"] == root["ts"]


def test_a_roster_row_not_yet_on_slack_is_linked_by_email_when_they_first_write(org: SlackRig) -> None:
    with unit_of_work(org.runtime.db) as repos:
        ws = repos.workspaces.ensure("slack", "T1", datetime(2026, 11, 1, tzinfo=UTC))
        cole = repos.people.ensure(ws.id, "pending:cole@school.example", datetime(2026, 11, 1, tzinfo=UTC),
                                   "Sam Cole", "America/New_York")  # fmt: skip
        cole.email, cole.roles = "cole@school.example", ["teacher"]
        repos.session.flush()
        cole.evaluator_id = repos.people.find(ws.id, EVALUATOR).id  # type: ignore[union-attr]
    org.api.emails["cole@school.example"] = "UCOLE"
    org.slack.command("UCOLE", "list", response_url=org.api.respond_url, name="/observe")
    responses(org, 1)
    org.slack.command(EVALUATOR, "<@UCOLE|sam> Dec 1 10am", response_url=org.api.respond_url, name="/observe")
    assert "Scheduled #1: announced observation of *Sam Cole*" in responses(org, 2)[1]


def test_working_hours_set_in_the_settings_modal_hold_the_teachers_notice_until_they_start(
    org: SlackRig, clock: FakeClock
) -> None:
    """Mon Nov 23, 09:00 in Chicago: Kim says she starts at 10:30, so the notice waits until then, on Slack."""
    org.slack.command(KIM, "", name="/settings")
    call = org.api.wait_for(lambda calls: any(c.method == "views.open" for c in calls))
    view = next(c.params for c in call if c.method == "views.open")["view"]
    view = {**(view if isinstance(view, dict) else json.loads(view)), "id": "V-kim"}
    status, _body = org.slack.submit_view(
        KIM, view, {"time_zone": "America/Chicago", "quiet_start": "10:30", "quiet_end": "16:00"}
    )
    assert status == 200
    org.api.wait_posts(1)  # the confirmation in her DM

    org.slack.command(EVALUATOR, f"<@{KIM}|dana> Dec 3 10am announced 30", response_url=org.api.respond_url,
                      name="/observe")  # fmt: skip
    assert "Scheduled #1" in responses(org, 1)[0]
    sender = SlackSender(web_client("xoxb-test", org.api.url))
    heard: dict[str, datetime] = {}
    while clock.now() < datetime(2026, 11, 23, 18, 0, tzinfo=UTC):
        org.runtime.ticker({"slack": sender}).tick()
        for upload in org.api.of("files.completeUploadExternal"):
            heard.setdefault(upload.params["channel_id"], clock.now())
        clock.advance(timedelta(minutes=5))
    assert heard[f"D{EVALUATOR}"] == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 10:00 in New York: at once
    assert heard[f"D{KIM}"] == datetime(2026, 11, 23, 16, 30, tzinfo=UTC)  # 10:30 in Chicago, not 07:00
