"""The list tables (migration 0012): a user's named lists, and the deleted ones."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from taskapi.tables.tasks import POSITION_TYPE, USER_ID_MAX, trash_table

NAME_MAX = 100


class TaskList(SQLModel, table=True):
    """A user's named list. The Inbox (tasks whose `list_id` is null) has no row: it always exists."""

    __tablename__ = "task_lists"

    id: uuid.UUID = Field(
        default_factory=uuid.uuid4, primary_key=True, sa_column_kwargs={"server_default": sa.text("gen_random_uuid()")}
    )
    user_id: str = Field(max_length=USER_ID_MAX, nullable=False)
    name: str = Field(max_length=NAME_MAX, nullable=False)
    color: str | None = Field(default=None, max_length=7)
    position: str = Field(sa_type=POSITION_TYPE, nullable=False)
    version: int = Field(default=1, nullable=False, sa_column_kwargs={"server_default": sa.text("1")})
    change_seq: int = Field(
        default=0, sa_type=sa.BigInteger, nullable=False, sa_column_kwargs={"server_default": sa.text("0")}
    )
    created_at: datetime = Field(
        sa_type=sa.DateTime(timezone=True), nullable=False, sa_column_kwargs={"server_default": sa.func.now()}
    )
    updated_at: datetime = Field(
        sa_type=sa.DateTime(timezone=True), nullable=False, sa_column_kwargs={"server_default": sa.func.now()}
    )
    # Its tasks, open and in all, kept by a trigger on tasks (migration 0012).
    open: int = Field(default=0, nullable=False, sa_column_kwargs={"server_default": sa.text("0")})
    total: int = Field(default=0, nullable=False, sa_column_kwargs={"server_default": sa.text("0")})


LISTS = TaskList.__table__
# A deleted list, as it was (its counts come back with its tasks), until restored or swept.
MOVED_LIST_COLUMNS = [column.name for column in LISTS.columns if column.name not in ("open", "total")]
TRASHED_LISTS = trash_table(
    "trashed_lists",
    LISTS,
    MOVED_LIST_COLUMNS,
    sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

PUBLIC_LIST_FIELDS = ("id", "name", "color", "position", "open", "total", "created_at", "updated_at")
PUBLIC_LIST_COLUMNS = [*(LISTS.c[name] for name in PUBLIC_LIST_FIELDS), LISTS.c.version]
