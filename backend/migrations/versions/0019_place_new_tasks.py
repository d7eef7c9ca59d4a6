"""A new task's place is found by the database after the user's counter row is locked, so that one user's
concurrent creates never compute the same place.

A create is one statement: INSERT … SELECT, whose quota check locks the user's counter row (migration 0005). The
place it computed from the top of the list came from the statement's snapshot, taken before it waited for that
lock: when the user's previous create committed meanwhile, both had computed the same key, the unique key on
positions refused the second, and it ran again as a transaction (one user's 64 concurrent creates ran at a third
of the rate of 64 users'). A create now inserts its position as NULL, and this BEFORE INSERT trigger, which runs
once the lock is held, reads the top of the list anew (each statement of a PL/pgSQL function reads a fresh snapshot
in READ COMMITTED): what the previous create committed is there. Subtasks' places are still computed by the
service under the lock (taskapi/tasks/subtasks.py), and are never NULL.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

PLACE_NEW = """
CREATE FUNCTION task_place_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.list_id IS NULL THEN
    NEW.position := position_before((SELECT position FROM tasks WHERE user_id = NEW.user_id AND list_id IS NULL
                                     AND parent_id IS NULL ORDER BY position LIMIT 1));
  ELSE
    NEW.position := position_before((SELECT position FROM tasks WHERE user_id = NEW.user_id
                                     AND list_id = NEW.list_id AND parent_id IS NULL ORDER BY position LIMIT 1));
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER tasks_place_new BEFORE INSERT ON tasks
  FOR EACH ROW WHEN (NEW.position IS NULL AND NEW.parent_id IS NULL) EXECUTE FUNCTION task_place_new();
"""


def upgrade() -> None:
    op.execute(PLACE_NEW)


def downgrade() -> None:
    op.execute("DROP TRIGGER tasks_place_new ON tasks")
    op.execute("DROP FUNCTION task_place_new()")
