"""The change feed's positions: every write of a task (create, change, trash, restore) takes the next number of
its user's sequence, and a destroyed task leaves a marker with its last number until the feed forgets it.

The number comes from the user's counter row (`task_counts.change_seq`), updated by a trigger in the writing
transaction, which holds that row's lock until it commits or rolls back. So a user's writes take their numbers
one at a time, each after the previous one is committed or undone: numbers become visible in the order they
were taken, and a reader that has seen number n has seen every change numbered below it. (A database-wide
sequence would not do: concurrent transactions commit in another order than they drew, and a reader would
skip a number that becomes visible later.) Different users never wait for each other.

Each row bumps the counter, so one statement writing n rows of one user updates one row n times, which
costs O(n²) within a transaction (about 1 s for 8,000 rows here). The API writes at most a few rows per
transaction; bulk loads of one user (tests, benchmarks) set session_replication_role = replica.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NEXT_CHANGE = """
CREATE FUNCTION task_next_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_counts AS c (user_id, change_seq) VALUES (NEW.user_id, 1)
  ON CONFLICT (user_id) DO UPDATE SET change_seq = c.change_seq + 1
  RETURNING c.change_seq INTO NEW.change_seq;
  RETURN NEW;
END $$;

CREATE TRIGGER tasks_next_change BEFORE INSERT OR UPDATE ON tasks
  FOR EACH ROW EXECUTE FUNCTION task_next_change();
CREATE TRIGGER trashed_tasks_next_change BEFORE INSERT ON trashed_tasks
  FOR EACH ROW EXECUTE FUNCTION task_next_change();
"""
# Existing rows, numbered per user in the order they last changed.
BACKFILL = """
CREATE TEMPORARY TABLE numbered ON COMMIT DROP AS
SELECT id, user_id, row_number() OVER (PARTITION BY user_id ORDER BY changed_at, id) AS seq
FROM (SELECT id, user_id, updated_at AS changed_at FROM tasks
      UNION ALL SELECT id, user_id, deleted_at FROM trashed_tasks) AS every_task;
UPDATE tasks SET change_seq = numbered.seq FROM numbered WHERE tasks.id = numbered.id;
UPDATE trashed_tasks SET change_seq = numbered.seq FROM numbered WHERE trashed_tasks.id = numbered.id;
INSERT INTO task_counts AS c (user_id, change_seq) SELECT user_id, max(seq) FROM numbered GROUP BY user_id
ON CONFLICT (user_id) DO UPDATE SET change_seq = EXCLUDED.change_seq;
"""


def upgrade() -> None:
    op.execute("LOCK TABLE tasks, trashed_tasks IN SHARE MODE")
    for table in ("tasks", "trashed_tasks"):
        op.add_column(table, sa.Column("change_seq", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
    op.add_column("task_counts", sa.Column("change_seq", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
    # Every change up to this number has been forgotten (its destroyed-task marker swept): older positions are 410.
    op.add_column(
        "task_counts", sa.Column("forgotten_seq", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
    )
    op.create_table(
        "destroyed_tasks",
        sa.Column("user_id", sa.String(length=128), primary_key=True),
        sa.Column("change_seq", sa.BigInteger(), primary_key=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_destroyed_tasks_destroyed_at", "destroyed_tasks", ["destroyed_at"])
    op.execute(BACKFILL)
    op.execute(NEXT_CHANGE)
    # "What changed after n", for live and trashed tasks alike (destroyed ones: their primary key).
    op.create_index("ix_tasks_user_id_change_seq", "tasks", ["user_id", "change_seq"])
    op.create_index("ix_trashed_tasks_user_id_change_seq", "trashed_tasks", ["user_id", "change_seq"])


def downgrade() -> None:
    op.drop_index("ix_trashed_tasks_user_id_change_seq", table_name="trashed_tasks")
    op.drop_index("ix_tasks_user_id_change_seq", table_name="tasks")
    op.execute("DROP TRIGGER trashed_tasks_next_change ON trashed_tasks")
    op.execute("DROP TRIGGER tasks_next_change ON tasks")
    op.execute("DROP FUNCTION task_next_change()")
    op.drop_table("destroyed_tasks")
    op.drop_column("task_counts", "forgotten_seq")
    op.drop_column("task_counts", "change_seq")
    for table in ("trashed_tasks", "tasks"):
        op.drop_column(table, "change_seq")
