"""The task table and the request/response shapes, kept apart."""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from pydantic import field_serializer, field_validator
from sqlmodel import Field, SQLModel

TITLE_MAX = 200
DESCRIPTION_MAX = 1000
USER_ID_MAX = 128


class Task(SQLModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        # Serves "this user's tasks, newest first" as an index-only range scan.
        sa.Index("ix_tasks_user_id_created_at_id", "user_id", sa.text("created_at DESC"), sa.text("id DESC")),
        sa.CheckConstraint(f"char_length(title) BETWEEN 1 AND {TITLE_MAX}", name="ck_tasks_title_length"),
        sa.CheckConstraint(f"char_length(description) <= {DESCRIPTION_MAX}", name="ck_tasks_description_length"),
        sa.CheckConstraint("completed = (completed_at IS NOT NULL)", name="ck_tasks_completed_at"),
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
    created_at: datetime = Field(
        sa_type=sa.DateTime(timezone=True), nullable=False, sa_column_kwargs={"server_default": sa.func.now()}
    )
    updated_at: datetime = Field(
        sa_type=sa.DateTime(timezone=True), nullable=False, sa_column_kwargs={"server_default": sa.func.now()}
    )


class _TitleIsTrimmed(SQLModel):
    @field_validator("title", check_fields=False)
    @classmethod
    def _trim(cls, value: str | None) -> str | None:
        return value.strip() if isinstance(value, str) else value


class TaskCreate(_TitleIsTrimmed):
    """The contract has already validated the body; this only normalises it."""

    title: str
    description: str | None = None
    completed: bool = False


class TaskUpdate(_TitleIsTrimmed):
    """Only the fields the client sent are changed (see `model_fields_set`)."""

    title: str | None = None
    description: str | None = None
    completed: bool | None = None


class TaskPublic(SQLModel):
    id: uuid.UUID
    user_id: str
    title: str
    description: str | None
    completed: bool
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @field_serializer("completed_at", "created_at", "updated_at")
    def _rfc3339_utc(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
