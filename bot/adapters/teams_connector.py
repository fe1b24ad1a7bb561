"""Outbound Teams: the bot's own token (msal, client credentials) and the Bot Connector REST client.

`BotTokenProvider` keeps one Bot Framework token and renews it ahead of expiry on a background thread, so a
request path only ever reads a cached string; a token endpoint outage is a `TokenUnavailable` with a time to
try again, never a crash and never a hammered endpoint. `ConnectorClient` posts activities to the
conversation's `serviceUrl`, retrying 429/412/502/503/504 and network errors with jittered backoff that
honours `Retry-After`; what still fails is a `ConnectorUnavailable` carrying `after`, which the outbox's
sender turns into "send later", or a `ConnectorRejected` that retrying will not fix.

Neither ever logs a token or the app password.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import msal
from pydantic import SecretStr

from scheduling.clock import Clock, SystemClock

log = logging.getLogger(__name__)

BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
DEFAULT_AUTHORITY_BASE = "https://login.microsoftonline.com"
RETRY_STATUSES = frozenset({412, 429, 502, 503, 504})
MAX_RESPONSE_BYTES = 1_048_576
MAX_MEMBER_PAGES = 400  # 200,000 members at 500 a page: a loop guard, far above any team


# -- the bot's token -------------------------------------------------------------------------------------------


class TokenUnavailable(Exception):
    """No Bot Framework token could be had; `retry_after` says when asking again makes sense."""

    def __init__(self, reason: str, retry_after: timedelta) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Token:
    value: str
    refresh_at: datetime  # from here on a background refresh is started
    usable_until: datetime  # after this it is not sent (it could expire in flight)


class BotTokenProvider:
    """The bot's Bot Framework token from Entra ID (msal client credentials), cached and renewed early.

    `token()` returns the cached token; once it is within `refresh_ahead` of expiry it starts one background
    refresh and still returns the current token. Only with no usable token at all (first use, or after an
    outage outlasted it) does `token()` wait for a fetch. `refresh_if_due()` is for a scheduler tick or for
    start-up, so that even the first request finds a token. Failures back off (doubling from
    `failure_backoff` up to `max_backoff`); meanwhile `token()` fails fast without calling Entra.

    msal is built lazily because building it already calls the authority (tenant discovery), and an outage
    at start-up must not stop the process. `authority_base` is configurable so tests can use a fake Entra;
    instance discovery is off, since it would ask login.microsoftonline.com about any other host.
    """

    def __init__(
        self,
        app_id: str,
        app_password: SecretStr,
        tenant_id: str,
        *,
        authority_base: str = DEFAULT_AUTHORITY_BASE,
        scope: str = BOT_FRAMEWORK_SCOPE,
        clock: Clock | None = None,
        refresh_ahead: timedelta = timedelta(minutes=10),
        expiry_margin: timedelta = timedelta(minutes=1),
        failure_backoff: timedelta = timedelta(seconds=30),
        max_backoff: timedelta = timedelta(minutes=5),
        timeout: float = 10.0,
        spawn: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        if not (app_id and tenant_id and app_password.get_secret_value()):
            raise ValueError("Teams needs an app id, an app password and a tenant id")
        self.app_id = app_id
        self._password = app_password
        self.authority = f"{authority_base.rstrip('/')}/{tenant_id}"
        self.scope = scope
        self.clock = clock or SystemClock()
        self.refresh_ahead = refresh_ahead
        self.expiry_margin = expiry_margin
        self.failure_backoff = failure_backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self._spawn = spawn or _daemon_thread
        self._app: msal.ConfidentialClientApplication | None = None
        self._token: _Token | None = None
        self._fetch_lock = threading.Lock()
        self._flag_lock = threading.Lock()
        self._refreshing = False
        self._failures = 0
        self._retry_at: datetime | None = None
        self._last_failure = ""

    def token(self) -> str:
        """A usable token, from the cache whenever there is one; TokenUnavailable if none can be had."""
        current, now = self._token, self.clock.now()
        if current is not None and now < current.usable_until:
            if now >= current.refresh_at:
                self._refresh_in_background()
            return current.value
        return self._refresh().value

    def refresh_if_due(self) -> bool:
        """Renew the token if it is due (or missing); True if a new one was fetched. Never raises for an outage."""
        current = self._token
        if current is not None and self.clock.now() < current.refresh_at:
            return False
        try:
            return self._refresh() is not current
        except TokenUnavailable:
            return False  # already logged with its reason

    def invalidate(self) -> None:
        """Forget the cached token (the Connector refused it), so the next `token()` fetches a fresh one."""
        self._token = None

    def _refresh_in_background(self) -> None:
        with self._flag_lock:
            if self._refreshing:
                return
            self._refreshing = True

        def run() -> None:
            try:
                self._refresh()
            except TokenUnavailable:
                pass  # logged in _refresh; the current token stays in use until it is no longer usable
            except Exception:
                log.exception("refreshing the Bot Framework token failed unexpectedly")
            finally:
                with self._flag_lock:
                    self._refreshing = False

        try:
            self._spawn(run)
        except Exception:  # no thread to be had: the current token still serves; try again on the next call
            log.exception("could not start the Bot Framework token refresh")
            with self._flag_lock:
                self._refreshing = False

    def _refresh(self) -> _Token:
        with self._fetch_lock:  # one fetch at a time; whoever waited gets the fresh token
            now = self.clock.now()
            current = self._token
            if current is not None and now < current.refresh_at:
                return current
            if self._retry_at is not None and now < self._retry_at:
                raise TokenUnavailable(self._last_failure, self._retry_at - now)
            try:
                fresh = self._fetch(now)
            except TokenUnavailable as failure:
                # msal remembers a failed answer for a while (in wall-clock time) and would repeat it after the
                # endpoint recovers; the backoff here is the one that counts, so the next try starts afresh.
                self._app = None
                self._failures += 1
                wait = min(self.failure_backoff * 2 ** (self._failures - 1), self.max_backoff)
                self._retry_at, self._last_failure = now + wait, failure.reason
                log.warning("no Bot Framework token (%s); next try in %ss", failure.reason, int(wait.total_seconds()))
                raise TokenUnavailable(failure.reason, wait) from None
            self._token, self._failures, self._retry_at = fresh, 0, None
            return fresh

    def _fetch(self, now: datetime) -> _Token:
        try:
            app = self._app or self._build_app()
            self._app = app
            _forget_cached_tokens(app)  # we decide when to renew; msal's cache would hand back the old token
            result = app.acquire_token_for_client(scopes=[self.scope])
        except Exception as error:  # msal raises ValueError, MsalServiceError and requests' network errors
            raise TokenUnavailable(f"token endpoint unreachable or failing: {_short(error)}", timedelta(0)) from None
        if "access_token" not in result:
            description = str(result.get("error_description") or "").splitlines()[0:1]
            reason = f"{result.get('error', 'unknown error')}: {''.join(description)[:200]}"
            raise TokenUnavailable(f"token endpoint refused: {reason}", timedelta(0))
        try:
            lifetime = timedelta(seconds=max(int(result.get("expires_in", 3600)), 0))
        except (TypeError, ValueError):
            lifetime = timedelta(hours=1)
        usable_until = now + lifetime - min(self.expiry_margin, lifetime / 4)
        refresh_at = min(now + lifetime - min(self.refresh_ahead, lifetime / 2), usable_until)
        return _Token(value=str(result["access_token"]), refresh_at=refresh_at, usable_until=usable_until)

    def _build_app(self) -> msal.ConfidentialClientApplication:
        return msal.ConfidentialClientApplication(
            self.app_id,
            client_credential=self._password.get_secret_value(),
            authority=self.authority,
            instance_discovery=False,
            timeout=self.timeout,
        )


def _forget_cached_tokens(app: msal.ConfidentialClientApplication) -> None:
    cache = app.token_cache
    kind = msal.TokenCache.CredentialType.ACCESS_TOKEN
    entries = list(cache.search(kind)) if hasattr(cache, "search") else cache.find(kind)
    for entry in entries:
        cache.remove_at(entry)


def _daemon_thread(target: Callable[[], None]) -> None:
    threading.Thread(target=target, name="teams-token-refresh", daemon=True).start()


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:200]}"


# -- the Bot Connector -----------------------------------------------------------------------------------------


class TokenSource(Protocol):
    def token(self) -> str: ...

    def invalidate(self) -> None: ...


class ConnectorError(Exception):
    """A Bot Connector call failed; `status` is the HTTP status, None for a network failure or no token."""

    def __init__(self, operation: str, status: int | None, reason: str) -> None:
        super().__init__(f"Bot Connector {operation} failed: {reason}")
        self.operation = operation
        self.status = status
        self.reason = reason


class ConnectorUnavailable(ConnectorError):
    """Transient (throttled, 5xx, network, no token) after our retries: try again after `after`."""

    def __init__(self, operation: str, status: int | None, reason: str, after: timedelta) -> None:
        super().__init__(operation, status, reason)
        self.after = after


class ConnectorRejected(ConnectorError):
    """The Connector said no in a way retrying will not fix (bad request, forbidden, unknown conversation)."""


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` in all; waits of `base_delay` doubling, jittered; never more than `max_wait` asleep in total.

    A `Retry-After` longer than what is left of `max_wait` is not slept through here: it is handed back in
    `ConnectorUnavailable.after`, so the outbox row is retried later instead of outliving its lease.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_wait: float = 30.0
    default_after: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class _Failure:
    status: int | None
    reason: str
    retry_after: float | None = None


class ConnectorClient:
    """The Bot Connector REST API (v3) on a conversation's `serviceUrl`, authorised with the bot's token."""

    def __init__(
        self,
        tokens: TokenSource,
        *,
        policy: RetryPolicy | None = None,
        timeout: float = 15.0,
        require_https: bool = True,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.tokens = tokens
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self.require_https = require_https
        self.clock = clock or SystemClock()
        self._sleep = sleep
        self._jitter = jitter

    def send(self, service_url: str, conversation_id: str, activity: Mapping[str, Any]) -> str | None:
        """Post a new activity to the conversation; returns its id (proactive messages, the outbox)."""
        url = self._conversation_url(service_url, conversation_id) + "/activities"
        return self._call("send", "POST", url, activity).get("id")

    def reply(
        self, service_url: str, conversation_id: str, activity_id: str, activity: Mapping[str, Any]
    ) -> str | None:
        """Reply to an activity (in a channel this threads under it); returns the new activity's id."""
        url = f"{self._conversation_url(service_url, conversation_id)}/activities/{_segment(activity_id)}"
        body = {**activity, "replyToId": activity_id}
        return self._call("reply", "POST", url, body).get("id")

    def update(
        self, service_url: str, conversation_id: str, activity_id: str, activity: Mapping[str, Any]
    ) -> str | None:
        """Replace an activity the bot sent (a card after its buttons were used)."""
        url = f"{self._conversation_url(service_url, conversation_id)}/activities/{_segment(activity_id)}"
        body = {**activity, "id": activity_id}
        return self._call("update", "PUT", url, body).get("id")

    def create_conversation(self, service_url: str, tenant_id: str, bot_id: str, user_id: str) -> str:
        """Open (or find) the 1:1 chat with `user_id` and return its conversation id.

        Teams allows it only where the app is installed for the user or the tenant; otherwise the
        Connector answers 403, raised as ConnectorRejected.
        """
        url = self._base(service_url) + "/v3/conversations"
        body = {
            "isGroup": False,
            "bot": {"id": bot_id},
            "members": [{"id": user_id}],
            "tenantId": tenant_id,
            "channelData": {"tenant": {"id": tenant_id}},
        }
        conversation_id = self._call("create_conversation", "POST", url, body).get("id")
        if not isinstance(conversation_id, str) or not conversation_id:
            raise ConnectorError("create_conversation", None, "the answer held no conversation id")
        return conversation_id

    def members(self, service_url: str, conversation_id: str, page_size: int = 500) -> list[dict[str, Any]]:
        """Everyone in the conversation (a team, a group chat, a 1:1 chat), page by page.

        Each member carries `id`, `aadObjectId`, `name` and, in Teams, `email` and `userPrincipalName`: what
        links a roster row to a Teams account without any Microsoft Graph permission.
        """
        url = self._conversation_url(service_url, conversation_id) + "/pagedmembers"
        found: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(MAX_MEMBER_PAGES):
            query = f"?pageSize={page_size}" + (f"&continuationToken={quote(token, safe='')}" if token else "")
            page = self._call("members", "GET", url + query, None)
            found.extend(m for m in page.get("members") or [] if isinstance(m, dict))
            token = page.get("continuationToken") or None
            if not isinstance(token, str):
                return found
        log.warning("Bot Connector members: stopped after %s pages of %s", MAX_MEMBER_PAGES, conversation_id[:80])
        return found

    def member(self, service_url: str, conversation_id: str, user_id: str) -> dict[str, Any] | None:
        """One member of the conversation (by Teams id or AAD object id); None if they are not in it."""
        url = f"{self._conversation_url(service_url, conversation_id)}/members/{_segment(user_id)}"
        try:
            answer = self._call("member", "GET", url, None)
        except ConnectorRejected as error:
            if error.status == 404:
                return None
            raise
        return answer or None

    # -- plumbing -----------------------------------------------------------------------------------------

    def _base(self, service_url: str) -> str:
        parts = urlsplit(service_url)
        allowed = ("https",) if self.require_https else ("https", "http")
        if parts.scheme not in allowed or not parts.hostname or parts.username or parts.query or parts.fragment:
            raise ValueError("not a Bot Connector service URL")
        return service_url.rstrip("/")

    def _conversation_url(self, service_url: str, conversation_id: str) -> str:
        if not conversation_id:
            raise ValueError("a conversation id is required")
        return f"{self._base(service_url)}/v3/conversations/{_segment(conversation_id)}"

    def _call(self, operation: str, method: str, url: str, body: Mapping[str, Any] | None) -> dict[str, Any]:
        payload = json.dumps(body).encode() if body is not None else None
        waited = 0.0
        attempt = 0
        refreshed = False
        while True:
            try:
                token = self.tokens.token()
            except TokenUnavailable as error:
                reason = f"no Bot Framework token: {error.reason}"
                raise ConnectorUnavailable(operation, None, reason, _after(error.retry_after.total_seconds())) from None
            outcome = self._attempt(method, url, payload, token)
            if isinstance(outcome, dict):
                return outcome
            failure = outcome
            if failure.status == 401 and not refreshed:
                refreshed = True  # the token may have been revoked or rotated: one more try with a fresh one
                self.tokens.invalidate()
                continue
            if failure.status is not None and failure.status not in RETRY_STATUSES:
                raise ConnectorRejected(operation, failure.status, failure.reason)
            attempt += 1
            if attempt >= self.policy.attempts:
                after = failure.retry_after
                raise ConnectorUnavailable(
                    operation,
                    failure.status,
                    failure.reason,
                    _after(after if after is not None else self.policy.default_after.total_seconds()),
                )
            delay = self._delay(attempt, failure.retry_after)
            if waited + delay > self.policy.max_wait:
                raise ConnectorUnavailable(operation, failure.status, failure.reason, _after(delay))
            log.info("Bot Connector %s: %s; retry %s in %.1fs", operation, failure.reason, attempt, delay)
            self._sleep(delay)
            waited += delay

    def _attempt(self, method: str, url: str, payload: bytes | None, token: str) -> dict[str, Any] | _Failure:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", "User-Agent": "growthbot"}
        if payload is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        request = urllib.request.Request(url, data=payload, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read(MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as error:
            with error:
                detail = _error_detail(error.read(4096))
            reason = f"HTTP {error.code}" + (f" ({detail})" if detail else "")
            return _Failure(error.code, reason, self._retry_after(error.headers.get("Retry-After")))
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            return _Failure(None, f"network: {_short(error)}")
        try:
            answer = json.loads(raw) if raw.strip() else {}
        except ValueError:
            answer = {}
        return answer if isinstance(answer, dict) else {}

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after + self._jitter() * self.policy.base_delay  # spread clients waking at once
        ceiling = min(self.policy.max_delay, self.policy.base_delay * 2 ** (attempt - 1))
        return ceiling / 2 + self._jitter() * ceiling / 2

    def _retry_after(self, value: str | None) -> float | None:
        """Seconds from a Retry-After header: delta-seconds or an HTTP date; None if absent or unreadable."""
        if not value:
            return None
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max((when - self.clock.now()).total_seconds(), 0.0)


def _segment(value: str) -> str:
    """Teams ids hold ':' ';' '@' '=': each is one path segment, escaped in full."""
    return quote(value, safe="")


def _after(seconds: float) -> timedelta:
    return timedelta(seconds=max(seconds, 1.0))


def _error_detail(body: bytes) -> str:
    """The Connector's error code and message, short; its error bodies carry no secrets."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return ""
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        return ": ".join(str(error[k])[:120] for k in ("code", "message") if error.get(k))
    if isinstance(parsed, dict) and parsed.get("message"):
        return str(parsed["message"])[:120]
    return ""
