"""A post Slack took is never posted again: its key rides in message metadata and is looked for before a resend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.adapters.slack_web import EVENT_TYPE, SlackSender, web_client
from scheduling.clock import FakeClock
from scheduling.tick import LEASE, Outgoing, TickReport
from storage.database import Database
from tests.fakes.slack_api import FakeSlackAPI
from tests.scheduling.helpers import World, make_world

INVITE = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Observation\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"


@pytest.fixture
def api() -> Iterator[FakeSlackAPI]:
    with FakeSlackAPI() as fake:
        yield fake


def sender(api: FakeSlackAPI) -> SlackSender:
    return SlackSender(web_client("xoxb-test", api.url, rate_limit_retries=0), sleep=lambda _s: None)


def dies_after_sending(world: World, clock: FakeClock, api: FakeSlackAPI) -> None:
    """Worker A claims everything, Slack takes every post, and A is killed before it records a single send."""
    doomed = world.ticker(clock, sender(api), worker="worker-a")
    claimed, _seen = doomed._claim(TickReport())
    slack = sender(api)
    for row in claimed:
        slack.deliver(Outgoing(row.id, row.key, row.recipient, row.payload, row.attempts, row.uncertain, row.since))


def test_every_post_carries_its_idempotency_key_and_a_first_attempt_never_looks(
    db: Database, clock: FakeClock, api: FakeSlackAPI
) -> None:
    world = make_world(db, clock.now())
    world.enqueue("ana", "k1", clock.now(), clock.now())
    report = world.ticker(clock, sender(api)).tick()
    assert report.sent == 1 and report.found == 0
    [post] = api.posts()
    assert post["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {"key": "k1"}}
    assert post["channel"] == "DUANA"  # posted to the user id, which Slack turns into their DM
    assert api.count("conversations.history") == 0 and api.count("conversations.open") == 0


def test_a_post_whose_worker_died_before_recording_it_is_found_and_not_sent_again(
    db: Database, clock: FakeClock, api: FakeSlackAPI
) -> None:
    world = make_world(db, clock.now())
    for name in ("ana", "luis"):
        world.enqueue(name, f"{name}-1", clock.now(), clock.now())
    dies_after_sending(world, clock, api)
    assert len(api.posts()) == 2
    survivor = world.ticker(clock, sender(api), worker="worker-b")
    assert survivor.tick().sent == 0  # the dead worker's leases still hold
    clock.advance(LEASE + timedelta(seconds=1))
    report = survivor.tick()
    assert (report.sent, report.found) == (2, 2)
    assert len(api.posts()) == 2  # looked for in each DM's history, found, marked sent
    assert api.count("conversations.history") == 2
    assert {r.status for r in world.outbox()} == {"sent"}


def test_a_row_whose_worker_died_before_posting_is_posted_once(
    db: Database, clock: FakeClock, api: FakeSlackAPI
) -> None:
    world = make_world(db, clock.now())
    world.enqueue("ana", "k1", clock.now(), clock.now())
    world.enqueue("ana", "k0", clock.now() - timedelta(minutes=1), clock.now())
    world.ticker(clock, sender(api), worker="worker-a")._claim(TickReport())  # dies right after its claim
    clock.advance(LEASE + timedelta(seconds=1))
    report = world.ticker(clock, sender(api), worker="worker-b").tick()
    assert (report.sent, report.found) == (2, 0)
    assert sorted(p["metadata"]["event_payload"]["key"] for p in api.posts()) == ["k0", "k1"]


def test_an_invite_whose_worker_died_after_sharing_it_is_found_by_its_file_and_comment(
    db: Database, clock: FakeClock, api: FakeSlackAPI
) -> None:
    world = make_world(db, clock.now())
    invite = {"filename": "observation.ics", "content": INVITE, "title": "Observation"}
    world.enqueue("ana", "invite-1", clock.now(), clock.now(), attachments=[invite])
    world.enqueue("ana", "invite-2", clock.now(), clock.now(), attachments=[invite | {"filename": "moved.ics"}])
    dies_after_sending(world, clock, api)
    assert api.count("files.completeUploadExternal") == 2
    api.history["DUANA"].pop()  # the second share never happened after all
    clock.advance(LEASE + timedelta(seconds=1))
    report = world.ticker(clock, sender(api), worker="worker-b").tick()
    assert (report.sent, report.found) == (2, 1)
    shared = [m["files"][0]["name"] for m in api.history["DUANA"]]
    assert sorted(shared) == ["moved.ics", "observation.ics"]


def test_a_post_slack_took_but_answered_500_is_not_posted_again(
    db: Database, clock: FakeClock, api: FakeSlackAPI
) -> None:
    world = make_world(db, clock.now())
    world.enqueue("ana", "k1", clock.now(), clock.now())
    api.fail_next("chat.postMessage", 500, applied=True)  # posted, but the answer was an error
    report = world.ticker(clock, sender(api)).tick()
    assert (report.sent, report.failed) == (1, 0)
    assert len(api.of("chat.postMessage!500")) == 1 and api.posts() == []  # the one post is the faulted call
    assert len(api.history["DUANA"]) == 1
    assert api.count("conversations.history") == 1


def test_a_post_that_keeps_failing_ambiguously_is_looked_for_on_its_next_attempt(
    db: Database, clock: FakeClock, api: FakeSlackAPI
) -> None:
    world = make_world(db, clock.now())
    world.enqueue("ana", "k1", clock.now(), clock.now())
    api.fail_next("chat.postMessage", 500, times=4)
    api.fail_next("chat.postMessage", 500, applied=True)  # the fifth try went through, unseen
    ticker = world.ticker(clock, sender(api))
    assert ticker.tick().failed == 1
    [row] = world.outbox()
    assert row.status == "pending" and row.claimed_by is not None  # kept: the next attempt must look first
    clock.advance(timedelta(minutes=1))
    report = ticker.tick()
    assert (report.sent, report.found) == (1, 1)
    assert len(api.history["DUANA"]) == 1


def test_a_definite_refusal_is_retried_without_looking(db: Database, clock: FakeClock, api: FakeSlackAPI) -> None:
    world = make_world(db, clock.now())
    world.enqueue("ana", "k1", clock.now(), clock.now())
    refusals = iter([True])

    def refuse_once(params: dict) -> tuple[int, dict, dict]:
        if next(refusals, False):
            return 200, {}, {"ok": False, "error": "invalid_blocks"}
        return api._perform("chat.postMessage", params)

    api.answers["chat.postMessage"] = refuse_once
    ticker = world.ticker(clock, sender(api))
    assert ticker.tick().failed == 1
    [row] = world.outbox()
    assert row.claimed_by is None and "invalid_blocks" in (row.last_error or "")
    clock.advance(timedelta(minutes=1))
    assert ticker.tick().sent == 1
    assert api.count("conversations.history") == 0
