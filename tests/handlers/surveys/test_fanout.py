"""A survey fans out through the outbox and the real Slack sender against the fake Web API, answering 429s
with Retry-After and some 500s: every recipient gets exactly one invitation. benchmarks/survey_fanout.py runs
the same at 5,000 recipients."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.adapters.slack_web import SlackSender, web_client
from handlers.features import Setup
from handlers.surveys.feature import feature
from scheduling.clock import FakeClock
from scheduling.kinds import Kinds
from storage.database import Database
from storage.unit_of_work import unit_of_work
from tests.conftest import test_settings
from tests.fakes.slack_api import FakeSlackAPI
from tests.scheduling.helpers import make_world


@pytest.fixture
def api() -> Iterator[FakeSlackAPI]:
    with FakeSlackAPI() as fake:
        yield fake


def fan_out(db: Database, clock: FakeClock, api: FakeSlackAPI, count: int, faults: bool = True) -> Counter[str]:
    """Send a confidential exit slip to `count` people and tick until the outbox is empty; posts per channel."""
    described = feature(Setup(port=None, settings=test_settings()))  # type: ignore[arg-type]
    kinds = Kinds()
    for kind in described.kinds:
        kinds.register(kind)
    people = {"owner": "America/New_York"} | {f"t{n}": "America/New_York" for n in range(count)}
    world = make_world(db, clock.now(), people, platform="slack")
    with unit_of_work(db) as repos:
        from handlers.surveys.instruments import load_instruments
        from handlers.surveys.service import SurveyService

        service = SurveyService(load_instruments()[0], 5, "America/New_York")
        owner = repos.people.get(world.people["owner"])
        assert owner is not None
        recipients = [pid for name, pid in world.people.items() if name != "owner"]
        service.send(repos, owner, service.instruments["exit_slip"], "confidential", recipients, "everyone",
                     clock.now(), clock.now() + timedelta(days=3), [])  # fmt: skip
    ticker = world.ticker(clock, SlackSender(web_client("xoxb-test", api.url)), kinds=kinds, batch=500)
    if faults:
        api.fail_next("chat.postMessage", 429, times=2, retry_after=1)  # waited out inside the client
        api.fail_next("chat.postMessage", 500, times=3)
    ticker.tick()
    if faults:
        api.fail_next("chat.postMessage", 429, times=8, retry_after=0)  # more than the client waits out
    for _ in range(20):
        clock.advance(timedelta(minutes=1))
        ticker.tick()
        if {r.status for r in world.outbox()} == {"sent"}:
            break
    rows = world.outbox()
    assert len(rows) == count and {r.status for r in rows} == {"sent"}
    return Counter(p["channel"] for p in api.posts() if "asks for your answers" in p["text"])


def test_a_fan_out_reaches_every_recipient_exactly_once_through_429s_and_500s(
    db: Database, clock: FakeClock, api: FakeSlackAPI
) -> None:
    posts = fan_out(db, clock, api, 300)
    assert len(posts) == 300 and set(posts.values()) == {1}
    failures = Counter(c.method for c in api.calls if "!" in c.method)
    assert failures["chat.postMessage!429"] >= 2 and failures["chat.postMessage!500"] >= 1
