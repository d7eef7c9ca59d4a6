"""Each user's number of trashed tasks, so that the sweep reads only the users whose trash is over the limit
(it used to number every row of `trashed_tasks` on every run, which outgrew statement_timeout), and the trash
limit the sweep last applied, so that lowering MAX_TASKS_PER_USER destroys nothing before its time unless the
operator asks (`make purge APPLY_LOWER_TRASH_LIMIT=1`).

The counts live in a table of their own, not in `task_counts`: a restore locks the user's `task_counts` row and
then the trashed task, while destroying or sweeping locks trashed tasks first; counting in `task_counts` would
let the two wait on each other. Statement-level triggers keep them, one update per user per statement.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COUNT_TRASHED = """
CREATE FUNCTION trash_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO trash_counts AS c (user_id, trashed)
  SELECT user_id, count(*) FROM inserted GROUP BY user_id ORDER BY user_id
  ON CONFLICT (user_id) DO UPDATE SET trashed = c.trashed + EXCLUDED.trashed;
  RETURN NULL;
END $$;
CREATE FUNCTION trash_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE trash_counts AS c SET trashed = c.trashed - d.n
  FROM (SELECT user_id, count(*) AS n FROM deleted GROUP BY user_id) AS d
  WHERE c.user_id = d.user_id;
  RETURN NULL;
END $$;
CREATE TRIGGER trashed_tasks_counted_in AFTER INSERT ON trashed_tasks
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION trash_counts_inserted();
CREATE TRIGGER trashed_tasks_counted_out AFTER DELETE ON trashed_tasks
  REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION trash_counts_deleted();
"""


def upgrade() -> None:
    op.create_table(
        "trash_counts",
        sa.Column("user_id", sa.Text(), primary_key=True),
        sa.Column("trashed", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    # The sweep asks for the users over a limit: a range of this index, however many users there are.
    op.create_index("ix_trash_counts_trashed", "trash_counts", ["trashed"])
    op.add_column("maintenance_runs", sa.Column("trash_limit", sa.BigInteger(), nullable=True))
    # Triggers, then the backfill, in this one transaction with the trash locked: no move falls between the two.
    op.execute("LOCK TABLE trashed_tasks IN SHARE MODE")
    op.execute(COUNT_TRASHED)
    op.execute(
        "INSERT INTO trash_counts (user_id, trashed) SELECT user_id, count(*) FROM trashed_tasks GROUP BY user_id"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER trashed_tasks_counted_out ON trashed_tasks")
    op.execute("DROP TRIGGER trashed_tasks_counted_in ON trashed_tasks")
    op.execute("DROP FUNCTION trash_counts_deleted()")
    op.execute("DROP FUNCTION trash_counts_inserted()")
    op.drop_column("maintenance_runs", "trash_limit")
    op.drop_table("trash_counts")
