"""A task's request and response shapes (its tables are in taskapi/tables/tasks.py)."""

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from pydantic import ValidationError, field_validator
from sqlmodel import SQLModel

from taskapi.errors import field_error, invalid
from taskapi.tables.tasks import ANSWER_COLUMNS, DUE_NEVER
from taskapi.tasks import tags
from taskapi.tasks.recurrence import rules

Priority = Literal["low", "medium", "high"]
DUE_RANGE_MESSAGE = "must fall within the years 0001-9999 once converted to UTC"


def to_utc(value: datetime) -> datetime:
    """UTC, within what both Python and the due-date sort can represent, or ValueError."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(DUE_RANGE_MESSAGE) from None
    if utc >= DUE_NEVER:
        raise ValueError(DUE_RANGE_MESSAGE)
    return utc


class _Normalised(SQLModel):
    @field_validator("title", check_fields=False)
    @classmethod
    def _trim(cls, value: str | None) -> str | None:
        return value.strip() if isinstance(value, str) else value

    @field_validator("due_at", "remind_at", check_fields=False)
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else to_utc(value)

    @classmethod
    def from_body(cls, body: dict[str, Any]):
        """The contract has validated the body's shape. Left to refuse: a tag or a recurrence rule that is not
        valid (400, naming it), or an instant out of range (422)."""
        body = dict(body)
        if "tags" in body:
            body["tags"], errors = tags.normalise(body["tags"], "body", "tags")
            if errors:
                raise invalid(errors)
        if body.get("recurrence") is not None:
            body["recurrence"] = rules.parse(body["recurrence"]).as_json()
        try:
            return cls.model_validate(body)
        except ValidationError as error:
            errors = [
                field_error(
                    "body",
                    ".".join(map(str, problem["loc"])),
                    DUE_RANGE_MESSAGE if problem["loc"][0] in ("due_at", "remind_at") else problem["msg"],
                )
                for problem in error.errors()
            ]
            raise invalid(errors, status=422) from None


class TaskCreate(_Normalised):
    """The contract has already validated the body; this normalises it."""

    title: str
    description: str | None = None
    completed: bool = False
    priority: Priority = "medium"
    due_at: datetime | None = None
    tags: list[str] = []
    remind_at: datetime | None = None
    recurrence: dict | None = None
    list_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None


class TaskUpdate(_Normalised):
    """Only the fields the client sent are changed (see `model_fields_set`)."""

    title: str | None = None
    description: str | None = None
    completed: bool | None = None
    priority: Priority | None = None
    due_at: datetime | None = None
    tags: list[str] | None = None
    remind_at: datetime | None = None
    recurrence: dict | None = None
    list_id: uuid.UUID | None = None


_INSTANTS = ("completed_at", "due_at", "remind_at", "reminded_at", "created_at", "updated_at")


def _as_answer(task: dict) -> dict:
    """A dict of a task's answer columns (taskapi/tables/tasks.py's ANSWER_COLUMNS), made its public form in place:
    the subtasks' counts as one object, every instant in UTC (the database answers in its session's time zone)."""
    task["subtasks"] = {"open": task.pop("subtasks_open"), "total": task.pop("subtasks_total")}
    for name in _INSTANTS:
        value = task[name]
        if isinstance(value, datetime) and value.utcoffset():
            task[name] = value.astimezone(UTC)
    return task


def public_task(row) -> dict:
    """The task's public fields, in a new dict: `row` stays as it is."""
    return _as_answer({name: row[name] for name in ANSWER_COLUMNS})


def public_tasks(rows: list[dict], others: tuple[str, ...]) -> list[dict]:
    """public_task() of each row, made of the row itself once its `others` columns are gone: no copy (a list
    page's rows are read only to be answered)."""
    for row in rows:
        for name in others:
            del row[name]
        _as_answer(row)
    return rows


def to_json(value) -> bytes:
    """orjson, straight from rows (UUIDs, datetimes): RFC 3339 instants end in "Z", as the contract shows."""
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)
