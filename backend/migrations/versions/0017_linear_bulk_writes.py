"""One statement that writes n rows of one user (a list deleted or restored with its tasks, a rebalance) costs O(n),
not O(n²).

Each row took its change number by updating the user's counter row (migration 0008), and each row moved into or
out of a list updated that list's counts: n updates of one row in one transaction, each leaving a version the next
must pass over (about 1 s for a 10,000-task list here).

- Change numbers: a transaction keeps the numbers it reserved for a user in a setting local to it
  (`taskapi.change_numbers`: "user next last size"), and reserves more only when they run out, as many again as
  last time (1, 2, 4, … up to 1,024): n rows update the counter row about log2(n) times. Numbers stay increasing
  per user and are taken under the counter row's lock, as before; the few a transaction reserved and did not use
  are skipped (a position is "everything numbered above n": gaps lose nothing). The setting goes with the
  transaction (and with a savepoint rolled back, as the counter's update does).
- List counts: rows inserted or deleted are counted once per statement, from its transition table (as the task
  counts of migration 0004 are); a row that changes its list or its completion is counted as it changes.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# One number a row, each taken by updating the counter row (migrations 0008 to 0015).
_ONE_BY_ONE = """
  INSERT INTO task_counts AS c (user_id, change_seq) VALUES (NEW.user_id, 1)
  ON CONFLICT (user_id) DO UPDATE SET change_seq = c.change_seq + 1
  RETURNING c.change_seq INTO NEW.change_seq;"""
# Numbers reserved in blocks that double, kept for the transaction in `taskapi.change_numbers`.
_IN_BLOCKS = """
  IF held <> '' AND split_part(held, ' ', 1) = NEW.user_id THEN
    next_number := split_part(held, ' ', 2)::bigint;
    last_number := split_part(held, ' ', 3)::bigint;
    size := split_part(held, ' ', 4)::bigint;
  END IF;
  IF next_number IS NULL OR next_number > last_number THEN
    IF next_number IS NOT NULL THEN
      size := least(size * 2, 1024);
    END IF;
    INSERT INTO task_counts AS c (user_id, change_seq) VALUES (NEW.user_id, size)
    ON CONFLICT (user_id) DO UPDATE SET change_seq = c.change_seq + size
    RETURNING c.change_seq - size + 1, c.change_seq INTO next_number, last_number;
  END IF;
  NEW.change_seq := next_number;
  PERFORM set_config('taskapi.change_numbers',
                    concat_ws(' ', NEW.user_id, next_number + 1, last_number, size), true);"""


def _next_change(numbering: str) -> str:
    """The change-number trigger; its announcement is migration 0015's."""
    return f"""
CREATE OR REPLACE FUNCTION task_next_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  remind timestamptz;
  held text := current_setting('taskapi.change_numbers', true);
  next_number bigint;
  last_number bigint;
  size bigint := 1;
BEGIN{numbering}
  IF EXISTS (SELECT 1 FROM event_listeners WHERE user_id = NEW.user_id AND until > now()) THEN
    IF TG_TABLE_NAME = 'tasks' THEN
      IF NEW.remind_at IS NOT NULL AND NEW.reminded_at IS NULL AND NOT NEW.completed THEN
        remind := NEW.remind_at;
      END IF;
    END IF;
    PERFORM pg_notify('task_changes', json_strip_nulls(json_build_object(
      'user_id', NEW.user_id, 'seq', NEW.change_seq, 'id', NEW.id,
      'op', CASE WHEN TG_TABLE_NAME IN ('tasks', 'task_lists') THEN 'upsert' ELSE 'delete' END,
      'kind', CASE WHEN TG_TABLE_NAME LIKE '%lists' THEN 'list' ELSE 'task' END,
      'remind_at', remind))::text);
  END IF;
  RETURN NEW;
END $$;
"""


LIST_COUNTS = """
CREATE FUNCTION task_lists_counted_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE task_lists AS l SET total = l.total + n.total, open = l.open + n.open
  FROM (SELECT list_id, count(*) AS total, count(*) FILTER (WHERE NOT completed) AS open
        FROM inserted WHERE list_id IS NOT NULL GROUP BY list_id) AS n
  WHERE l.id = n.list_id;
  RETURN NULL;
END $$;
CREATE FUNCTION task_lists_counted_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE task_lists AS l SET total = l.total - n.total, open = l.open - n.open
  FROM (SELECT list_id, count(*) AS total, count(*) FILTER (WHERE NOT completed) AS open
        FROM deleted WHERE list_id IS NOT NULL GROUP BY list_id) AS n
  WHERE l.id = n.list_id;
  RETURN NULL;
END $$;
DROP TRIGGER tasks_counted_in_lists ON tasks;
CREATE TRIGGER tasks_counted_in_lists AFTER UPDATE OF list_id, completed ON tasks
  FOR EACH ROW EXECUTE FUNCTION task_lists_counted();
CREATE TRIGGER tasks_counted_into_lists AFTER INSERT ON tasks
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION task_lists_counted_in();
CREATE TRIGGER tasks_counted_out_of_lists AFTER DELETE ON tasks
  REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION task_lists_counted_out();
"""

PREVIOUS_LIST_COUNTS = """
DROP TRIGGER tasks_counted_out_of_lists ON tasks;
DROP TRIGGER tasks_counted_into_lists ON tasks;
DROP TRIGGER tasks_counted_in_lists ON tasks;
DROP FUNCTION task_lists_counted_out();
DROP FUNCTION task_lists_counted_in();
CREATE TRIGGER tasks_counted_in_lists AFTER INSERT OR DELETE OR UPDATE OF list_id, completed ON tasks
  FOR EACH ROW EXECUTE FUNCTION task_lists_counted();
"""


def upgrade() -> None:
    op.execute(_next_change(_IN_BLOCKS))
    op.execute(LIST_COUNTS)


def downgrade() -> None:
    op.execute(PREVIOUS_LIST_COUNTS)
    op.execute(_next_change(_ONE_BY_ONE))
