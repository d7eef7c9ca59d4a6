"""Lists and manual order: a user's named lists (`task_lists`), each task in one of them or in the Inbox
(`list_id` NULL), and every task and list at a `position` among its siblings.

Positions are fractional keys (taskapi/lists/positions.py): strings compared byte-wise (COLLATE "C", whatever
the database's collation), between any two of which another can be made, so a move rewrites one row. Two
siblings never share one: a unique constraint says so, deferrable so that a rebalance, which rewrites a whole
list's keys in one statement, is checked once the statement is done.

A task's list must be its own user's: the foreign key is on (user_id, list_id). Each list's `open` and `total`
come from a trigger on tasks, so listing lists never counts rows. List rows take numbers in the user's change
feed as tasks do (the same trigger, which now tells listeners the kind that changed).

Deleting a list moves it to `trashed_lists` and its tasks to the trash, marked `deleted_with_list`, so that
restoring the list brings back exactly those.

Existing rows keep everything: every task is in its user's Inbox, newest first, as the default order shows.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The same scheme as the fractional-indexing library (taskapi/lists/positions.py): a head letter telling the
# integer part's length ('a': one digit, 'b': two, …; 'Z', 'Y', …: the negative integers), base-62 digits.
POSITION_FUNCTIONS = r"""
CREATE FUNCTION position_before(b text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  digits constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  head text;
  body text;
  width int;
  d int;
BEGIN
  -- The key that sorts first before `b` (NULL: an empty list), as generate_key_between(None, b) makes it.
  IF b IS NULL THEN
    RETURN 'a0';
  END IF;
  head := substr(b, 1, 1);
  width := CASE WHEN ascii(head) >= 97 THEN ascii(head) - 97 + 2 ELSE 90 - ascii(head) + 2 END;
  IF length(b) > width THEN
    RETURN substr(b, 1, width);  -- `b` has a fraction: its integer part alone sorts before it
  END IF;
  IF b = 'A' || repeat('0', 26) THEN
    RAISE EXCEPTION 'no position before %', b;
  END IF;
  body := substr(b, 2);
  FOR i IN REVERSE length(body)..1 LOOP
    d := strpos(digits, substr(body, i, 1)) - 1;
    IF d > 0 THEN
      RETURN head || overlay(body PLACING substr(digits, d, 1) FROM i FOR 1);
    END IF;
    body := overlay(body PLACING 'z' FROM i FOR 1);
  END LOOP;
  IF head = 'a' THEN
    RETURN 'Zz';
  END IF;
  head := chr(ascii(head) - 1);
  IF ascii(head) < 90 THEN
    RETURN head || body || 'z';
  END IF;
  RETURN head || substr(body, 2);
END $$;

CREATE FUNCTION position_key(n bigint) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  digits constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  width int := 1;
  span numeric := 62;
  v numeric := n;
  body text := '';
BEGIN
  -- The n-th key (from 0) of generate_n_keys_between(None, None, …): 'a0' … 'az', 'b00' … 'bzz', 'c000' …
  WHILE v >= span LOOP
    v := v - span;
    width := width + 1;
    span := span * 62;
  END LOOP;
  FOR i IN 1..width LOOP
    body := substr(digits, (mod(v, 62))::int + 1, 1) || body;
    v := div(v, 62);
  END LOOP;
  RETURN chr(97 + width - 1) || body;
END $$;
"""

COUNTED_IN_LISTS = """
CREATE FUNCTION task_lists_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.list_id IS NOT NULL THEN
    UPDATE task_lists SET total = total - 1, open = open - (NOT OLD.completed)::int WHERE id = OLD.list_id;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.list_id IS NOT NULL THEN
    UPDATE task_lists SET total = total + 1, open = open + (NOT NEW.completed)::int WHERE id = NEW.list_id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER tasks_counted_in_lists AFTER INSERT OR DELETE OR UPDATE OF list_id, completed ON tasks
  FOR EACH ROW EXECUTE FUNCTION task_lists_counted();
"""


def _next_change(kinds: bool) -> str:
    """The change-number trigger of migration 0010, telling listeners the kind (task or list) when `kinds`."""
    kind = ", 'kind', CASE WHEN TG_TABLE_NAME LIKE '%lists' THEN 'list' ELSE 'task' END" if kinds else ""
    upsert = "('tasks', 'task_lists')" if kinds else "('tasks')"
    return f"""
CREATE OR REPLACE FUNCTION task_next_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_counts AS c (user_id, change_seq) VALUES (NEW.user_id, 1)
  ON CONFLICT (user_id) DO UPDATE SET change_seq = c.change_seq + 1
  RETURNING c.change_seq INTO NEW.change_seq;
  IF EXISTS (SELECT 1 FROM event_listeners WHERE user_id = NEW.user_id AND until > now()) THEN
    PERFORM pg_notify('task_changes', json_build_object(
      'user_id', NEW.user_id, 'seq', NEW.change_seq, 'id', NEW.id,
      'op', CASE WHEN TG_TABLE_NAME IN {upsert} THEN 'upsert' ELSE 'delete' END{kind})::text);
  END IF;
  RETURN NEW;
END $$;
"""


def _list_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Uuid(), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=True),
        sa.Column("position", sa.Text(collation="C"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def upgrade() -> None:
    op.execute(POSITION_FUNCTIONS)
    op.create_table(
        "task_lists",
        *_list_columns(),
        sa.Column("open", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("total", sa.Integer(), server_default=sa.text("0"), nullable=False),
        # The target of the tasks' (user_id, list_id) foreign key: a task's list is its own user's.
        sa.UniqueConstraint("user_id", "id", name="uq_task_lists_user_id_id"),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 100", name="ck_task_lists_name_length"),
        sa.CheckConstraint("color ~ '^#[0-9a-f]{6}$'", name="ck_task_lists_color"),
    )
    op.execute("CREATE UNIQUE INDEX uq_task_lists_user_id_name ON task_lists (user_id, lower(name))")
    op.execute(
        "ALTER TABLE task_lists ADD CONSTRAINT uq_task_lists_position UNIQUE (user_id, position) "
        "DEFERRABLE INITIALLY IMMEDIATE"
    )
    op.create_index("ix_task_lists_user_id_change_seq", "task_lists", ["user_id", "change_seq"])
    op.create_table(
        "trashed_lists",
        *_list_columns(),
        sa.Column("deleted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_trashed_lists_user_id_change_seq", "trashed_lists", ["user_id", "change_seq"])
    op.create_index("ix_trashed_lists_deleted_at", "trashed_lists", ["deleted_at"])

    op.execute("LOCK TABLE tasks, trashed_tasks IN SHARE MODE")
    for table in ("tasks", "trashed_tasks"):
        op.add_column(table, sa.Column("list_id", sa.Uuid(), nullable=True))
        op.add_column(table, sa.Column("position", sa.Text(collation="C"), nullable=True))
    op.add_column(
        "trashed_tasks",
        sa.Column("deleted_with_list", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("destroyed_tasks", sa.Column("kind", sa.Text(), server_default="task", nullable=False))
    # Every existing task in its user's Inbox, in the default order (newest first); trashed ones likewise, so
    # that a restore finds a place. Not a change in the feed (no client held positions before), and numbering
    # every row of a user in one statement would cost O(n²) (migration 0008): the trigger sits this one out.
    op.execute("ALTER TABLE tasks DISABLE TRIGGER tasks_next_change")
    for table in ("tasks", "trashed_tasks"):
        op.execute(f"""
            UPDATE {table} SET position = numbered.position FROM (
              SELECT id, position_key(row_number() OVER (PARTITION BY user_id ORDER BY created_at DESC, id DESC) - 1)
                     AS position
              FROM {table}) AS numbered
            WHERE {table}.id = numbered.id
        """)
        op.alter_column(table, "position", nullable=False)
    op.execute("ALTER TABLE tasks ENABLE TRIGGER tasks_next_change")
    # Rows inserted without a position (bulk loads with SQL, not the API) still get a valid key of their own:
    # the API's keys are made between or before existing ones, never equal to one.
    op.execute("CREATE SEQUENCE task_positions")
    for table in ("tasks", "trashed_tasks"):
        op.execute(f"ALTER TABLE {table} ALTER COLUMN position SET DEFAULT position_key(nextval('task_positions'))")
    op.create_foreign_key(
        "fk_tasks_list", "tasks", "task_lists", ["user_id", "list_id"], ["user_id", "id"], initially="IMMEDIATE"
    )
    op.execute(
        "ALTER TABLE tasks ADD CONSTRAINT uq_tasks_position UNIQUE NULLS NOT DISTINCT (user_id, list_id, position) "
        "DEFERRABLE INITIALLY IMMEDIATE"
    )
    # `sort=position` without a list: every list's tasks, by position, ties broken by id.
    op.create_index("ix_tasks_user_id_position_id", "tasks", ["user_id", "position", "id"])
    op.execute(COUNTED_IN_LISTS)
    op.execute(_next_change(kinds=True))
    op.execute("""
        CREATE TRIGGER task_lists_next_change BEFORE INSERT OR UPDATE OF name, color, position ON task_lists
          FOR EACH ROW EXECUTE FUNCTION task_next_change();
        CREATE TRIGGER trashed_lists_next_change BEFORE INSERT ON trashed_lists
          FOR EACH ROW EXECUTE FUNCTION task_next_change();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER trashed_lists_next_change ON trashed_lists")
    op.execute("DROP TRIGGER task_lists_next_change ON task_lists")
    op.execute(_next_change(kinds=False))
    op.execute("DROP TRIGGER tasks_counted_in_lists ON tasks")
    op.execute("DROP FUNCTION task_lists_counted()")
    op.drop_index("ix_tasks_user_id_position_id", table_name="tasks")
    op.drop_constraint("uq_tasks_position", "tasks")
    op.drop_constraint("fk_tasks_list", "tasks")
    for table in ("tasks", "trashed_tasks"):
        op.execute(f"ALTER TABLE {table} ALTER COLUMN position DROP DEFAULT")
    op.execute("DROP SEQUENCE task_positions")
    op.drop_column("destroyed_tasks", "kind")
    op.drop_column("trashed_tasks", "deleted_with_list")
    for table in ("trashed_tasks", "tasks"):
        op.drop_column(table, "position")
        op.drop_column(table, "list_id")
    op.drop_table("trashed_lists")
    op.drop_table("task_lists")
    op.execute("DROP FUNCTION position_key(bigint)")
    op.execute("DROP FUNCTION position_before(text)")
