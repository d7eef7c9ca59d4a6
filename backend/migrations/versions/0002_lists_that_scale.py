"""Priority, due dates, versions for ETags, full-text search, sort indexes, idempotency keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Must be the very expression the list query orders by, or the index cannot serve it.
DUE_SORT_KEY = "COALESCE(due_at, '9999-12-31 00:00:00+00'::timestamptz)"
SEARCH_DOCUMENT = "to_tsvector('simple'::regconfig, title || ' ' || COALESCE(description, ''))"


def upgrade() -> None:
    op.add_column("tasks", sa.Column("priority", sa.String(length=6), server_default="medium", nullable=False))
    op.add_column("tasks", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tasks", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False))
    op.add_column(
        "tasks",
        sa.Column("search", postgresql.TSVECTOR(), sa.Computed(SEARCH_DOCUMENT, persisted=True), nullable=True),
    )
    op.create_check_constraint("ck_tasks_priority", "tasks", "priority IN ('low', 'medium', 'high')")
    # One index per sort order, each ending in id so that (key, id) is a total order for keyset pages.
    op.create_index("ix_tasks_user_id_updated_at_id", "tasks", ["user_id", "updated_at", "id"])
    op.create_index("ix_tasks_user_id_title_id", "tasks", ["user_id", "title", "id"])
    op.create_index("ix_tasks_user_id_due_id", "tasks", ["user_id", sa.text(DUE_SORT_KEY), "id"])
    op.create_index("ix_tasks_search", "tasks", ["search"], postgresql_using="gin")

    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response", postgresql.JSONB(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "key"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index("ix_tasks_search", table_name="tasks")
    op.drop_index("ix_tasks_user_id_due_id", table_name="tasks")
    op.drop_index("ix_tasks_user_id_title_id", table_name="tasks")
    op.drop_index("ix_tasks_user_id_updated_at_id", table_name="tasks")
    op.drop_constraint("ck_tasks_priority", "tasks")
    op.drop_column("tasks", "search")
    op.drop_column("tasks", "version")
    op.drop_column("tasks", "due_at")
    op.drop_column("tasks", "priority")
