"""The tasks' tables (the live tasks, each user's counters, the trash, what the feed remembers of destroyed tasks)
and the columns a task's answer reads."""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

TITLE_MAX = 200
DESCRIPTION_MAX = 1000
USER_ID_MAX = 128
# A task's subtasks at most (migration 0014: ck_tasks_subtasks_max).
SUBTASKS_MAX = 100
# A task's tags at most (ck_tasks_tags_count).
MAX_TAGS = 20
# Undated tasks sort after every dated one; the same expression is indexed (migration 0002).
DUE_NEVER = datetime(9999, 12, 31, tzinfo=UTC)
DUE_SORT_KEY = sa.literal_column(
    "COALESCE(due_at, '9999-12-31 00:00:00+00'::timestamptz)", type_=sa.DateTime(timezone=True)
)
SEARCH_DOCUMENT = "to_tsvector('simple'::regconfig, title || ' ' || COALESCE(description, ''))"
# Tasks without a reminder come last in `remind` and in `-remind` order, hence two keys (migration 0004).
REMIND_SORT_KEY = sa.literal_column(
    "COALESCE(remind_at, '9999-12-31 00:00:00+00'::timestamptz)", type_=sa.DateTime(timezone=True)
)
# Positions compare byte-wise, whatever the database's collation (taskapi/ordering/positions.py).
POSITION_TYPE = sa.Text(collation="C")
REMIND_DESC_SORT_KEY = sa.literal_column(
    "COALESCE(remind_at, '0001-01-01 00:00:00+00'::timestamptz)", type_=sa.DateTime(timezone=True)
)


class Task(SQLModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        # Serves "this user's tasks, newest first" as an index-only range scan.
        sa.Index("ix_tasks_user_id_created_at_id", "user_id", sa.text("created_at DESC"), sa.text("id DESC")),
        sa.CheckConstraint(f"char_length(title) BETWEEN 1 AND {TITLE_MAX}", name="ck_tasks_title_length"),
        sa.CheckConstraint(f"char_length(description) <= {DESCRIPTION_MAX}", name="ck_tasks_description_length"),
        sa.CheckConstraint("completed = (completed_at IS NOT NULL)", name="ck_tasks_completed_at"),
        sa.CheckConstraint("priority IN ('low', 'medium', 'high')", name="ck_tasks_priority"),
        sa.Index("ix_tasks_user_id_updated_at_id", "user_id", "updated_at", "id"),
        sa.Index("ix_tasks_user_id_title_id", "user_id", "title", "id"),
        sa.Index("ix_tasks_user_id_due_id", "user_id", DUE_SORT_KEY, "id"),
        sa.Index("ix_tasks_search", "search", postgresql_using="gin"),
        sa.Index("ix_tasks_user_id_remind_id", "user_id", REMIND_SORT_KEY, "id"),
        sa.Index("ix_tasks_user_id_remind_desc_id", "user_id", REMIND_DESC_SORT_KEY, "id"),
        sa.Index("ix_tasks_tag_keys", sa.text("task_tag_keys(user_id, tags)"), postgresql_using="gin"),
        sa.CheckConstraint(f"cardinality(tags) <= {MAX_TAGS}", name="ck_tasks_tags_count"),
        sa.CheckConstraint(
            "recurrence IS NULL OR (due_at IS NOT NULL AND series_start IS NOT NULL)", name="ck_tasks_recurrence_due"
        ),
        sa.Index("ix_tasks_user_id_change_seq", "user_id", "change_seq"),
    )

    id: uuid.UUID = Field(
        default_factory=uuid.uuid4,
        primary_key=True,
        sa_column_kwargs={"server_default": sa.text("gen_random_uuid()")},
    )
    user_id: str = Field(max_length=USER_ID_MAX, nullable=False)
    title: str = Field(max_length=TITLE_MAX, nullable=False)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    completed: bool = Field(default=False, nullable=False, sa_column_kwargs={"server_default": sa.false()})
    completed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    priority: str = Field(default="medium", max_length=6, sa_column_kwargs={"server_default": "medium"})
    due_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    tags: list[str] = Field(
        default_factory=list,
        sa_column=sa.Column(postgresql.ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'::text[]")),
    )
    remind_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    # When its reminder fired (taskapi/sync/reminders.py); cleared when `remind_at` changes (migration 0015).
    reminded_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    # The user's list it is in (taskapi/lists), null for the Inbox; its place among that list's tasks.
    list_id: uuid.UUID | None = Field(default=None)
    position: str = Field(sa_type=POSITION_TYPE, nullable=False)
    # The task this one is a step of (one level: migration 0014), null for a top-level task; a top-level task's
    # number of subtasks, and of open ones, kept by triggers.
    parent_id: uuid.UUID | None = Field(default=None)
    subtasks_open: int = Field(default=0, nullable=False, sa_column_kwargs={"server_default": sa.text("0")})
    subtasks_total: int = Field(default=0, nullable=False, sa_column_kwargs={"server_default": sa.text("0")})
    # {"rule": RRULE, "timezone": IANA zone}; the series' first occurrence is `series_start`.
    recurrence: dict | None = Field(default=None, sa_column=sa.Column(postgresql.JSONB(none_as_null=True)))
    series_start: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    # Set once, when completing a recurring task creates its next occurrence; never a second time.
    next_occurrence_id: uuid.UUID | None = Field(default=None)
    # Bumped by every change; the ETag is made from it.
    version: int = Field(default=1, nullable=False, sa_column_kwargs={"server_default": sa.text("1")})
    # The number of the task's last change in its user's change feed, set by a trigger (migration 0008).
    change_seq: int = Field(
        default=0, sa_type=sa.BigInteger, nullable=False, sa_column_kwargs={"server_default": sa.text("0")}
    )
    search: str | None = Field(
        default=None,
        sa_column=sa.Column(postgresql.TSVECTOR, sa.Computed(SEARCH_DOCUMENT, persisted=True)),
    )
    created_at: datetime = Field(
        sa_type=sa.DateTime(timezone=True), nullable=False, sa_column_kwargs={"server_default": sa.func.now()}
    )
    updated_at: datetime = Field(
        sa_type=sa.DateTime(timezone=True), nullable=False, sa_column_kwargs={"server_default": sa.func.now()}
    )


class TaskCount(SQLModel, table=True):
    """Each user's number of completed and of live tasks, kept by triggers (migrations 0004, 0005): the summary
    and the task quota never count rows."""

    __tablename__ = "task_counts"

    user_id: str = Field(max_length=USER_ID_MAX, primary_key=True)
    completed: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)
    # Live tasks, for MAX_TASKS_PER_USER (migration 0005).
    live: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)
    # The user's last change number, and the highest one the change feed has forgotten (migration 0008).
    change_seq: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)
    forgotten_seq: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)


class DestroyedTask(SQLModel, table=True):
    """What the change feed remembers of a task destroyed for good: its id and the number of its deletion."""

    __tablename__ = "destroyed_tasks"
    __table_args__ = (sa.Index("ix_destroyed_tasks_destroyed_at", "destroyed_at"),)

    user_id: str = Field(max_length=USER_ID_MAX, primary_key=True)
    change_seq: int = Field(sa_type=sa.BigInteger, primary_key=True)
    id: uuid.UUID = Field(nullable=False)
    # What was destroyed: a task, or a list (migration 0012).
    kind: str = Field(nullable=False, sa_column_kwargs={"server_default": "task"})
    destroyed_at: datetime = Field(
        sa_type=sa.DateTime(timezone=True), nullable=False, sa_column_kwargs={"server_default": sa.func.now()}
    )


# A task as the API answers it (the contract's Task), in this order; the row's own types serialise as is.
PUBLIC_FIELDS = (
    "id",
    "user_id",
    "title",
    "description",
    "completed",
    "completed_at",
    "priority",
    "due_at",
    "tags",
    "remind_at",
    "reminded_at",
    "recurrence",
    "next_occurrence_id",
    "list_id",
    "position",
    "parent_id",
    "created_at",
    "updated_at",
)
# What a row needs to make that answer: its subtasks' counts too.
ANSWER_COLUMNS = (*PUBLIC_FIELDS, "subtasks_open", "subtasks_total")


TASKS = Task.__table__
TASK_COUNTS = TaskCount.__table__


# What a task answer needs, as plain table columns (not ORM entities: cheaper to build and to execute).
# psycopg already answers text[] as a list of str; SQLAlchemy's ARRAY would copy it item by item on every row.
def _public_columns(table: sa.Table) -> list:
    return [
        sa.type_coerce(table.c.tags, sa.types.NullType()).label("tags") if name == "tags" else table.c[name]
        for name in ANSWER_COLUMNS
    ]


PUBLIC_COLUMNS = [*_public_columns(TASKS), TASKS.c.version]
# What a write reads back: the answer, and what continuing a recurring series needs.
CHANGED_COLUMNS = [*PUBLIC_COLUMNS, TASKS.c.series_start]

# A deleted task, exactly as it was, until it is restored or destroyed (migration 0007): every column of `tasks`
# but the search document, and when it was deleted.
MOVED_COLUMNS = [column.name for column in TASKS.columns if column.name != "search"]
# A task coming back from the trash starts with no subtasks counted: its subtasks' coming back counts them.
UNCOUNTED = {"subtasks_open": sa.literal(0), "subtasks_total": sa.literal(0)}


def trash_table(name: str, source: sa.Table, columns: list[str], *more) -> sa.Table:
    """A table holding deleted rows of `source`: these of its columns, with their types and keys, and `more`
    (when it was deleted, indexes)."""
    copied = (
        sa.Column(
            column, source.c[column].type, primary_key=source.c[column].primary_key, nullable=source.c[column].nullable
        )
        for column in columns
    )
    return sa.Table(name, SQLModel.metadata, *copied, *more)


TRASHED_TASKS = trash_table(
    "trashed_tasks",
    TASKS,
    MOVED_COLUMNS,
    sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # Deleted as part of its list: restoring the list brings it back (migration 0012).
    sa.Column("deleted_with_list", sa.Boolean, nullable=False, server_default=sa.false()),
    # Deleted as a subtask of a task deleted with it: restoring that task brings it back (migration 0014).
    sa.Column("deleted_with_parent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_trashed_tasks_user_id_deleted_at_id", "user_id", sa.text("deleted_at DESC"), sa.text("id DESC")),
    sa.Index("ix_trashed_tasks_deleted_at", "deleted_at"),
    sa.Index("ix_trashed_tasks_user_id_change_seq", "user_id", "change_seq"),
)
DESTROYED_TASKS = DestroyedTask.__table__
TRASHED_PUBLIC_COLUMNS = [*_public_columns(TRASHED_TASKS), TRASHED_TASKS.c.deleted_at]
