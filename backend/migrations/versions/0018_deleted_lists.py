"""Deleted lists, listed and bounded: a page of a user's deleted lists, most recent first, reads an index; each with
the counts of the tasks that restoring it brings back, read from an index of the tasks deleted with their list
(which restoring the list reads too). Deleting a list beyond MAX_LISTS_PER_USER deleted ones destroys the oldest,
in the same transaction (taskapi/lists/handlers.py): a user's deleted lists are bounded like the trash.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_trashed_lists_user_id_deleted_at_id",
        "trashed_lists",
        ["user_id", sa.text("deleted_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "ix_trashed_tasks_with_list",
        "trashed_tasks",
        ["list_id"],
        postgresql_where=sa.text("deleted_with_list"),
    )


def downgrade() -> None:
    op.drop_index("ix_trashed_tasks_with_list", table_name="trashed_tasks")
    op.drop_index("ix_trashed_lists_user_id_deleted_at_id", table_name="trashed_lists")
