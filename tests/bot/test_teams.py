"""Teams end to end: signed activities into the real HTTP app, every reply and notice out through a fake Connector.

The Bot Framework's keys, Microsoft Entra (msal's token endpoint) and the Bot Connector are fakes on
127.0.0.1; tokens are minted in the test with a locally generated RSA key.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar

from bot.adapters.teams import MESSAGES_PATH, TeamsSender, build_teams
from bot.app import Runtime, assemble
from bot.http_server import make_server, routes_app
from bot.serve import Platform, start_drain
from bot.settings import Settings
from handlers.goals.export import goal_rows
from scheduling.clock import FakeClock
from storage import inbox
from storage.models import ClosedDay, SchoolYear
from storage.unit_of_work import unit_of_work
from tests.fakes.teams import (
    APP_ID,
    APP_PASSWORD,
    TENANT_ID,
    FakeBotConnector,
    FakeBotFrameworkOpenID,
    FakeEntra,
    SigningKey,
    mint,
    new_signing_key,
)

BOT = f"28:{APP_ID}"


@dataclass
class TeamsRig:
    runtime: Runtime
    connector: FakeBotConnector
    entra: FakeEntra
    key: SigningKey
    port: int
    sender: TeamsSender
    clock: FakeClock

    def post(self, activity: dict[str, Any], token: str | None = "good") -> int:
        if token == "good":
            token = mint(self.key, service_url=activity["serviceUrl"], now=self.clock.now().timestamp())
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("POST", MESSAGES_PATH, body=json.dumps(activity).encode(), headers=headers)
            return connection.getresponse().status
        finally:
            connection.close()

    def person(self, aad: str) -> Person:
        return Person(self, aad)

    def sent_to(self, conversation: str) -> list[dict[str, Any]]:
        return self.connector.activities(conversation)

    def wait_for(self, conversation: str, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        """At least `count` activities, and then no more for a moment (one reply may be several)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.sent_to(conversation)
            if len(found) >= count:
                time.sleep(0.15)
                again = self.sent_to(conversation)
                if len(again) == len(found):
                    return found
                continue
            time.sleep(0.01)
        raise AssertionError(
            f"{conversation} got {len(self.sent_to(conversation))} of {count}: {self.sent_to(conversation)}"
        )


@dataclass
class Person:
    rig: TeamsRig
    aad: str

    @property
    def conversation(self) -> str:
        return f"a:chat-{self.aad}"

    def activity(self, **fields: Any) -> dict[str, Any]:
        return {
            "type": "message",
            "id": f"act-{uuid.uuid4().hex[:10]}",
            "channelId": "msteams",
            "serviceUrl": self.rig.connector.service_url,
            "from": {"id": f"29:{self.aad}", "aadObjectId": self.aad, "name": self.aad.title()},
            "recipient": {"id": BOT, "name": "growthbot"},
            "conversation": {"id": self.conversation, "conversationType": "personal", "tenantId": TENANT_ID},
            "localTimezone": "America/New_York",
            **fields,
        }

    def say(self, text: str, **fields: Any) -> list[dict[str, Any]]:
        """Send `text`, return the bot's activities in answer (waiting for at least one)."""
        return self._send(self.activity(text=text, **fields))

    def submit(self, card: dict[str, Any], value: dict[str, Any]) -> list[dict[str, Any]]:
        return self._send(self.activity(value=value, replyToId=card["id"]))

    def _send(self, activity: dict[str, Any]) -> list[dict[str, Any]]:
        before = len(self.rig.sent_to(self.conversation))
        assert self.rig.post(activity) == 200
        return self.rig.wait_for(self.conversation, before + 1)[before:]


def text(activity: dict[str, Any]) -> str:
    if "text" in activity:
        return activity["text"]
    card = activity["attachments"][0]["content"]
    return "\n".join(block.get("text", "") for block in card["body"] if block["type"] == "TextBlock")


def actions(activity: dict[str, Any]) -> list[dict[str, Any]]:
    return activity["attachments"][0]["content"]["actions"]


@pytest.fixture
def rig(db, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[TeamsRig]:  # type: ignore[no-untyped-def]
    key = new_signing_key()
    with FakeBotFrameworkOpenID([key]) as openid, FakeEntra() as entra:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", entra.ca_file)  # msal reaches the fake Entra over its own TLS
        with FakeBotConnector(accept_token=lambda token: token in entra.issued) as connector:
            settings = Settings(_env_file=None, teams_app_id=APP_ID, teams_app_password=APP_PASSWORD,
                                teams_tenant_id=TENANT_ID, teams_authority_url=entra.authority_base,
                                teams_openid_metadata_url=openid.metadata_url)  # fmt: skip
            runtime = assemble(settings, db, clock)
            adapter, sender, _tokens = build_teams(runtime, require_https=False)
            server = make_server(routes_app({MESSAGES_PATH: adapter.wsgi()}), "127.0.0.1", 0, threads=4)
            threading.Thread(target=server.run, daemon=True).start()
            platform = Platform("teams", adapter.handle_item, sender, adapter.deliver_all,
                                lambda wake: setattr(adapter, "wake", wake))  # fmt: skip
            stop = start_drain(runtime, [platform], threads=4)
            try:
                yield TeamsRig(runtime, connector, entra, key, server.effective_port, sender, clock)
            finally:
                stop.set()
                server.close()


GOAL_ANSWERS = [
    "Fall benchmark: 38% of my 4th graders read at grade level; fluency is the gap",
    "my 4th graders will read grade-level text fluently and with understanding",
    "the share of students at benchmark on the DIBELS fluency probe, from 38% to 70%",
    "I will run daily 20-minute guided reading groups and weekly fluency checks",
    "students below benchmark close at least half the gap in reading fluency",
    "June 15, 2027",
    "Jan 29: winter fluency probe; March 31: running records for my focus group",
    "School improvement plan goal 2: early literacy",
]


def test_goal_from_a_signed_activity_to_a_saved_goal_with_every_reply_in_the_connector(rig: TeamsRig) -> None:
    rivera = rig.person("aad-rivera")
    opening = rivera.say("<at>growthbot</at> goal")
    question = opening[-1]
    assert "What kind of goal" in text(question)
    student = next(a for a in actions(question) if a["title"].startswith("Student"))
    answered = rivera.submit(question, student["data"])
    assert "Step 2 of 9" in text(answered[-1])
    for answer in GOAL_ANSWERS:
        reply = rivera.say(answer)
    review = reply[-1]
    assert "Save it" in text(review) or "Save" in json.dumps(actions(review))
    save = actions(review)[0]
    saved = rivera.submit(review, save["data"])
    assert "Saved as goal #1" in text(saved[-1])
    [goal] = goal_rows(rig.runtime.db)
    assert goal["platform"] == "teams" and goal["user_id"] == "aad-rivera" and goal["status"] == "saved"
    assert goal["workspace_id"] == TENANT_ID and goal["completion_date"] == "2027-06-15"


def test_goal_slash_goal_and_a_mention_all_mean_the_command(rig: TeamsRig) -> None:
    for who, said in (("aad-a", "goal"), ("aad-b", "/goal"), ("aad-c", "<at>growthbot</at> goal")):
        assert "What kind of goal" in text(rig.person(who).say(said)[-1])
    assert "I don't know" in text(rig.person("aad-a").say("/frobnicate")[-1])


def test_the_same_click_twice_answers_once(rig: TeamsRig) -> None:
    rivera = rig.person("aad-rivera")
    question = rivera.say("goal")[-1]
    choice = actions(question)[0]["data"]
    rivera.submit(question, choice)
    count = len(rig.sent_to(rivera.conversation))
    assert rig.post(rivera.activity(value=choice, replyToId=question["id"])) == 200
    time.sleep(0.5)
    assert len(rig.sent_to(rivera.conversation)) == count


def bad_tokens(rig: TeamsRig, activity: dict[str, Any]) -> dict[str, str | None]:
    now, url = rig.clock.now().timestamp(), activity["serviceUrl"]
    other = new_signing_key(kid=rig.key.kid)
    return {
        "missing": None,
        "malformed": "not-a-jwt",
        "expired": mint(rig.key, service_url=url, now=now - 7200, lifetime=600),
        "wrong audience": mint(rig.key, service_url=url, now=now, app_id="someone-else"),
        "wrong issuer": mint(rig.key, service_url=url, now=now, issuer="https://evil.example"),
        "unknown kid": mint(rig.key, service_url=url, now=now, kid="no-such-key"),
        "another key": mint(other, service_url=url, now=now),
        "alg none": mint(rig.key, service_url=url, now=now, alg="none"),
        "serviceUrl mismatch": mint(rig.key, service_url="https://elsewhere.example/", now=now),
    }


def test_every_bad_token_gets_401_and_nothing_is_processed(rig: TeamsRig) -> None:
    activity = rig.person("aad-x").activity(text="goal")
    for reason, token in bad_tokens(rig, activity).items():
        assert rig.post(activity, token=token) == 401, reason
    assert inbox.pending(rig.runtime.db) == 0
    time.sleep(0.3)
    assert rig.connector.calls == []


def seed_school(rig: TeamsRig) -> None:
    """Lopez evaluates Kim; both are on the roster with their Teams (AAD) ids; Kim never wrote to the bot."""
    with unit_of_work(rig.runtime.db) as repos:
        ws = repos.workspaces.ensure("teams", TENANT_ID, rig.clock.now())
        lopez = repos.people.ensure(ws.id, "aad-lopez", rig.clock.now(), "Maria Lopez", "America/New_York")
        kim = repos.people.ensure(ws.id, "aad-kim", rig.clock.now(), "Dana Kim", "America/New_York")
        lopez.roles, kim.roles = ["evaluator"], ["teacher"]
        repos.session.flush()
        kim.evaluator_id = lopez.id
        repos.session.add(SchoolYear(workspace_id=ws.id, name="2026-2027", first_day=date(2026, 8, 31),
                                     last_day=date(2027, 6, 17)))  # fmt: skip
        for day in (date(2026, 11, 26), date(2026, 11, 27)):
            repos.session.add(ClosedDay(workspace_id=ws.id, day=day, label="Thanksgiving"))


def test_observe_form_as_a_card_schedules_and_the_tick_reaches_a_teacher_who_never_wrote(rig: TeamsRig) -> None:
    seed_school(rig)
    lopez = rig.person("aad-lopez")
    card = lopez.say("/observe")[-1]
    inputs = [b for b in card["attachments"][0]["content"]["body"] if b["type"].startswith("Input.")]
    assert [i["id"] for i in inputs] == ["mode", "teacher", "when", "minutes"]
    submit = actions(card)[0]["data"]
    wrong = lopez.submit(card, {**submit, "mode": "announced", "teacher": "Nobody", "when": "Dec 1 10am"})
    assert "Nobody" in json.dumps(wrong[-1])  # re-sent card, the problem under its input
    done = lopez.submit(card, {**submit, "mode": "announced", "teacher": "Dana Kim", "when": "Dec 1 10am",
                               "minutes": "30"})  # fmt: skip
    assert "Scheduled #1: announced observation of **Dana Kim**" in text(done[-1])
    again = lopez.submit(card, {**submit, "mode": "announced", "teacher": "Dana Kim", "when": "Dec 1 10am",
                                "minutes": "30"})  # fmt: skip
    assert "already submitted" in text(again[-1])

    report = rig.runtime.ticker({"teams": rig.sender}).tick()
    assert report.sent == 2 and report.failed == 0
    [created] = rig.connector.of("create")
    assert created.body["members"] == [{"id": "aad-kim"}] and created.body["tenantId"] == TENANT_ID
    kim_chat = next(iter(rig.connector.conversations))
    [notice] = rig.sent_to(kim_chat)
    assert "**Maria Lopez** will observe your class" in text(notice)
    invite = notice["attachments"][-1]
    assert invite["contentType"] == "text/calendar"
    event = Calendar.from_ical(base64.b64decode(invite["contentUrl"].split(",", 1)[1])).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def test_a_connector_outage_keeps_the_notice_in_the_outbox_until_it_is_back(rig: TeamsRig) -> None:
    seed_school(rig)
    rig.person("aad-kim").say("/settings show")  # Kim's chat is known now
    rig.person("aad-lopez").say("/observe @aad-kim Dec 1 10am")
    rig.connector.fail_next(503, times=4, kind="send")  # two sends, two tries each
    first = rig.runtime.ticker({"teams": rig.sender}).tick()
    assert first.sent == 0 and first.deferred >= 1
    rig.clock.advance(timedelta(minutes=10))
    later = rig.runtime.ticker({"teams": rig.sender}).tick()
    assert later.sent >= 1
    notices = [a for a in rig.sent_to("a:chat-aad-kim") if "will observe your class" in text(a)]
    assert len(notices) == 1


def test_a_token_endpoint_outage_defers_notices_until_it_is_back(rig: TeamsRig) -> None:
    seed_school(rig)
    rig.person("aad-kim").say("/settings show")  # a token is fetched, and Kim's chat is known
    assert "Scheduled #1" in text(rig.person("aad-lopez").say("/observe @aad-kim Dec 1 10am")[-1])
    rig.entra.outage = 503
    rig.sender.connector.tokens.invalidate()  # type: ignore[attr-defined]
    first = rig.runtime.ticker({"teams": rig.sender}).tick()
    assert first.sent == 0 and first.failed == 0 and first.deferred >= 1
    rig.entra.outage = None
    rig.clock.advance(timedelta(minutes=10))
    later = rig.runtime.ticker({"teams": rig.sender}).tick()
    assert later.sent >= 1
    assert len([a for a in rig.sent_to("a:chat-aad-kim") if "will observe your class" in text(a)]) == 1
