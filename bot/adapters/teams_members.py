"""Roster people become Teams users by email, from what Teams itself tells the bot (no Graph permission).

A roster imported into the Teams tenant's workspace saves everyone as `pending:<email>`, because the
import has no way to ask Teams who is who. The bot learns it later, off the request path:

- on install (`conversationUpdate` with `membersAdded`, `installationUpdate`), the Bot Connector lists the
  conversation's members with their AAD object id and email;
- on a message from someone whose AAD id is not linked to a roster row, the Connector gives that member;
- when the outbox has a notice for a still pending person, the team channels and group chats the bot is
  in are listed again (at most every `SWEEP_EVERY` per tenant, sooner after a failed listing), so
  someone who never writes to the bot is reached too, and a Connector outage at install loses nothing.

Every Connector failure here is logged (never an email) and retried by one of the later paths; none
stops the message being handled.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from bot.adapters.teams_connector import ConnectorClient, ConnectorError, ConnectorUnavailable, TokenUnavailable
from scheduling.clock import Clock
from storage import teams
from storage.database import Database
from storage.teams import Member, Reference

log = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(minutes=15)  # re-listing a tenant's teams for pending people, at most this often
FAILED_SWEEP_RETRY = timedelta(minutes=1)
GUEST_RECHECK = timedelta(minutes=30)  # a guest's email is asked again after this (a roster may have come)


def member_of(raw: dict[str, Any]) -> Member | None:
    """A Connector member (`aadObjectId`, `email`, `userPrincipalName`, `name`) as a `Member`; None without an id."""
    user_id = str(raw.get("aadObjectId") or "").strip()
    if not user_id:
        return None  # the bot itself, or a member Teams gives no AAD id for
    emails = tuple(
        dict.fromkeys(str(raw.get(key) or "").strip().lower() for key in ("email", "userPrincipalName") if raw.get(key))
    )
    return Member(user_id[:64], tuple(e for e in emails if "@" in e), str(raw.get("name") or "")[:200])


class MemberLinker:
    """Links pending roster people of a tenant to the Teams members the Connector reports, by email."""

    def __init__(self, db: Database, connector: ConnectorClient, clock: Clock) -> None:
        self.db = db
        self.connector = connector
        self.clock = clock
        self._lock = threading.Lock()
        self._next_sweep: dict[str, datetime] = {}  # tenant -> earliest next sweep
        self._checked: dict[tuple[str, str], datetime] = {}  # (tenant, AAD id) -> asked again after this

    # -- install ------------------------------------------------------------------------------------------

    def installed(self, ref: Reference, added: Iterable[dict[str, Any]], bot_id: str | None) -> None:
        """The bot was added (list everyone), or people joined a conversation it is in (ask about them)."""
        if not teams.has_pending(self.db, ref.tenant_id):
            return
        added = list(added)
        conversation = teams.base_conversation(ref.conversation_id)
        try:
            if not added or any(m.get("id") == bot_id for m in added):
                raw = self.connector.members(ref.service_url, conversation)
            else:
                raw = [
                    found
                    for m in added
                    if m.get("id")
                    and (found := self.connector.member(ref.service_url, conversation, str(m["id"]))) is not None
                ]
        except (ConnectorError, TokenUnavailable, ValueError) as error:
            self._failed(ref.tenant_id, error, f"listing the members of {conversation[:80]}")
            return
        self._link(ref.tenant_id, raw)

    # -- a message from someone not linked yet --------------------------------------------------------

    def message_from(self, ref: Reference, user_id: str) -> None:
        """Before their message is handled: someone whose AAD id is not a roster person's, while people are pending."""
        now = self.clock.now()
        key = (ref.tenant_id, user_id)
        with self._lock:
            if self._checked.get(key, now) > now:
                return
        if teams.is_linked(self.db, ref.tenant_id, user_id):
            with self._lock:
                self._checked[key] = now + GUEST_RECHECK  # a roster person: nothing to ask for a while
            return
        if not teams.has_pending(self.db, ref.tenant_id):
            return  # nobody to link (no roster yet): asked again once there is
        try:
            raw = self.connector.member(ref.service_url, teams.base_conversation(ref.conversation_id), user_id)
        except (ConnectorError, TokenUnavailable, ValueError) as error:
            self._failed(ref.tenant_id, error, f"looking up Teams member {user_id[:64]}")
            return  # asked again on their next message, or by a sweep
        with self._lock:
            self._checked[key] = now + GUEST_RECHECK
        self._link(ref.tenant_id, [raw] if raw else [])

    # -- a notice for someone still pending -----------------------------------------------------------

    def sweep(self, tenant_id: str) -> bool:
        """List the members of the tenant's team channels and group chats again, if due; True if anyone was linked."""
        now = self.clock.now()
        with self._lock:
            if self._next_sweep.get(tenant_id, now) > now:
                return False
            self._next_sweep[tenant_id] = now + SWEEP_EVERY
        raw: list[dict[str, Any]] = []
        for ref in teams.member_conversations(self.db, tenant_id):
            try:
                raw.extend(self.connector.members(ref.service_url, ref.conversation_id))
            except (ConnectorError, TokenUnavailable, ValueError) as error:
                self._failed(tenant_id, error, f"listing the members of {ref.conversation_id[:80]}")
        return bool(self._link(tenant_id, raw))

    # -- shared -------------------------------------------------------------------------------------------

    def _link(self, tenant_id: str, raw: Iterable[dict[str, Any]]) -> list[int]:
        members = [m for m in (member_of(r) for r in raw if isinstance(r, dict)) if m is not None]
        return teams.link_members(self.db, tenant_id, members) if members else []

    def _failed(self, tenant_id: str, error: Exception, doing: str) -> None:
        """Logged without the member's email; the next sweep of the tenant comes soon instead of in SWEEP_EVERY."""
        retry = error.after if isinstance(error, ConnectorUnavailable) else FAILED_SWEEP_RETRY
        if isinstance(error, TokenUnavailable):
            retry = error.retry_after
        with self._lock:
            soon = self.clock.now() + max(retry, timedelta(seconds=1))
            self._next_sweep[tenant_id] = min(self._next_sweep.get(tenant_id, soon), soon)
        log.warning("Teams roster linking: %s failed (%s); retried later", doing, error)
