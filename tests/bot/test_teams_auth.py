"""Inbound Teams authentication: only tokens the Bot Framework signed for our app and this serviceUrl pass."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.adapters.teams_auth import BotFrameworkAuth, Claims, KeysUnavailable, NotAuthorized, SigningKeys
from scheduling.clock import FakeClock
from tests.fakes.teams import APP_ID, FakeBotFrameworkOpenID, SigningKey, mint, new_signing_key, teams_activity

SERVICE_URL = "https://smba.trafficmanager.net/amer/"


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return new_signing_key("key-1")


@pytest.fixture(scope="module")
def next_key() -> SigningKey:
    return new_signing_key("key-2")


@pytest.fixture(scope="module")
def impostor() -> SigningKey:
    """Someone else's key, published under our key's kid."""
    return new_signing_key("key-1")


@pytest.fixture
def openid(key: SigningKey) -> Iterator[FakeBotFrameworkOpenID]:
    with FakeBotFrameworkOpenID([key]) as server:
        yield server


@pytest.fixture
def auth(openid: FakeBotFrameworkOpenID, clock: FakeClock) -> BotFrameworkAuth:
    return BotFrameworkAuth(APP_ID, SigningKeys(openid.metadata_url, clock=clock), clock=clock)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def token_for(key: SigningKey, clock: FakeClock, **kw) -> str:
    kw.setdefault("service_url", SERVICE_URL)
    return mint(key, now=clock.now().timestamp(), **kw)


def refused(auth: BotFrameworkAuth, header: str | None, activity: dict | None = None) -> NotAuthorized:
    with pytest.raises(NotAuthorized) as caught:
        auth.verify(header, activity if activity is not None else teams_activity(SERVICE_URL))
    return caught.value


def test_a_token_signed_by_the_bot_framework_for_our_app_is_accepted(auth, key, clock):
    claims = auth.verify(bearer(token_for(key, clock)), teams_activity(SERVICE_URL))

    assert isinstance(claims, Claims)
    assert claims.app_id == APP_ID
    assert claims.issuer == "https://api.botframework.com"
    assert claims.service_url == SERVICE_URL
    assert claims.expires_at == clock.now() + timedelta(hours=1)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing Authorization header"),
        ("", "missing Authorization header"),
        ("   ", "missing Authorization header"),
        ("Bearer", "malformed Authorization header"),
        ("Basic dXNlcjpwYXNz", "malformed Authorization header"),
        ("Bearer two tokens", "malformed Authorization header"),
        ("Bearer not-a-jwt", "malformed token"),
        ("Bearer a.b.c", "malformed token"),
        pytest.param("Bearer " + "x" * 20_000, "token too large", id="huge-token"),
    ],
)
def test_a_missing_or_malformed_authorization_header_is_refused(auth, header, reason):
    assert refused(auth, header).reason.startswith(reason)


def test_the_scheme_is_case_insensitive(auth, key, clock):
    assert auth.verify(f"bearer {token_for(key, clock)}", teams_activity(SERVICE_URL)).service_url == SERVICE_URL


def test_an_expired_token_is_refused_after_five_minutes_of_leeway(auth, key, clock):
    token = token_for(key, clock, lifetime=60)

    clock.advance(timedelta(seconds=60 + 4 * 60))
    assert auth.verify(bearer(token), teams_activity(SERVICE_URL))  # within the leeway

    clock.advance(timedelta(seconds=61))
    assert refused(auth, bearer(token)).reason == "token expired"


def test_a_token_not_valid_yet_is_refused_beyond_the_leeway(auth, key, clock):
    now = clock.now().timestamp()
    soon = token_for(key, clock, claims={"nbf": int(now) + 4 * 60})
    later = token_for(key, clock, claims={"nbf": int(now) + 6 * 60})

    assert auth.verify(bearer(soon), teams_activity(SERVICE_URL))
    assert refused(auth, bearer(later)).reason == "token not valid yet"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"claims": {"aud": "another-app"}}, "token is for another audience"),
        ({"issuer": "https://sts.windows.net/some-tenant/"}, "token is from another issuer"),
        ({"drop": ["aud"]}, "token has no aud claim"),
        ({"drop": ["iss"]}, "token has no iss claim"),
        ({"drop": ["exp"]}, "token has no exp claim"),
        ({"claims": {"exp": "tomorrow"}}, "token times are not numbers"),
        ({"claims": {"exp": 1e300}}, "token expiry out of range"),
        ({"drop": ["serviceurl"]}, "token has no serviceurl claim"),
    ],
)
def test_tokens_for_someone_else_or_missing_claims_are_refused(auth, key, clock, changes, reason):
    assert refused(auth, bearer(token_for(key, clock, **changes))).reason == reason


def test_a_nan_expiry_is_refused(auth, key, clock):
    # Python's JSON parser reads NaN; NaN compares false with everything, so it must not slip past the expiry check.
    token = token_for(key, clock, claims={"exp": float("nan")})
    assert refused(auth, bearer(token)).reason == "token times are not numbers"


def test_a_token_signed_with_another_key_under_a_known_kid_is_refused(auth, impostor, clock):
    assert refused(auth, bearer(token_for(impostor, clock))).reason == "token signature does not verify"


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_unsigned_and_symmetric_tokens_are_refused(auth, key, clock, alg):
    # HS256 is signed with the public key's PEM as the secret: the RS256/HS256 confusion forgery.
    token = token_for(key, clock, alg=alg)
    assert refused(auth, bearer(token)).reason == "token signing algorithm not allowed (RS256 only)"


def test_a_token_without_a_kid_is_refused(auth, key, clock):
    token = token_for(key, clock, kid="")
    assert refused(auth, bearer(token)).reason == "token has no key id"


def test_a_service_url_other_than_the_tokens_is_refused(auth, key, clock):
    token = bearer(token_for(key, clock))

    assert refused(auth, token, teams_activity("https://evil.example/amer/")).reason == (
        "activity serviceUrl does not match the token"
    )
    activity = teams_activity(SERVICE_URL)
    del activity["serviceUrl"]
    assert refused(auth, token, activity).reason == "activity serviceUrl does not match the token"
    assert refused(auth, token, teams_activity(SERVICE_URL.rstrip("/"))).reason == (
        "activity serviceUrl does not match the token"
    )


def test_an_activity_that_is_not_an_object_is_refused(auth, key, clock):
    with pytest.raises(NotAuthorized, match="not a JSON object"):
        auth.verify(bearer(token_for(key, clock)), ["not", "an", "activity"])  # type: ignore[arg-type]


def test_a_key_endorsed_only_for_other_channels_cannot_sign_for_teams(openid, clock):
    skype_only = new_signing_key("key-skype", endorsements=["skype"])
    openid.set_keys([skype_only])
    auth = BotFrameworkAuth(APP_ID, SigningKeys(openid.metadata_url, clock=clock), clock=clock)
    token = bearer(token_for(skype_only, clock))

    assert refused(auth, token).reason == "signing key is not endorsed for this channel"
    assert auth.verify(token, teams_activity(SERVICE_URL, channelId="skype"))


def test_no_refusal_reason_contains_the_token(auth, key, impostor, clock):
    tokens = [
        token_for(key, clock, claims={"aud": "x"}),
        token_for(impostor, clock),
        token_for(key, clock, kid="unknown"),
        token_for(key, clock, alg="none"),
        token_for(key, clock, lifetime=-3600),
    ]
    for token in tokens:
        error = refused(auth, bearer(token))
        assert token not in str(error)
        assert token.split(".")[1] not in error.reason


# -- keys: cached, refreshed on an unknown kid, rate limited, rotation ------------------------------------------


def test_keys_are_fetched_once_for_many_requests(auth, key, clock, openid):
    for _ in range(20):
        auth.verify(bearer(token_for(key, clock)), teams_activity(SERVICE_URL))

    assert openid.hits == {"metadata": 1, "jwks": 1}


def test_an_unknown_kid_refreshes_the_keys_once(auth, key, clock, openid):
    auth.verify(bearer(token_for(key, clock)), teams_activity(SERVICE_URL))
    clock.advance(timedelta(minutes=2))

    assert refused(auth, bearer(token_for(key, clock, kid="made-up"))).reason == "token signed with an unknown key id"

    assert openid.hits == {"metadata": 2, "jwks": 2}


def test_a_flood_of_unknown_kids_cannot_hammer_the_metadata_endpoint(auth, key, clock, openid):
    auth.verify(bearer(token_for(key, clock)), teams_activity(SERVICE_URL))
    clock.advance(timedelta(minutes=2))
    for n in range(50):
        refused(auth, bearer(token_for(key, clock, kid=f"made-up-{n}")))
        clock.advance(timedelta(seconds=1))  # 50 s: still within one refresh interval

    assert openid.hits["jwks"] == 2  # the first fetch, then one refresh for the whole flood

    clock.advance(timedelta(seconds=15))
    refused(auth, bearer(token_for(key, clock, kid="made-up-again")))
    assert openid.hits["jwks"] == 3


def test_concurrent_unknown_kids_share_one_refresh(auth, key, clock, openid):
    auth.verify(bearer(token_for(key, clock)), teams_activity(SERVICE_URL))
    clock.advance(timedelta(minutes=2))
    tokens = [bearer(token_for(key, clock, kid=f"made-up-{n}")) for n in range(16)]
    reasons: list[str] = []

    def check(header: str) -> None:
        try:
            auth.verify(header, teams_activity(SERVICE_URL))
        except NotAuthorized as error:
            reasons.append(error.reason)

    threads = [threading.Thread(target=check, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert reasons == ["token signed with an unknown key id"] * 16
    assert openid.hits["jwks"] == 2


def test_a_rotated_key_is_picked_up_by_its_first_token(auth, key, next_key, clock, openid):
    auth.verify(bearer(token_for(key, clock)), teams_activity(SERVICE_URL))
    openid.set_keys([key, next_key])
    clock.advance(timedelta(minutes=2))

    for _ in range(5):
        assert auth.verify(bearer(token_for(next_key, clock)), teams_activity(SERVICE_URL))
    assert auth.verify(bearer(token_for(key, clock)), teams_activity(SERVICE_URL))

    assert openid.hits["jwks"] == 2  # exactly one refresh, for the new kid


def test_a_retired_key_stops_working_when_the_keys_are_next_fetched(auth, key, next_key, clock, openid):
    auth.verify(bearer(token_for(key, clock)), teams_activity(SERVICE_URL))
    openid.set_keys([next_key])
    clock.advance(timedelta(hours=24))

    assert refused(auth, bearer(token_for(key, clock))).reason == "token signed with an unknown key id"


def test_old_keys_stay_in_use_while_the_metadata_endpoint_is_down(auth, key, clock, openid, caplog):
    auth.verify(bearer(token_for(key, clock)), teams_activity(SERVICE_URL))
    clock.advance(timedelta(hours=25))
    openid.fail_next(503, times=5)

    with caplog.at_level(logging.WARNING, logger="bot.adapters.teams_auth"):
        assert auth.verify(bearer(token_for(key, clock)), teams_activity(SERVICE_URL))

    assert "could not refresh the Bot Framework signing keys" in caplog.text
    assert openid.hits["metadata"] == 2


def test_no_keys_at_all_is_its_own_refusal_so_the_caller_can_answer_503(key, clock, openid):
    openid.fail_next(503)
    auth = BotFrameworkAuth(APP_ID, SigningKeys(openid.metadata_url, clock=clock), clock=clock)
    token = bearer(token_for(key, clock))

    with pytest.raises(KeysUnavailable):
        auth.verify(token, teams_activity(SERVICE_URL))

    clock.advance(timedelta(minutes=1))
    assert auth.verify(token, teams_activity(SERVICE_URL))


def test_an_unreachable_metadata_url_refuses_without_crashing(key, clock):
    keys = SigningKeys("http://127.0.0.1:9/v1/.well-known/openidconfiguration", clock=clock, timeout=2)
    auth = BotFrameworkAuth(APP_ID, keys, clock=clock)

    with pytest.raises(KeysUnavailable, match="unavailable"):
        auth.verify(bearer(token_for(key, clock)), teams_activity(SERVICE_URL))


def test_the_metadata_url_decides_where_keys_come_from(key, clock):
    seen: list[str] = []

    def fetch(url: str, timeout: float) -> dict:
        seen.append(url)
        if url.endswith("openidconfiguration"):
            return {"jwks_uri": "https://keys.example/jwks"}
        return {"keys": [key.jwk(), {"kty": "EC", "kid": "ignored"}, {"kty": "RSA", "kid": "bad", "n": "x", "e": "y"}]}

    keys = SigningKeys("https://login.example/v1/.well-known/openidconfiguration", clock=clock, fetch_json=fetch)
    auth = BotFrameworkAuth(APP_ID, keys, clock=clock)

    assert auth.verify(bearer(token_for(key, clock)), teams_activity(SERVICE_URL))
    assert seen == ["https://login.example/v1/.well-known/openidconfiguration", "https://keys.example/jwks"]
