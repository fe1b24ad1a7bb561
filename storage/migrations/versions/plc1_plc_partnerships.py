"""PLC teams (assessment calendars, check-ins, data reviews) and partnerships (meetings, notes, action plans)

Revision ID: plc1
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "plc1"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plc_teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("school", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=120), nullable=False),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
        sa.Column("member_ids", sa.JSON(), nullable=False),
        sa.Column("cadence", sa.String(length=200), nullable=False),
        sa.Column("rrule", sa.Text(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_plc_teams_workspace_name"),
    )
    op.create_table(
        "plc_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("plc_teams.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_plc_assessments_team", "plc_assessments", ["team_id"])
    op.create_table(
        "plc_checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("plc_teams.id", ondelete="CASCADE"), nullable=False),
        sa.Column("meeting_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "meeting_at", name="uq_plc_checkins_team_meeting"),
    )
    op.create_table(
        "plc_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("plc_teams.id", ondelete="CASCADE"), nullable=False),
        sa.Column("checkin_id", sa.Integer(), sa.ForeignKey("plc_checkins.id", ondelete="SET NULL"), nullable=True),
        sa.Column("assessment", sa.String(length=200), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("students_assessed", sa.Integer(), nullable=False),
        sa.Column("percent_at_target", sa.Float(), nullable=False),
        sa.Column("tier2", sa.Integer(), nullable=False),
        sa.Column("tier3", sa.Integer(), nullable=False),
        sa.Column("gaps", sa.Text(), nullable=True),
        sa.Column("next_steps", sa.JSON(), nullable=False),
        sa.Column("logged_by_id", sa.Integer(), sa.ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_plc_reviews_team", "plc_reviews", ["team_id"])
    op.create_table(
        "partnerships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("district", sa.String(length=200), nullable=False),
        sa.Column("program", sa.String(length=200), nullable=False),
        sa.Column("vision", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=120), nullable=False),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("remind_school_days", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_partnerships_workspace_name"),
    )
    op.create_table(
        "partnership_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), sa.ForeignKey("partnerships.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("cadence", sa.String(length=200), nullable=False),
        sa.Column("rrule", sa.Text(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partnership_id", "kind", name="uq_partnership_meetings_kind"),
    )
    op.create_table(
        "partnership_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), sa.ForeignKey("partnerships.id", ondelete="CASCADE"), nullable=False),
        sa.Column("meeting_kind", sa.String(length=32), nullable=False),
        sa.Column("meeting_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("decisions", sa.Text(), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_partnership_notes_partnership", "partnership_notes", ["partnership_id"])
    op.create_table(
        "action_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), sa.ForeignKey("partnerships.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("responsible_ids", sa.JSON(), nullable=False),
        sa.Column("others", sa.Text(), nullable=False),
        sa.Column("outputs", sa.Text(), nullable=False),
        sa.Column("outcomes", sa.Text(), nullable=False),
        sa.Column("resources", sa.Text(), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("lift", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partnership_id", "number", name="uq_action_steps_number"),
    )


def downgrade() -> None:
    op.drop_table("action_steps")
    op.drop_index("ix_partnership_notes_partnership", table_name="partnership_notes")
    op.drop_table("partnership_notes")
    op.drop_table("partnership_meetings")
    op.drop_table("partnerships")
    op.drop_index("ix_plc_reviews_team", table_name="plc_reviews")
    op.drop_table("plc_reviews")
    op.drop_table("plc_checkins")
    op.drop_index("ix_plc_assessments_team", table_name="plc_assessments")
    op.drop_table("plc_assessments")
    op.drop_table("plc_teams")
