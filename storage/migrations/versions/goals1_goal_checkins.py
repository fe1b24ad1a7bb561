"""Goal benchmark check-ins: asked the school day before each benchmark, answered on track / behind / done

Revision ID: goals1
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "goals1"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "goal_checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), sa.ForeignKey("goals.id", ondelete="CASCADE"), nullable=False),
        sa.Column("benchmark_on", sa.Date(), nullable=False),
        sa.Column("checks", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("asked_at", UTCDateTime(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("goal_id", "benchmark_on", name="uq_goal_checkins_benchmark"),
    )


def downgrade() -> None:
    op.drop_table("goal_checkins")
