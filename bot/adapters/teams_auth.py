"""Inbound Bot Framework authentication: did this activity really come from Microsoft's channel, for our bot?

Every request to the Teams endpoint carries `Authorization: Bearer <JWT>` signed by the Bot Framework. We
check it the way the Bot Framework's authentication spec asks, with PyJWT and the keys published through
the Bot Framework's OpenID metadata: RS256 only, issuer `https://api.botframework.com`, audience our app id,
five minutes of clock leeway, the signing key endorsed for the activity's channel, and the token's
`serviceurl` claim equal to the activity's `serviceUrl` (so a stolen token cannot point our replies, and
our outbound token, at another host).

`NotAuthorized.reason` is safe to log; the token never is.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from scheduling.clock import Clock, SystemClock

log = logging.getLogger(__name__)

BOT_FRAMEWORK_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
ALGORITHMS = ("RS256",)
LEEWAY = timedelta(minutes=5)
MAX_TOKEN_CHARS = 16_384  # Bot Framework tokens are ~1-2 KB; refuse megabytes before parsing them
MAX_DOCUMENT_BYTES = 1_048_576


class NotAuthorized(Exception):
    """The request is refused (401). `reason` says why in words fit for a log line; it never holds the token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeysUnavailable(NotAuthorized):
    """The signing keys could not be fetched at all: the caller may answer 503 so the channel retries."""


@dataclass(frozen=True)
class Claims:
    """What a verified token says: for our app (`app_id`), from `issuer`, replies go to `service_url`."""

    app_id: str
    issuer: str
    service_url: str
    expires_at: datetime
    raw: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class _Key:
    key: Any  # the RSA public key, as PyJWT wants it
    endorsements: frozenset[str] | None  # None: the key names no channels, so it restricts none


def _get_json(url: str, timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "growthbot"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read(MAX_DOCUMENT_BYTES + 1)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes")
    return json.loads(body)


class SigningKeys:
    """The Bot Framework's signing keys, found through its OpenID metadata and cached.

    Keys are kept for `max_age` (the Bot Framework rotates them rarely and announces new ones early). A
    token with an unknown `kid` triggers one refresh, but at most one every `min_refresh_interval`, so a
    flood of made-up kids cannot hammer Microsoft's endpoint; a real rotation is picked up by the first
    request after that interval. When a refresh fails the keys we have stay in use.
    """

    def __init__(
        self,
        metadata_url: str = BOT_FRAMEWORK_OPENID_METADATA_URL,
        *,
        clock: Clock | None = None,
        max_age: timedelta = timedelta(hours=24),
        min_refresh_interval: timedelta = timedelta(minutes=1),
        timeout: float = 10.0,
        fetch_json: Callable[[str, float], Any] = _get_json,
    ) -> None:
        self.metadata_url = metadata_url
        self.clock = clock or SystemClock()
        self.max_age = max_age
        self.min_refresh_interval = min_refresh_interval
        self.timeout = timeout
        self._fetch_json = fetch_json
        self._lock = threading.Lock()  # one refresh at a time; others wait for its result
        self._keys: dict[str, _Key] = {}
        self._fetched_at: datetime | None = None
        self._attempted_at: datetime | None = None

    def get(self, kid: str) -> _Key:
        """The key for `kid`, refreshing once if it is unknown or our copy is old; else NotAuthorized."""
        with self._lock:
            now = self.clock.now()
            stale = self._fetched_at is None or now - self._fetched_at >= self.max_age
            if kid in self._keys and not stale:
                return self._keys[kid]
            if self._attempted_at is None or now - self._attempted_at >= self.min_refresh_interval:
                self._attempted_at = now
                try:
                    self._keys = self._download()
                    self._fetched_at = now
                except Exception as error:  # any failure here (network, JSON, shape) means "keep what we have"
                    log.warning("could not refresh the Bot Framework signing keys: %s: %s", type(error).__name__, error)
            if kid in self._keys:
                return self._keys[kid]
            if not self._keys:
                raise KeysUnavailable("the Bot Framework signing keys are unavailable")
            raise NotAuthorized("token signed with an unknown key id")

    def _download(self) -> dict[str, _Key]:
        metadata = self._fetch_json(self.metadata_url, self.timeout)
        jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise ValueError("the OpenID metadata has no jwks_uri")
        document = self._fetch_json(jwks_uri, self.timeout)
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ValueError("the JWKS has no keys list")
        keys: dict[str, _Key] = {}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig":
                continue
            kid = entry.get("kid")
            if not isinstance(kid, str) or not kid:
                continue
            try:
                key = jwt.PyJWK(entry, algorithm="RS256").key
            except (jwt.PyJWTError, ValueError, TypeError) as error:
                log.warning("skipping Bot Framework key %s: %s", kid[:64], error)
                continue
            endorsements = entry.get("endorsements")
            named = frozenset(e for e in endorsements if isinstance(e, str)) if isinstance(endorsements, list) else None
            keys[kid] = _Key(key, named or None)
        if not keys:
            raise ValueError("the JWKS holds no usable RSA signing key")
        return keys


class BotFrameworkAuth:
    """Verifies the `Authorization` header of one inbound activity; construct once, share across threads."""

    def __init__(
        self,
        app_id: str,
        keys: SigningKeys | None = None,
        *,
        clock: Clock | None = None,
        issuer: str = BOT_FRAMEWORK_ISSUER,
        leeway: timedelta = LEEWAY,
    ) -> None:
        if not app_id:
            raise ValueError("the Teams app id is required to check the token's audience")
        self.app_id = app_id
        self.clock = clock or SystemClock()
        self.keys = keys or SigningKeys(clock=self.clock)
        self.issuer = issuer
        self.leeway = leeway

    def verify(self, authorization_header: str | None, activity: Mapping[str, Any]) -> Claims:
        """The token's claims if it is good for this activity; raises NotAuthorized (with a reason) if not."""
        token = _bearer_token(authorization_header)
        if not isinstance(activity, Mapping):
            raise NotAuthorized("activity is not a JSON object")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise NotAuthorized("malformed token") from None
        if header.get("alg") not in ALGORITHMS:
            raise NotAuthorized("token signing algorithm not allowed (RS256 only)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise NotAuthorized("token has no key id")
        key = self.keys.get(kid)
        claims = self._decode(token, key.key)
        expires_at = self._check_times(claims)
        channel = activity.get("channelId")
        if key.endorsements is not None and isinstance(channel, str) and channel and channel not in key.endorsements:
            raise NotAuthorized("signing key is not endorsed for this channel")
        service_url = claims.get("serviceurl")
        if not isinstance(service_url, str) or not service_url:
            raise NotAuthorized("token has no serviceurl claim")
        if activity.get("serviceUrl") != service_url:
            raise NotAuthorized("activity serviceUrl does not match the token")
        return Claims(
            app_id=self.app_id,
            issuer=self.issuer,
            service_url=service_url,
            expires_at=expires_at,
            raw=claims,
        )

    def _decode(self, token: str, key: Any) -> dict[str, Any]:
        # Time is checked by _check_times against our clock; PyJWT checks signature, audience and issuer.
        options: Any = {"require": ["exp", "iss", "aud"], "verify_exp": False, "verify_nbf": False, "verify_iat": False}
        try:
            return jwt.decode(
                token, key, algorithms=list(ALGORITHMS), audience=self.app_id, issuer=self.issuer, options=options
            )
        except jwt.InvalidSignatureError:
            raise NotAuthorized("token signature does not verify") from None
        except jwt.InvalidAudienceError:
            raise NotAuthorized("token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise NotAuthorized("token is from another issuer") from None
        except jwt.MissingRequiredClaimError as error:
            raise NotAuthorized(f"token has no {error.claim} claim") from None
        except jwt.PyJWTError:
            raise NotAuthorized("malformed token") from None

    def _check_times(self, claims: Mapping[str, Any]) -> datetime:
        """Expiry and not-before against our clock, with leeway; returns the expiry."""
        now = self.clock.now().timestamp()
        leeway = self.leeway.total_seconds()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not _is_number(exp) or (nbf is not None and not _is_number(nbf)):
            raise NotAuthorized("token times are not numbers")
        if now > exp + leeway:
            raise NotAuthorized("token expired")
        if nbf is not None and now < nbf - leeway:
            raise NotAuthorized("token not valid yet")
        try:
            return datetime.fromtimestamp(exp, UTC)
        except (OverflowError, OSError, ValueError):
            raise NotAuthorized("token expiry out of range") from None


def _is_number(value: Any) -> bool:
    """JSON numbers only: no booleans, and no NaN or Infinity (which Python's JSON parser accepts)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _bearer_token(authorization_header: str | None) -> str:
    if not authorization_header or not authorization_header.strip():
        raise NotAuthorized("missing Authorization header")
    parts = authorization_header.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise NotAuthorized("malformed Authorization header (want: Bearer <token>)")
    if len(parts[1]) > MAX_TOKEN_CHARS:
        raise NotAuthorized("token too large")
    return parts[1]
