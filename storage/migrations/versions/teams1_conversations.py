"""teams_conversations: conversation references for replies and proactive Teams messages

Revision ID: teams1
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "teams1"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("service_url", sa.String(length=255), nullable=False),
        sa.Column("bot_id", sa.String(length=100), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "conversation_id", name="uq_teams_conversations_id"),
    )
    op.create_index("ix_teams_conversations_user", "teams_conversations", ["tenant_id", "user_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_teams_conversations_user", table_name="teams_conversations")
    op.drop_table("teams_conversations")
