"""Teams conversation references: remember where each person and chat can be reached, look them up to send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.database import Database
from storage.models import TeamsChannel, TeamsConversation


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
