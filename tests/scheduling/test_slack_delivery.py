"""The ticker with the real Slack sender and client against the fake Web API: 429s and 5xx cost no message."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.adapters.slack_web import SlackSender, web_client
from scheduling.clock import FakeClock
from storage.database import Database
from tests.fakes.slack_api import FakeSlackAPI
from tests.scheduling.helpers import make_world

INVITE = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Observation\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"


@pytest.fixture
def api() -> Iterator[FakeSlackAPI]:
    with FakeSlackAPI() as fake:
        yield fake


def posted(api: FakeSlackAPI) -> Counter[tuple[str, str]]:
    return Counter((p["channel"], p["text"]) for p in api.posts())


def test_rate_limits_and_server_errors_delay_messages_but_never_double_them(
    db: Database, clock: FakeClock, api: FakeSlackAPI
) -> None:
    people = {f"t{n}": "America/New_York" for n in range(6)}
    world = make_world(db, clock.now(), people)
    for name in people:
        for k in range(3):
            world.enqueue(name, f"{name}-{k}", clock.now(), clock.now())
    ticker = world.ticker(clock, SlackSender(web_client("xoxb-test", api.url)))
    api.fail_next("chat.postMessage", 429, times=1, retry_after=1)  # waited out inside the client
    api.fail_next("chat.postMessage", 500, times=2)  # retried inside the client

    stop = threading.Event()

    def intermittent_500s(method: str, every: int, times: int) -> None:
        """One 500 after every `every` successful calls of `method`, `times` times."""
        injected = 0
        while injected < times and not stop.wait(0.01):
            failed, succeeded = len(api.of(f"{method}!500")), len(api.of(method))
            if failed >= injected + (2 if method == "chat.postMessage" else 0) and succeeded >= every * (injected + 1):
                api.fail_next(method, 500)
                injected += 1

    noise = [
        threading.Thread(target=intermittent_500s, args=("chat.postMessage", 3, 2), daemon=True),
        # each 500 on a post makes the sender look in the DM's history before posting again: fail that too
        threading.Thread(target=intermittent_500s, args=("conversations.history", 2, 1), daemon=True),
    ]
    for thread in noise:
        thread.start()
    try:
        first = ticker.tick()
    finally:
        stop.set()
        for thread in noise:
            thread.join()
    api.fail_next("chat.postMessage", 429, times=6, retry_after=0)  # more than the client will wait out
    for _ in range(8):  # what still failed goes back to the outbox with a backoff, and is sent later
        clock.advance(timedelta(minutes=1))
        ticker.tick()
    rows = world.outbox()
    assert {r.status for r in rows} == {"sent"}, [(r.idempotency_key, r.last_error) for r in rows]
    counts = posted(api)
    assert len(counts) == 18 and set(counts.values()) == {1}
    faults = Counter(c.method for c in api.calls if "!" in c.method)
    assert faults["chat.postMessage!429"] >= 1 and faults["chat.postMessage!500"] >= 3
    assert faults["conversations.history!500"] >= 1
    # posts go to the user id, so no DM is opened per message: only to look at one after a post that failed
    assert api.count("conversations.open") <= faults["chat.postMessage!500"]
    assert first.sent + first.failed == 18


def test_a_client_giving_up_on_429s_puts_the_row_back_until_retry_after(
    db: Database, clock: FakeClock, api: FakeSlackAPI
) -> None:
    world = make_world(db, clock.now())
    world.enqueue("ana", "k1", clock.now(), clock.now())
    ticker = world.ticker(clock, SlackSender(web_client("xoxb-test", api.url)))
    api.fail_next("chat.postMessage", 429, times=6, retry_after=0)
    assert ticker.tick().deferred == 1
    [row] = world.outbox()
    assert row.status == "pending" and "rate limiting" in (row.last_error or "")
    assert row.attempts == 0  # waiting out Slack is not a failed attempt
    assert ticker.tick().sent == 0  # not before Retry-After (at least a second)
    clock.advance(timedelta(seconds=1))
    assert ticker.tick().sent == 1
    assert len(api.posts()) == 1


def test_an_attachment_goes_up_with_files_upload_v2(db: Database, clock: FakeClock, api: FakeSlackAPI) -> None:
    world = make_world(db, clock.now())
    attachment = {"filename": "observation.ics", "content": INVITE, "title": "Observation"}
    world.enqueue("ana", "invite", clock.now(), clock.now(), attachments=[attachment])
    ticker = world.ticker(clock, SlackSender(web_client("xoxb-test", api.url)))
    assert ticker.tick().sent == 1
    assert list(api.uploads.values()) == [INVITE.encode()]
    [complete] = api.of("files.completeUploadExternal")
    assert complete.params["channel_id"] == "DUANA"
    assert complete.params["initial_comment"]
    assert api.posts() == []  # the message is the file's comment, not a second post
    ticker.tick()
    assert len(api.uploads) == 1
