"""Each user's number of live tasks, kept by the same triggers as the completed count, for MAX_TASKS_PER_USER.

A create checks it under a lock on the user's counter row (taskapi/tasks/handlers.py), so concurrent creates at the
limit are serialised per user and never exceed it; other users are not held back.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COUNT_INSERTS = """
CREATE OR REPLACE FUNCTION task_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_counts AS c (user_id, completed, live)
  SELECT user_id, count(*) FILTER (WHERE completed), count(*) FROM inserted GROUP BY user_id
  ON CONFLICT (user_id) DO UPDATE SET completed = c.completed + EXCLUDED.completed, live = c.live + EXCLUDED.live;
  RETURN NULL;
END $$;
"""
COUNT_DELETES = """
CREATE OR REPLACE FUNCTION task_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE task_counts AS c SET completed = c.completed - d.completed, live = c.live - d.live
  FROM (SELECT user_id, count(*) FILTER (WHERE completed) AS completed, count(*) AS live FROM deleted GROUP BY user_id)
    AS d
  WHERE c.user_id = d.user_id;
  RETURN NULL;
END $$;
"""
# As 0004 left them.
COUNT_INSERTS_0004 = """
CREATE OR REPLACE FUNCTION task_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_counts AS c (user_id, completed)
  SELECT user_id, count(*) FROM inserted WHERE completed GROUP BY user_id
  ON CONFLICT (user_id) DO UPDATE SET completed = c.completed + EXCLUDED.completed;
  RETURN NULL;
END $$;
"""
COUNT_DELETES_0004 = """
CREATE OR REPLACE FUNCTION task_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE task_counts AS c SET completed = c.completed - d.n
  FROM (SELECT user_id, count(*) AS n FROM deleted WHERE completed GROUP BY user_id) AS d
  WHERE c.user_id = d.user_id;
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.add_column("task_counts", sa.Column("live", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
    # Functions first, then the backfill, in this one transaction, as in 0004: no change falls between the two.
    op.execute("LOCK TABLE tasks IN SHARE MODE")
    op.execute(COUNT_INSERTS)
    op.execute(COUNT_DELETES)
    op.execute(
        "INSERT INTO task_counts AS c (user_id, live) SELECT user_id, count(*) FROM tasks GROUP BY user_id "
        "ON CONFLICT (user_id) DO UPDATE SET live = EXCLUDED.live"
    )


def downgrade() -> None:
    op.execute(COUNT_DELETES_0004)
    op.execute(COUNT_INSERTS_0004)
    op.drop_column("task_counts", "live")
