"""Tags, reminders, recurring tasks, and the completed-task counter the summary reads.

Every existing row is kept: the new columns are nullable or default to an empty tag list.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Must be the very expressions the list query uses (taskapi/tasks/models.py), or the indexes cannot serve it.
# Tasks without a reminder come last in both directions: a high stand-in ascending, a low one descending.
REMIND_SORT_KEY = "COALESCE(remind_at, '9999-12-31 00:00:00+00'::timestamptz)"
REMIND_DESC_SORT_KEY = "COALESCE(remind_at, '0001-01-01 00:00:00+00'::timestamptz)"
TAG_KEYS = "task_tag_keys(user_id, tags)"

# A tag index keyed by user: "alice/work" never meets "bob/work", so a tag filter costs what the user's own
# tagged tasks cost, however many other users share the tag. User ids hold no "/", so the prefix is unambiguous.
# A plain expression, not a subquery, so Postgres inlines it: maintaining the index stays cheap. Tags hold no
# control characters, so U+001F can join them.
CREATE_TAG_KEYS = """
CREATE FUNCTION task_tag_keys(owner text, tags text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN CASE WHEN cardinality(tags) = 0 THEN '{}'::text[]
            ELSE string_to_array(owner || '/' || array_to_string(tags, chr(31) || owner || '/'), chr(31)) END
"""

# The summary's `completed` count, kept up to date by the database itself, so that the summary never counts
# a user's completed history. Inserts and deletes are counted per statement (bulk loads stay linear); an
# update only when it flips `completed`.
CREATE_COUNTERS = """
CREATE FUNCTION task_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_counts AS c (user_id, completed)
  SELECT user_id, count(*) FROM inserted WHERE completed GROUP BY user_id
  ON CONFLICT (user_id) DO UPDATE SET completed = c.completed + EXCLUDED.completed;
  RETURN NULL;
END $$;

CREATE FUNCTION task_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE task_counts AS c SET completed = c.completed - d.n
  FROM (SELECT user_id, count(*) AS n FROM deleted WHERE completed GROUP BY user_id) AS d
  WHERE c.user_id = d.user_id;
  RETURN NULL;
END $$;

CREATE FUNCTION task_counts_flipped() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_counts AS c (user_id, completed)
  VALUES (NEW.user_id, CASE WHEN NEW.completed THEN 1 ELSE -1 END)
  ON CONFLICT (user_id) DO UPDATE SET completed = c.completed + EXCLUDED.completed;
  RETURN NULL;
END $$;

CREATE TRIGGER tasks_count_inserted AFTER INSERT ON tasks
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION task_counts_inserted();
CREATE TRIGGER tasks_count_deleted AFTER DELETE ON tasks
  REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION task_counts_deleted();
CREATE TRIGGER tasks_count_flipped AFTER UPDATE OF completed ON tasks
  FOR EACH ROW WHEN (OLD.completed IS DISTINCT FROM NEW.completed) EXECUTE FUNCTION task_counts_flipped();
"""


def upgrade() -> None:
    op.add_column(
        "tasks",
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    )
    op.add_column("tasks", sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tasks", sa.Column("recurrence", postgresql.JSONB(), nullable=True))
    op.add_column("tasks", sa.Column("series_start", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tasks", sa.Column("next_occurrence_id", sa.Uuid(), nullable=True))
    op.create_check_constraint("ck_tasks_tags_count", "tasks", "cardinality(tags) <= 20")
    op.create_check_constraint(
        "ck_tasks_recurrence_due", "tasks", "recurrence IS NULL OR (due_at IS NOT NULL AND series_start IS NOT NULL)"
    )

    op.execute(CREATE_TAG_KEYS)
    op.create_index("ix_tasks_tag_keys", "tasks", [sa.text(TAG_KEYS)], postgresql_using="gin")
    op.create_index("ix_tasks_user_id_remind_id", "tasks", ["user_id", sa.text(REMIND_SORT_KEY), "id"])
    op.create_index("ix_tasks_user_id_remind_desc_id", "tasks", ["user_id", sa.text(REMIND_DESC_SORT_KEY), "id"])
    # The summary reads open tasks only: an index-only scan over them, however long the completed history.
    op.create_index(
        "ix_tasks_open_user_id_priority_due",
        "tasks",
        ["user_id", "priority", "due_at"],
        postgresql_where=sa.text("NOT completed"),
    )

    op.create_table(
        "task_counts",
        sa.Column("user_id", sa.String(length=128), primary_key=True),
        sa.Column("completed", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    # Triggers first, then the backfill, in this one transaction: the triggers' lock on `tasks` holds writers
    # back until commit, so no change falls between the two.
    op.execute(CREATE_COUNTERS)
    op.execute(
        "INSERT INTO task_counts (user_id, completed) SELECT user_id, count(*) FROM tasks WHERE completed "
        "GROUP BY user_id"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER tasks_count_flipped ON tasks")
    op.execute("DROP TRIGGER tasks_count_deleted ON tasks")
    op.execute("DROP TRIGGER tasks_count_inserted ON tasks")
    op.execute("DROP FUNCTION task_counts_flipped(), task_counts_deleted(), task_counts_inserted()")
    op.drop_table("task_counts")
    op.drop_index("ix_tasks_open_user_id_priority_due", table_name="tasks")
    op.drop_index("ix_tasks_user_id_remind_desc_id", table_name="tasks")
    op.drop_index("ix_tasks_user_id_remind_id", table_name="tasks")
    op.drop_index("ix_tasks_tag_keys", table_name="tasks")
    op.execute("DROP FUNCTION task_tag_keys(text, text[])")
    op.drop_constraint("ck_tasks_recurrence_due", "tasks")
    op.drop_constraint("ck_tasks_tags_count", "tasks")
    for column in ("next_occurrence_id", "series_start", "recurrence", "remind_at", "tags"):
        op.drop_column("tasks", column)
