"""teams_channels: team channels the bot has seen, by name, so check-ins can be posted in a PLC's channel

Revision ID: chan1
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "chan1"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel_name", sa.String(length=255), nullable=False),
        sa.Column("team_name", sa.String(length=255), nullable=True),
        sa.Column("service_url", sa.String(length=255), nullable=False),
        sa.Column("bot_id", sa.String(length=100), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "conversation_id", name="uq_teams_channels_id"),
    )


def downgrade() -> None:
    op.drop_table("teams_channels")
