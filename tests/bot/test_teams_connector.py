"""Outbound Teams: one cached bot token renewed ahead of expiry, and a Bot Connector client that waits out
throttling and hands the outbox a "send later" when the Connector or the token endpoint stays down."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.utils import format_datetime

import pytest
from pydantic import SecretStr

from bot.adapters.teams_connector import (
    BotTokenProvider,
    ConnectorClient,
    ConnectorError,
    ConnectorRejected,
    ConnectorUnavailable,
    RetryPolicy,
    TokenUnavailable,
)
from scheduling.clock import FakeClock
from tests.fakes.teams import APP_ID, APP_PASSWORD, TENANT_ID, FakeBotConnector, FakeEntra

CHANNEL_CONVERSATION = "19:abc123@thread.tacv2;messageid=1700000000001"
PERSONAL = "a:1personal"


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEntra]:
    with FakeEntra() as fake:
        # msal talks to its authority through requests, which trusts this bundle over any `verify=` setting.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_file)
        yield fake


@pytest.fixture
def jobs() -> list[Callable[[], None]]:
    """Background refreshes, queued instead of run, so a test decides when they happen."""
    return []


@pytest.fixture
def tokens(entra: FakeEntra, clock: FakeClock, jobs: list) -> BotTokenProvider:
    return provider(entra, clock, spawn=jobs.append)


def provider(entra: FakeEntra, clock: FakeClock, **kw) -> BotTokenProvider:
    kw.setdefault("timeout", 5)
    return BotTokenProvider(
        APP_ID, SecretStr(kw.pop("password", APP_PASSWORD)), TENANT_ID, authority_base=entra.authority_base,
        clock=clock, **kw,
    )  # fmt: skip


@pytest.fixture
def connector(entra: FakeEntra) -> Iterator[FakeBotConnector]:
    with FakeBotConnector(accept_token=lambda token: token in entra.issued) as fake:
        yield fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(tokens: BotTokenProvider, clock: FakeClock, sleeps: list[float]) -> ConnectorClient:
    return ConnectorClient(tokens, require_https=False, clock=clock, sleep=sleeps.append, jitter=lambda: 0.5)


def message(text: str) -> dict:
    return {"type": "message", "text": text}


# -- the token ------------------------------------------------------------------------------------------------


def test_one_token_request_serves_many_sends(client, connector, entra):
    for n in range(5):
        client.send(connector.service_url, PERSONAL, message(f"hello {n}"))

    assert [a["text"] for a in connector.activities(PERSONAL)] == [f"hello {n}" for n in range(5)]
    assert {c.authorization for c in connector.calls} == {"Bearer fake-bot-token-1"}
    assert len(entra.token_requests) == 1
    request = entra.token_requests[0]
    assert (request.client_id, request.secret_ok, request.grant_type) == (APP_ID, True, "client_credentials")
    assert request.scope == "https://api.botframework.com/.default"
    assert entra.discovery_requests == 1
    assert entra.instance_discovery_requests == 0


def test_the_token_is_renewed_in_the_background_ahead_of_expiry(tokens, entra, clock, jobs):
    assert tokens.token() == "fake-bot-token-1"

    clock.advance(timedelta(minutes=49))
    assert tokens.token() == "fake-bot-token-1"
    assert jobs == [] and len(entra.token_requests) == 1

    clock.advance(timedelta(minutes=2))  # 51 minutes: within ten minutes of expiry
    assert tokens.token() == "fake-bot-token-1"  # answered from the cache, without waiting for Entra
    assert len(jobs) == 1 and len(entra.token_requests) == 1
    assert tokens.token() == "fake-bot-token-1"
    assert len(jobs) == 1  # one refresh in flight, not one per call

    jobs.pop()()
    assert tokens.token() == "fake-bot-token-2"
    assert len(entra.token_requests) == 2


def test_the_background_refresh_runs_on_its_own_thread(entra, clock):
    tokens = provider(entra, clock)
    assert tokens.token() == "fake-bot-token-1"
    clock.advance(timedelta(minutes=55))

    assert tokens.token() == "fake-bot-token-1"
    deadline = time.monotonic() + 10
    while len(entra.token_requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    while tokens.token() != "fake-bot-token-2" and time.monotonic() < deadline:
        time.sleep(0.01)

    assert tokens.token() == "fake-bot-token-2"


def test_an_expired_token_is_never_sent(tokens, entra, clock):
    tokens.token()
    clock.advance(timedelta(minutes=59, seconds=30))  # inside the last minute: could expire in flight

    assert tokens.token() == "fake-bot-token-2"


def test_short_lived_tokens_are_renewed_at_half_their_life(entra, clock, jobs):
    entra.expires_in = 120
    tokens = provider(entra, clock, spawn=jobs.append)
    tokens.token()

    clock.advance(timedelta(seconds=59))
    tokens.token()
    assert jobs == []
    clock.advance(timedelta(seconds=2))
    tokens.token()
    assert len(jobs) == 1


def test_refresh_if_due_is_for_the_scheduler(tokens, entra, clock):
    assert tokens.refresh_if_due() is True  # at start-up: fetch, so no request waits for it
    assert tokens.refresh_if_due() is False
    clock.advance(timedelta(minutes=51))

    assert tokens.refresh_if_due() is True
    assert len(entra.token_requests) == 2
    assert tokens.token() == "fake-bot-token-2"


def test_a_token_endpoint_outage_is_a_clear_error_and_does_not_hammer_it(tokens, entra, clock, caplog):
    entra.fail_next(503, times=10)

    with (
        caplog.at_level(logging.WARNING, logger="bot.adapters.teams_connector"),
        pytest.raises(TokenUnavailable) as caught,
    ):
        tokens.token()
    assert "503" in caught.value.reason
    assert caught.value.retry_after == timedelta(seconds=30)
    assert "no Bot Framework token" in caplog.text

    for _ in range(5):
        with pytest.raises(TokenUnavailable):
            tokens.token()
    assert len(entra.token_requests) == 1  # failing fast while backing off
    assert tokens.refresh_if_due() is False  # the scheduler's call never raises


def test_an_outage_at_start_up_backs_off_then_recovers(tokens, entra, clock):
    entra.outage = "drop"  # connections closed without an answer, already at tenant discovery
    with pytest.raises(TokenUnavailable, match="unreachable"):
        tokens.token()
    clock.advance(timedelta(seconds=31))
    with pytest.raises(TokenUnavailable) as again:
        tokens.token()
    assert again.value.retry_after == timedelta(seconds=60)  # doubling

    entra.outage = None
    clock.advance(timedelta(seconds=61))
    assert tokens.token() == "fake-bot-token-1"


def test_a_failed_background_refresh_keeps_the_current_token_until_it_is_unusable(tokens, entra, clock, jobs):
    tokens.token()
    clock.advance(timedelta(minutes=51))
    entra.outage = "drop"
    tokens.token()
    jobs.pop()()  # fails, and is logged

    clock.advance(timedelta(minutes=5))
    assert tokens.token() == "fake-bot-token-1"
    clock.advance(timedelta(minutes=3, seconds=30))  # 59.5 minutes: no longer usable, and Entra still down
    with pytest.raises(TokenUnavailable):
        tokens.token()


def test_a_wrong_app_password_says_so_without_echoing_it(entra, clock, caplog):
    tokens = provider(entra, clock, password="not-the-password")

    with caplog.at_level(logging.DEBUG), pytest.raises(TokenUnavailable) as caught:
        tokens.token()

    assert "invalid_client" in caught.value.reason
    assert "not-the-password" not in caught.value.reason
    assert "not-the-password" not in caplog.text


def test_neither_token_nor_password_is_ever_logged(client, connector, entra, clock, caplog, jobs):
    with caplog.at_level(logging.DEBUG):
        client.send(connector.service_url, PERSONAL, message("hi"))
        connector.fail_next(429, retry_after=1)
        client.send(connector.service_url, PERSONAL, message("again"))
        clock.advance(timedelta(minutes=55))
        client.send(connector.service_url, PERSONAL, message("later"))
        jobs.pop()()

    assert caplog.records  # something was logged, and none of it is a secret
    assert APP_PASSWORD not in caplog.text
    assert "fake-bot-token" not in caplog.text


def test_settings_must_be_complete(entra):
    with pytest.raises(ValueError, match="app password"):
        BotTokenProvider(APP_ID, SecretStr(""), TENANT_ID, authority_base=entra.authority_base)


# -- the Bot Connector ----------------------------------------------------------------------------------------


def test_send_reply_and_update_reach_the_conversation(client, connector):
    first = client.send(connector.service_url, CHANNEL_CONVERSATION, message("Step 1 of 9"))
    reply = client.reply(connector.service_url, CHANNEL_CONVERSATION, first, message("thread reply"))
    client.update(connector.service_url, CHANNEL_CONVERSATION, first, message("Step 1 of 9 (answered)"))

    shown = connector.activities(CHANNEL_CONVERSATION)
    assert [(a["id"], a["text"]) for a in shown] == [(first, "Step 1 of 9 (answered)"), (reply, "thread reply")]
    assert shown[1]["replyToId"] == first
    assert [c.kind for c in connector.calls] == ["send", "reply", "update"]
    assert connector.calls[0].conversation_id == CHANNEL_CONVERSATION  # escaped on the way, intact on arrival


def test_create_conversation_opens_a_personal_chat(client, connector):
    conversation = client.create_conversation(connector.service_url, TENANT_ID, f"28:{APP_ID}", "29:user-1")

    assert conversation.startswith("a:")
    sent = connector.conversations[conversation]
    assert sent["bot"] == {"id": f"28:{APP_ID}"}
    assert sent["members"] == [{"id": "29:user-1"}]
    assert sent["channelData"] == {"tenant": {"id": TENANT_ID}}
    assert sent["isGroup"] is False
    client.send(connector.service_url, conversation, message("Your observation is scheduled."))
    assert connector.activities(conversation)[0]["text"] == "Your observation is scheduled."


def test_a_429_waits_its_retry_after_then_sends_once(client, connector, sleeps):
    connector.fail_next(429, times=2, retry_after=3)

    client.send(connector.service_url, PERSONAL, message("hi"))

    assert sleeps == [3.25, 3.25]  # Retry-After plus jitter (half of the 0.5 s base delay)
    assert [c.kind for c in connector.calls] == ["send!429", "send!429", "send"]
    assert len(connector.activities(PERSONAL)) == 1


def test_retry_after_as_an_http_date_is_read_against_the_clock(client, connector, clock, sleeps):
    connector.fail_next(429, retry_after=format_datetime(clock.now() + timedelta(seconds=7), usegmt=True))

    client.send(connector.service_url, PERSONAL, message("hi"))

    assert sleeps == [7.25]


@pytest.mark.parametrize("status", [412, 502, 503, 504])
def test_transient_failures_are_retried_with_jittered_backoff(client, connector, sleeps, status):
    connector.fail_next(status, times=3)

    client.send(connector.service_url, PERSONAL, message("hi"))

    assert sleeps == [0.375, 0.75, 1.5]  # 0.5 s doubling, each between half and all of its ceiling
    assert len(connector.activities(PERSONAL)) == 1


def test_a_connector_that_stays_down_becomes_send_later(client, connector, sleeps):
    connector.fail_next(502, times=10)

    with pytest.raises(ConnectorUnavailable) as caught:
        client.send(connector.service_url, PERSONAL, message("hi"))

    assert caught.value.status == 502
    assert caught.value.after == timedelta(seconds=30)
    assert len(connector.calls) == 4 and len(sleeps) == 3
    assert connector.activities(PERSONAL) == []


def test_a_long_retry_after_is_handed_to_the_outbox_instead_of_slept(client, connector, sleeps):
    connector.fail_next(429, retry_after=120)

    with pytest.raises(ConnectorUnavailable) as caught:
        client.send(connector.service_url, PERSONAL, message("hi"))

    assert caught.value.after >= timedelta(seconds=120)
    assert sleeps == []
    assert len(connector.calls) == 1


def test_the_last_retry_after_is_kept_when_retries_run_out(tokens, connector, clock, sleeps):
    client = ConnectorClient(tokens, policy=RetryPolicy(attempts=2), require_https=False, clock=clock,
                             sleep=sleeps.append, jitter=lambda: 0.0)  # fmt: skip
    connector.fail_next(429, times=2, retry_after=5)

    with pytest.raises(ConnectorUnavailable) as caught:
        client.send(connector.service_url, PERSONAL, message("hi"))

    assert caught.value.after == timedelta(seconds=5)
    assert sleeps == [5.0]


@pytest.mark.parametrize("status", [400, 403, 404])
def test_refusals_are_not_retried(client, connector, sleeps, status):
    connector.fail_next(status)

    with pytest.raises(ConnectorRejected) as caught:
        client.create_conversation(connector.service_url, TENANT_ID, f"28:{APP_ID}", "29:user-1")

    assert caught.value.status == status
    assert len(connector.calls) == 1 and sleeps == []


def test_a_refused_token_is_replaced_once(tokens, client, connector, entra):
    connector.accept_token = lambda token: token != "fake-bot-token-1"

    client.send(connector.service_url, PERSONAL, message("hi"))

    assert [c.kind for c in connector.calls] == ["send!401", "send"]
    assert connector.calls[1].authorization == "Bearer fake-bot-token-2"
    assert tokens.token() == "fake-bot-token-2"


def test_a_token_refused_twice_is_a_configuration_problem(client, connector):
    connector.accept_token = lambda token: False

    with pytest.raises(ConnectorRejected) as caught:
        client.send(connector.service_url, PERSONAL, message("hi"))

    assert caught.value.status == 401
    assert len(connector.calls) == 2


def test_no_token_means_send_later_without_calling_the_connector(client, connector, entra):
    entra.outage = 503

    with pytest.raises(ConnectorUnavailable) as caught:
        client.send(connector.service_url, PERSONAL, message("hi"))

    assert "no Bot Framework token" in str(caught.value)
    assert caught.value.status is None
    assert caught.value.after == timedelta(seconds=30)
    assert connector.calls == []


def test_an_unreachable_connector_is_retried_then_send_later(client, sleeps):
    with pytest.raises(ConnectorUnavailable) as caught:
        client.send("http://127.0.0.1:9/amer/", PERSONAL, message("hi"))

    assert caught.value.status is None
    assert "network" in caught.value.reason
    assert len(sleeps) == 3


def test_service_urls_must_be_https_in_production(tokens):
    client = ConnectorClient(tokens)

    for url in ["http://smba.trafficmanager.net/amer/", "https://user@smba.example/", "ftp://x/", "not a url"]:
        with pytest.raises(ValueError):
            client.send(url, PERSONAL, message("hi"))


def test_a_created_conversation_must_have_an_id(client, connector):
    connector.answers["create"] = lambda request: (201, {"Content-Type": "application/json"}, b"{}")

    with pytest.raises(ConnectorError, match="no conversation id"):
        client.create_conversation(connector.service_url, TENANT_ID, f"28:{APP_ID}", "29:user-1")
