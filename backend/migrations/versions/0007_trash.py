"""The trash: a deleted task moves here, out of every list, count and index of `tasks`, until it is restored,
destroyed, or older than TRASH_RETENTION_DAYS. And the record of when the periodic sweep last ran.

A table of its own rather than a `deleted_at` column on `tasks`: every list index, the counters and the quota
keep serving live tasks only, however large the trash grows, and no query can forget to leave the trash out.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The columns of `tasks` as migration 0004 left them, without the `search` document (trash is not searched).
    op.create_table(
        "trashed_tasks",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.String(length=6), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recurrence", postgresql.JSONB(), nullable=True),
        sa.Column("series_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_occurrence_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    # The trash list, most recently deleted first, in keyset pages; and the sweep's "older than".
    op.create_index(
        "ix_trashed_tasks_user_id_deleted_at_id",
        "trashed_tasks",
        ["user_id", sa.text("deleted_at DESC"), sa.text("id DESC")],
    )
    op.create_index("ix_trashed_tasks_deleted_at", "trashed_tasks", ["deleted_at"])
    op.create_table(
        "maintenance_runs",
        sa.Column("job", sa.Text(), primary_key=True),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("maintenance_runs")
    op.drop_table("trashed_tasks")
