"""Reminders the service delivers: a task's reminder fires once when `remind_at` passes (taskapi/sync/reminders.py),
and the task records it in `reminded_at`.

- A reminder is pending while the task is open, has a `remind_at` and no `reminded_at`; a partial index holds the
  pending ones in `remind_at` order, so that finding the next one reads one index entry, whatever the table's size.
- Changing `remind_at` (a snooze) re-arms it: the trigger `tasks_rearm_reminder` clears `reminded_at`.
- A change's announcement (migration 0012's trigger) now carries a task's pending `remind_at`, so that every
  worker listening learns of an earlier reminder made by another worker or replica.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

PENDING = "remind_at IS NOT NULL AND reminded_at IS NULL AND NOT completed"

REARM = """
CREATE FUNCTION task_rearm_reminder() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.reminded_at := NULL;
  RETURN NEW;
END $$;
CREATE TRIGGER tasks_rearm_reminder BEFORE UPDATE OF remind_at ON tasks
  FOR EACH ROW WHEN (OLD.remind_at IS DISTINCT FROM NEW.remind_at) EXECUTE FUNCTION task_rearm_reminder();
"""


def _next_change(reminders: bool) -> str:
    """The change-number trigger (migrations 0008, 0010, 0012); with `reminders`, a task's announcement carries its
    pending reminder. A record's fields are read in a branch of its own table only: the function serves four."""
    remind = ""
    if reminders:
        remind = """
  IF TG_TABLE_NAME = 'tasks' THEN
    IF NEW.remind_at IS NOT NULL AND NEW.reminded_at IS NULL AND NOT NEW.completed THEN
      remind := NEW.remind_at;
    END IF;
  END IF;"""
    return f"""
CREATE OR REPLACE FUNCTION task_next_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  remind timestamptz;
BEGIN
  INSERT INTO task_counts AS c (user_id, change_seq) VALUES (NEW.user_id, 1)
  ON CONFLICT (user_id) DO UPDATE SET change_seq = c.change_seq + 1
  RETURNING c.change_seq INTO NEW.change_seq;
  IF EXISTS (SELECT 1 FROM event_listeners WHERE user_id = NEW.user_id AND until > now()) THEN{remind}
    PERFORM pg_notify('task_changes', json_strip_nulls(json_build_object(
      'user_id', NEW.user_id, 'seq', NEW.change_seq, 'id', NEW.id,
      'op', CASE WHEN TG_TABLE_NAME IN ('tasks', 'task_lists') THEN 'upsert' ELSE 'delete' END,
      'kind', CASE WHEN TG_TABLE_NAME LIKE '%lists' THEN 'list' ELSE 'task' END,
      'remind_at', remind))::text);
  END IF;
  RETURN NEW;
END $$;
"""


def upgrade() -> None:
    for table in ("tasks", "trashed_tasks"):
        op.add_column(table, sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
    # Reminders already past are not sent late on the day this ships: they count as delivered.
    op.execute("ALTER TABLE tasks DISABLE TRIGGER tasks_next_change")
    op.execute(f"UPDATE tasks SET reminded_at = remind_at WHERE {PENDING} AND remind_at <= now()")
    op.execute("ALTER TABLE tasks ENABLE TRIGGER tasks_next_change")
    op.create_index("ix_tasks_pending_reminders", "tasks", ["remind_at"], postgresql_where=sa.text(PENDING))
    op.execute(REARM)
    op.execute(_next_change(reminders=True))


def downgrade() -> None:
    op.execute(_next_change(reminders=False))
    op.execute("DROP TRIGGER tasks_rearm_reminder ON tasks")
    op.execute("DROP FUNCTION task_rearm_reminder()")
    op.drop_index("ix_tasks_pending_reminders", table_name="tasks")
    for table in ("trashed_tasks", "tasks"):
        op.drop_column(table, "reminded_at")
