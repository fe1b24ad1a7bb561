"""Teams conversation references: remember where each person and chat can be reached, look them up to send.

Also the link between the roster and Teams accounts: a roster row saved as `pending:<email>` takes the AAD
object id of the Teams member whose email Teams reports (`link_members`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from storage.database import Database
from storage.models import Person, TeamsChannel, TeamsConversation, Workspace
from storage.org import Roster

PLATFORM = "teams"
PENDING = "pending:"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reference:
    tenant_id: str
    conversation_id: str
    service_url: str
    bot_id: str
    kind: str
    user_id: str | None
    channel_name: str | None = None  # a team channel's name (from channelData; General when Teams gives none)
    team_name: str | None = None


def base_conversation(conversation_id: str) -> str:
    """A channel conversation without the `;messageid=` of the thread a message was in: where a new post goes."""
    return conversation_id.split(";messageid=", 1)[0]


def remember(db: Database, ref: Reference, now: datetime) -> None:
    """Insert or refresh a reference (service URLs move between regions, so the latest one wins)."""
    if ref.kind == "channel" and ref.channel_name:
        _remember_channel(db, ref, now)
    with db.sessions.begin() as session:
        found = session.scalar(
            select(TeamsConversation).where(
                TeamsConversation.tenant_id == ref.tenant_id, TeamsConversation.conversation_id == ref.conversation_id
            )
        )
        if found is None:
            session.add(
                TeamsConversation(
                    tenant_id=ref.tenant_id,
                    conversation_id=ref.conversation_id,
                    kind=ref.kind,
                    user_id=ref.user_id,
                    service_url=ref.service_url,
                    bot_id=ref.bot_id,
                    updated_at=now,
                )
            )
        elif (found.service_url, found.bot_id, found.user_id) != (ref.service_url, ref.bot_id, ref.user_id):
            found.service_url, found.bot_id, found.user_id, found.updated_at = (
                ref.service_url,
                ref.bot_id,
                ref.user_id,
                now,
            )


def _remember_channel(db: Database, ref: Reference, now: datetime) -> None:
    conversation_id = base_conversation(ref.conversation_id)
    with db.sessions.begin() as session:
        found = session.scalar(
            select(TeamsChannel).where(
                TeamsChannel.tenant_id == ref.tenant_id, TeamsChannel.conversation_id == conversation_id
            )
        )
        values = {"channel_name": ref.channel_name or "General", "team_name": ref.team_name,
                  "service_url": ref.service_url, "bot_id": ref.bot_id}  # fmt: skip
        if found is None:
            session.add(
                TeamsChannel(tenant_id=ref.tenant_id, conversation_id=conversation_id, updated_at=now, **values)
            )
        elif any(getattr(found, k) != v for k, v in values.items() if v):
            for key, value in values.items():
                if value:
                    setattr(found, key, value)
            found.updated_at = now


def _plain_name(name: str) -> str:
    return " ".join(name.strip().lstrip("#").replace("-", " ").replace("_", " ").lower().split())


def channel_named(db: Database, tenant_id: str, name: str) -> Reference | None:
    """The team channel a person named (`#grade4-plc`, "Grade 4 PLC", or its conversation id), if the bot has
    seen it: by the channel's name, else by the team's (its General channel), the most recent first."""
    wanted = _plain_name(name)
    if not wanted:
        return None
    with db.sessions.begin() as session:
        rows = session.scalars(
            select(TeamsChannel).where(TeamsChannel.tenant_id == tenant_id).order_by(TeamsChannel.updated_at.desc())
        ).all()
        for match in (
            lambda r: r.conversation_id == name.strip(),
            lambda r: _plain_name(r.channel_name) == wanted,
            lambda r: _plain_name(r.team_name or "") == wanted and r.channel_name == "General",
        ):
            found = next((r for r in rows if match(r)), None)
            if found is not None:
                return Reference(found.tenant_id, found.conversation_id, found.service_url, found.bot_id, "channel",
                                 None, found.channel_name, found.team_name)  # fmt: skip
    return None


def _reference(row: TeamsConversation) -> Reference:
    return Reference(row.tenant_id, row.conversation_id, row.service_url, row.bot_id, row.kind, row.user_id)


def personal(db: Database, tenant_id: str, user_id: str) -> Reference | None:
    """The 1:1 chat with this person, if the bot has one."""
    with db.sessions.begin() as session:
        row = session.scalar(
            select(TeamsConversation)
            .where(
                TeamsConversation.tenant_id == tenant_id,
                TeamsConversation.user_id == user_id,
                TeamsConversation.kind == "personal",
            )
            .order_by(TeamsConversation.updated_at.desc())
            .limit(1)
        )
        return _reference(row) if row is not None else None


def any_in_tenant(db: Database, tenant_id: str) -> Reference | None:
    """Some recent reference in the tenant: its service URL and bot id can open a chat with anyone there."""
    with db.sessions.begin() as session:
        row = session.scalar(
            select(TeamsConversation)
            .where(TeamsConversation.tenant_id == tenant_id)
            .order_by(TeamsConversation.updated_at.desc())
            .limit(1)
        )
        return _reference(row) if row is not None else None


def conversation(db: Database, tenant_id: str, conversation_id: str) -> Reference | None:
    with db.sessions.begin() as session:
        row = session.scalar(
            select(TeamsConversation).where(
                TeamsConversation.tenant_id == tenant_id, TeamsConversation.conversation_id == conversation_id
            )
        )
        return _reference(row) if row is not None else None


# -- linking roster people to Teams accounts -------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A Teams member as the Bot Connector lists them: AAD object id, the addresses Teams gives, display name."""

    user_id: str
    emails: tuple[str, ...]  # `email`, then `userPrincipalName`, lower case; either may match the roster
    name: str = ""


def _workspace_id(session: Session, tenant_id: str) -> int | None:
    return session.scalar(
        select(Workspace.id).where(Workspace.platform == PLATFORM, Workspace.external_id == tenant_id)
    )


def has_pending(db: Database, tenant_id: str) -> bool:
    """Whether the tenant's roster still has someone not linked to a Teams account (else no lookup is needed)."""
    with db.sessions.begin() as session:
        workspace = _workspace_id(session, tenant_id)
        if workspace is None:
            return False
        return bool(
            session.scalar(
                select(
                    exists().where(
                        Person.workspace_id == workspace,
                        Person.platform_user_id.startswith(PENDING, autoescape=True),
                        Person.deactivated_at.is_(None),
                    )
                )
            )
        )


def is_linked(db: Database, tenant_id: str, user_id: str) -> bool:
    """This AAD id belongs to a roster person (one with an email); a guest's row or no row at all is not linked."""
    with db.sessions.begin() as session:
        workspace = _workspace_id(session, tenant_id)
        if workspace is None:
            return False
        email = session.scalar(
            select(Person.email).where(Person.workspace_id == workspace, Person.platform_user_id == user_id)
        )
        return email is not None


def linked_emails(db: Database, tenant_id: str) -> dict[str, str]:
    """Email -> AAD id of the roster people already linked: what a re-import of the roster finds on Teams."""
    with db.sessions.begin() as session:
        workspace = _workspace_id(session, tenant_id)
        if workspace is None:
            return {}
        rows = session.execute(
            select(Person.email, Person.platform_user_id).where(
                Person.workspace_id == workspace,
                Person.email.is_not(None),
                ~Person.platform_user_id.startswith(PENDING, autoescape=True),
            )
        )
        return {str(email): user_id for email, user_id in rows}


def linked_id(db: Database, tenant_id: str, email: str) -> str | None:
    """The AAD id of the roster person with this email, once linked; None while pending (or not on the roster)."""
    with db.sessions.begin() as session:
        workspace = _workspace_id(session, tenant_id)
        if workspace is None:
            return None
        user_id = session.scalar(
            select(Person.platform_user_id).where(Person.workspace_id == workspace, Person.email == email.lower())
        )
        return None if user_id is None or user_id.startswith(PENDING) else user_id


def member_conversations(db: Database, tenant_id: str) -> list[Reference]:
    """The team channels and group chats the bot is in: where listing members finds people to link."""
    with db.sessions.begin() as session:
        channels = session.scalars(select(TeamsChannel).where(TeamsChannel.tenant_id == tenant_id)).all()
        groups = session.scalars(
            select(TeamsConversation).where(
                TeamsConversation.tenant_id == tenant_id, TeamsConversation.kind == "groupChat"
            )
        ).all()
        found = [Reference(c.tenant_id, c.conversation_id, c.service_url, c.bot_id, "channel", None) for c in channels]
        return found + [_reference(g) for g in groups]


def link_members(db: Database, tenant_id: str, members: Iterable[Member]) -> list[int]:
    """Link each `pending:` roster person whose email a Teams member has; returns the ids of those linked.

    Emails match case-insensitively. Left alone (logged, and still pending): an email two Teams accounts
    share, an account already linked to another roster person, a roster person linked to another account.
    A member whose email is not on the roster is not stored at all: they stay a guest.

    Someone who chatted before they were linked has a guest row under their AAD id. The roster row is kept
    (it holds the roles, school and evaluator) and the guest row is folded into it with `Roster.merge`:
    every foreign key (goals, observations, survey answers, ...) moves to the roster row and the guest row
    goes. Their open dialogs and Teams chats follow on their own, being keyed by the AAD id the roster row
    now takes; their own settings (quiet hours, a chosen time zone, /away) are copied where the roster row
    has none. Everything happens in one transaction.
    """
    by_email: dict[str, set[str]] = {}
    for member in members:
        for email in member.emails:
            by_email.setdefault(email, set()).add(member.user_id)
    if not by_email:
        return []
    linked: list[int] = []
    with db.sessions.begin() as session:
        workspace = _workspace_id(session, tenant_id)
        if workspace is None:
            return []
        people = session.scalars(
            select(Person).where(Person.workspace_id == workspace, Person.email.in_(sorted(by_email)))
        ).all()
        for person in people:
            accounts = by_email[str(person.email)]
            if person.platform_user_id in accounts:
                continue  # linked already
            if len(accounts) > 1:
                log.warning("roster person %s: %s Teams accounts share their email; left pending", person.id,
                            len(accounts))  # fmt: skip
                continue
            if not person.platform_user_id.startswith(PENDING):
                log.warning("roster person %s is linked to another Teams account; not relinked", person.id)
                continue
            [user_id] = accounts
            guest = session.scalar(
                select(Person).where(Person.workspace_id == workspace, Person.platform_user_id == user_id)
            )
            if guest is not None and guest.email is not None:
                log.warning("Teams account %s is roster person %s already; %s left pending", user_id[:64], guest.id,
                            person.id)  # fmt: skip
                continue
            if guest is not None:
                _adopt_settings(person, guest)
                Roster(session).merge([(person.id, guest.id)])
                session.expunge(guest)
            person.platform_user_id = user_id
            session.flush()
            linked.append(person.id)
    if linked:
        log.info("linked %s roster people in tenant %s to their Teams accounts", len(linked), tenant_id)
    return linked


def _adopt_settings(person: Person, guest: Person) -> None:
    """What the person chose while still a guest, where the roster row has nothing of its own."""
    if guest.zone_chosen and not person.zone_chosen:
        person.time_zone, person.zone_chosen = guest.time_zone, True
    if person.quiet_start is None and person.quiet_end is None:
        person.quiet_start, person.quiet_end = guest.quiet_start, guest.quiet_end
    if person.away_until is None:
        person.away_until = guest.away_until
