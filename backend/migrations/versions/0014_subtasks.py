"""Subtasks: a task's steps, one level deep. A subtask names its `parent_id`; it lives in its parent's list and
never recurs. The database keeps the rules, so that single requests, batches and restores obey the same ones:

- `task_subtask_rules` (BEFORE INSERT, or a change of list): the parent must be a live task of the same user
  (reported as the foreign key `fk_tasks_parent`, whatever the reason) and not a subtask itself
  (`ck_tasks_one_level`); a subtask takes its parent's list, and no other (`ck_tasks_subtask_list`).
- `task_subtasks_counted` (AFTER INSERT, DELETE or a change of `completed`): each parent's `subtasks_open` and
  `subtasks_total`, so that listing never counts rows; at most 100 (`ck_tasks_subtasks_max`). A parent's
  answer changes with them, so its version is bumped (and, by the change-number trigger, its place in the
  feed). A subtask reopened, or added open, reopens its completed parent: a done task has no open step.
  Completing a parent completes its open subtasks, in the same statement.
- `task_subtasks_follow` (AFTER a parent's change of list): its subtasks move with it.

Positions: a subtask has its place among its parent's subtasks, a top-level task among its list's top-level
tasks. The unique key on positions becomes (user_id, list_id, parent_id, position); listing a list by position
orders by (position, id), from indexes that end in id.

Deleting a parent moves its subtasks to the trash with it, marked `deleted_with_parent`, so that restoring the
parent brings back exactly those.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

SUBTASKS_MAX = 100

RULES = """
CREATE FUNCTION task_subtask_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  parent record;
BEGIN
  SELECT user_id, parent_id, list_id INTO parent FROM tasks WHERE id = NEW.parent_id;
  IF NOT FOUND OR parent.user_id <> NEW.user_id THEN
    RAISE EXCEPTION 'the parent task is not one of the user''s live tasks'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'fk_tasks_parent', TABLE = 'tasks';
  END IF;
  IF parent.parent_id IS NOT NULL THEN
    RAISE EXCEPTION 'a subtask cannot have subtasks'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_tasks_one_level', TABLE = 'tasks';
  END IF;
  IF TG_OP = 'INSERT' THEN
    NEW.list_id := parent.list_id;
  ELSIF NEW.list_id IS DISTINCT FROM parent.list_id THEN
    RAISE EXCEPTION 'a subtask is in its parent''s list'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_tasks_subtask_list', TABLE = 'tasks';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER tasks_subtask_rules BEFORE INSERT OR UPDATE OF parent_id, list_id ON tasks
  FOR EACH ROW WHEN (NEW.parent_id IS NOT NULL) EXECUTE FUNCTION task_subtask_rules();

CREATE FUNCTION task_subtasks_counted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  total_delta int := 0;
  open_delta int := 0;
  reopen boolean := false;
  parent uuid;
BEGIN
  IF TG_OP = 'DELETE' THEN
    parent := OLD.parent_id;
  ELSE
    parent := NEW.parent_id;
  END IF;
  IF TG_OP = 'INSERT' THEN
    total_delta := 1;
    open_delta := (NOT NEW.completed)::int;
    reopen := NOT NEW.completed;
  ELSIF TG_OP = 'DELETE' THEN
    total_delta := -1;
    open_delta := -(NOT OLD.completed)::int;
  ELSIF parent IS NULL THEN
    -- A parent completed: its open subtasks with it (each then counted here, as a subtask).
    IF NEW.completed AND NOT OLD.completed AND NEW.subtasks_open > 0 THEN
      UPDATE tasks SET completed = true, completed_at = now(), updated_at = now(), version = version + 1
      WHERE parent_id = NEW.id AND NOT completed;
    END IF;
    RETURN NULL;
  ELSE
    open_delta := (NOT NEW.completed)::int - (NOT OLD.completed)::int;
    reopen := OLD.completed AND NOT NEW.completed;
  END IF;
  IF total_delta = 0 AND open_delta = 0 THEN
    RETURN NULL;
  END IF;
  -- The parent deleted by the same statement is gone already: nothing to count, nothing to reopen.
  IF reopen THEN
    UPDATE tasks SET completed = false, completed_at = NULL, updated_at = now(), version = version + 1
    WHERE id = parent AND completed;
  END IF;
  UPDATE tasks SET
    subtasks_total = subtasks_total + total_delta,
    subtasks_open = subtasks_open + open_delta,
    version = version + 1
  WHERE id = parent;
  RETURN NULL;
END $$;
CREATE TRIGGER tasks_subtasks_counted_in AFTER INSERT ON tasks
  FOR EACH ROW WHEN (NEW.parent_id IS NOT NULL) EXECUTE FUNCTION task_subtasks_counted();
CREATE TRIGGER tasks_subtasks_counted_out AFTER DELETE ON tasks
  FOR EACH ROW WHEN (OLD.parent_id IS NOT NULL) EXECUTE FUNCTION task_subtasks_counted();
CREATE TRIGGER tasks_subtasks_counted AFTER UPDATE OF completed ON tasks
  FOR EACH ROW WHEN (OLD.completed IS DISTINCT FROM NEW.completed) EXECUTE FUNCTION task_subtasks_counted();

CREATE FUNCTION task_subtasks_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tasks SET list_id = NEW.list_id, updated_at = now(), version = version + 1 WHERE parent_id = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER tasks_subtasks_follow AFTER UPDATE OF list_id ON tasks
  FOR EACH ROW WHEN (NEW.subtasks_total > 0 AND OLD.list_id IS DISTINCT FROM NEW.list_id)
  EXECUTE FUNCTION task_subtasks_follow();
"""


def upgrade() -> None:
    op.execute("LOCK TABLE tasks, trashed_tasks IN SHARE MODE")
    for table in ("tasks", "trashed_tasks"):
        op.add_column(table, sa.Column("parent_id", sa.Uuid(), nullable=True))
        for name in ("subtasks_open", "subtasks_total"):
            op.add_column(table, sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.add_column(
        "trashed_tasks",
        sa.Column("deleted_with_parent", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    # Also the rule that a parent is never deleted from under its subtasks (a delete takes them along).
    op.create_foreign_key("fk_tasks_parent_row", "tasks", "tasks", ["parent_id"], ["id"])
    op.create_check_constraint("ck_tasks_subtask_recurrence", "tasks", "parent_id IS NULL OR recurrence IS NULL")
    op.create_check_constraint("ck_tasks_subtasks_max", "tasks", f"subtasks_total <= {SUBTASKS_MAX}")
    # A task's subtasks, in their order: listing them, and the foreign key's check when a task is deleted.
    op.create_index(
        "ix_tasks_parent_id_position",
        "tasks",
        ["parent_id", "position"],
        postgresql_where=sa.text("parent_id IS NOT NULL"),
    )
    # A trashed task's subtasks, coming back with it or destroyed with it.
    op.create_index(
        "ix_trashed_tasks_parent_id",
        "trashed_tasks",
        ["parent_id"],
        postgresql_where=sa.text("parent_id IS NOT NULL"),
    )
    op.drop_constraint("uq_tasks_position", "tasks")
    op.execute(
        "ALTER TABLE tasks ADD CONSTRAINT uq_tasks_position "
        "UNIQUE NULLS NOT DISTINCT (user_id, list_id, parent_id, position) DEFERRABLE INITIALLY IMMEDIATE"
    )
    op.create_index("ix_tasks_user_id_list_id_position_id", "tasks", ["user_id", "list_id", "position", "id"])
    op.drop_index("ix_tasks_open_position", table_name="tasks")
    op.create_index(
        "ix_tasks_open_position",
        "tasks",
        ["user_id", "list_id", "position", "id"],
        postgresql_where=sa.text("NOT completed"),
    )
    op.execute(RULES)


def downgrade() -> None:
    op.execute("DELETE FROM tasks WHERE parent_id IS NOT NULL")
    op.execute("DELETE FROM trashed_tasks WHERE parent_id IS NOT NULL")
    for trigger in (
        "tasks_subtasks_follow",
        "tasks_subtasks_counted",
        "tasks_subtasks_counted_out",
        "tasks_subtasks_counted_in",
        "tasks_subtask_rules",
    ):
        op.execute(f"DROP TRIGGER {trigger} ON tasks")
    for function in ("task_subtasks_follow", "task_subtasks_counted", "task_subtask_rules"):
        op.execute(f"DROP FUNCTION {function}()")
    op.drop_index("ix_tasks_open_position", table_name="tasks")
    op.create_index(
        "ix_tasks_open_position", "tasks", ["user_id", "list_id", "position"], postgresql_where=sa.text("NOT completed")
    )
    op.drop_index("ix_tasks_user_id_list_id_position_id", table_name="tasks")
    op.drop_constraint("uq_tasks_position", "tasks")
    op.execute(
        "ALTER TABLE tasks ADD CONSTRAINT uq_tasks_position UNIQUE NULLS NOT DISTINCT (user_id, list_id, position) "
        "DEFERRABLE INITIALLY IMMEDIATE"
    )
    op.drop_index("ix_trashed_tasks_parent_id", table_name="trashed_tasks")
    op.drop_index("ix_tasks_parent_id_position", table_name="tasks")
    op.drop_constraint("ck_tasks_subtasks_max", "tasks")
    op.drop_constraint("ck_tasks_subtask_recurrence", "tasks")
    op.drop_constraint("fk_tasks_parent_row", "tasks")
    op.drop_column("trashed_tasks", "deleted_with_parent")
    for table in ("trashed_tasks", "tasks"):
        for name in ("subtasks_total", "subtasks_open", "parent_id"):
            op.drop_column(table, name)
