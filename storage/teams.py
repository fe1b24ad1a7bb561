"""Teams conversation references: remember where each person and chat can be reached, look them up to send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.database import Database
from storage.models import TeamsConversation


@dataclass(frozen=True)
class Reference:
    tenant_id: str
    conversation_id: str
    service_url: str
    bot_id: str
    kind: str
    user_id: str | None


def remember(db: Database, ref: Reference, now: datetime) -> None:
    """Insert or refresh a reference (service URLs move between regions, so the latest one wins)."""
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
