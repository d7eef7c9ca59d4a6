"""Live events: each numbered change is also announced on the `task_changes` channel (LISTEN/NOTIFY), from inside
the writing transaction, so Postgres delivers it only if, and when, that transaction commits. Every worker of
every replica listens (taskapi/sync/hub.py) and tells its open event streams.

The payload is small and never carries task contents: the user, the change number, the task's id and the op.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NEXT_CHANGE_ANNOUNCED = """
CREATE OR REPLACE FUNCTION task_next_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_counts AS c (user_id, change_seq) VALUES (NEW.user_id, 1)
  ON CONFLICT (user_id) DO UPDATE SET change_seq = c.change_seq + 1
  RETURNING c.change_seq INTO NEW.change_seq;
  PERFORM pg_notify('task_changes', json_build_object(
    'user_id', NEW.user_id, 'seq', NEW.change_seq, 'id', NEW.id,
    'op', CASE TG_TABLE_NAME WHEN 'tasks' THEN 'upsert' ELSE 'delete' END)::text);
  RETURN NEW;
END $$;
"""
# As 0008 left it.
NEXT_CHANGE = """
CREATE OR REPLACE FUNCTION task_next_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_counts AS c (user_id, change_seq) VALUES (NEW.user_id, 1)
  ON CONFLICT (user_id) DO UPDATE SET change_seq = c.change_seq + 1
  RETURNING c.change_seq INTO NEW.change_seq;
  RETURN NEW;
END $$;
"""


def upgrade() -> None:
    op.execute(NEXT_CHANGE_ANNOUNCED)


def downgrade() -> None:
    op.execute(NEXT_CHANGE)
