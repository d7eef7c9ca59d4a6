"""Handlers for /{user_id}/tasks, one per operationId (createTask → create_task)."""

import uuid
from datetime import datetime

import orjson
import sqlalchemy as sa
from connexion import request
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from taskapi import idempotency, recurrence, tags
from taskapi.auth import require_owner
from taskapi.db import statement, transaction
from taskapi.etags import PRIVATE, Condition, etag
from taskapi.listing import TaskListing, page
from taskapi.models import (
    CHANGED_COLUMNS,
    DUE_NEVER,
    PUBLIC_COLUMNS,
    TASKS,
    TaskCreate,
    TaskUpdate,
    public_task,
    to_json,
)
from taskapi.problems import Problem, field_error, invalid

JSON = "application/json"


def _task_response(row, status: int = 200, headers: dict | None = None) -> Response:
    headers = {"ETag": etag(row["id"], row["version"]), **PRIVATE, **(headers or {})}
    return Response(to_json(public_task(row)), status_code=status, media_type=JSON, headers=headers)


def _created(user_id: str, row) -> Response:
    return _task_response(row, 201, {"Location": f"/api/{user_id}/tasks/{row['id']}"})


def _completed_at(completed: bool | sa.ColumnElement) -> sa.ColumnElement | None:
    """Stamped when a task becomes done, kept while it stays done, cleared when it is reopened."""
    stamped = sa.func.coalesce(TASKS.c.completed_at, sa.func.now())
    if isinstance(completed, bool):
        return stamped if completed else None
    return sa.case((completed, stamped), else_=None)


def _if_match() -> Condition | None:
    header = request.headers.get("if-match")
    return Condition(header) if header is not None else None


async def _absent(session: AsyncSession, user_id: str, task_id: uuid.UUID) -> Problem:
    """Why the caller's task was not found or changed: someone else's (403), nobody's (404), or changed (412)."""
    found = (await session.exec(sa.select(TASKS.c.user_id, TASKS.c.version).where(TASKS.c.id == task_id))).first()
    if found is None:
        return Problem(404, f"No task with id {task_id} exists; it may have been deleted.")
    if found.user_id != user_id:
        return Problem(403, f"Task {task_id} belongs to another user; you can only reach your own tasks.")
    return Problem(
        412,
        f"The task has changed since you read it (its ETag is now {etag(task_id, found.version)}); "
        "read it again and retry.",
    )


def _guarded(statement, task_uuid: uuid.UUID, condition: Condition | None):
    """Add the If-Match condition to the statement: it then changes the row only at a matching version."""
    if condition is None or condition.any:
        return statement
    return statement.where(TASKS.c.version.in_(condition.versions_of(task_uuid)))


async def _write(session: AsyncSession, statement):
    """Run an INSERT or UPDATE … RETURNING. The database holds the rule that a recurring task has a due date
    (ck_tasks_recurrence_due), for creates and edits alike; breaking it is the client's mistake, a 400."""
    try:
        return (await session.exec(statement)).mappings().first()
    except sa.exc.IntegrityError as error:
        if getattr(error.orig.diag, "constraint_name", None) == "ck_tasks_recurrence_due":
            raise invalid([field_error("body", "due_at", "is required for a recurring task (set due_at)")]) from None
        raise


def _shifted(remind_at: datetime | None, due_at: datetime, next_due: datetime) -> datetime | None:
    """The next occurrence's reminder: the same offset from its due date, if that stays a storable instant."""
    if remind_at is None:
        return None
    try:
        shifted = next_due + (remind_at - due_at)
    except OverflowError:
        return None
    return shifted if shifted < DUE_NEVER else None


async def _continue_series(session: AsyncSession, row):
    """A recurring task that is now completed gets its next occurrence, in this transaction, at most once ever.

    Concurrent completions wait on the row lock the completing UPDATE took; they then read the row as the
    first one left it, with `next_occurrence_id` set, and create nothing.
    """
    if not row["completed"] or row["recurrence"] is None or row["next_occurrence_id"] is not None:
        return row
    rule = recurrence.parse(row["recurrence"])
    due = recurrence.next_occurrence(rule, row["series_start"], max(row["due_at"], row["completed_at"]))
    if due is None:  # COUNT or UNTIL has ended the series
        return row
    copied = {name: row[name] for name in ("user_id", "title", "description", "priority", "tags", "recurrence")}
    next_id = (
        await session.exec(
            sa.insert(TASKS)
            .values(
                **copied,
                series_start=row["series_start"],
                due_at=due,
                remind_at=_shifted(row["remind_at"], row["due_at"], due),
            )
            .returning(TASKS.c.id)
        )
    ).scalar_one()
    linked = sa.update(TASKS).where(TASKS.c.id == row["id"]).values(next_occurrence_id=next_id)
    return (await session.exec(linked.returning(*CHANGED_COLUMNS))).mappings().one()


async def _change(user_id: str, task_id: str, values: dict) -> Response:
    task_uuid, condition = uuid.UUID(task_id), _if_match()
    update = (
        sa.update(TASKS)
        .where(TASKS.c.id == task_uuid, TASKS.c.user_id == user_id)
        .values(**values, updated_at=sa.func.now(), version=TASKS.c.version + 1)
        .returning(*CHANGED_COLUMNS)
    )
    # Completing may continue a recurring series: two more statements, which must commit with this one.
    async with transaction() if "completed" in values else statement() as session:
        row = await _write(session, _guarded(update, task_uuid, condition))
        if row is None:
            raise await _absent(session, user_id, task_uuid)
        if "completed" in values:
            row = await _continue_series(session, row)
    return _task_response(row)


async def create_task(user_id: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    new = TaskCreate.from_body(body)
    key = request.headers.get("idempotency-key")
    insert = (
        sa.insert(TASKS)
        .values(
            user_id=user_id,
            completed_at=sa.func.now() if new.completed else None,
            # A new series starts at this task, its first occurrence.
            series_start=new.due_at if new.recurrence is not None else None,
            **new.model_dump(),
        )
        .returning(*CHANGED_COLUMNS)
    )
    # A plain create is one statement; remembering its key, or starting a series already done, adds more.
    several = key is not None or (new.completed and new.recurrence is not None)
    async with transaction() if several else statement() as session:
        if key is not None:
            replay = await idempotency.claim(session, user_id, key, idempotency.request_hash(body))
            if replay is not None:
                return _created(user_id, replay)
        row = await _continue_series(session, await _write(session, insert))
        if key is not None:
            answer = {**orjson.loads(to_json(public_task(row))), "version": row["version"]}
            await idempotency.remember(session, user_id, key, answer)
    return _created(user_id, row)


async def list_tasks(
    user_id: str,
    user: str,
    status: str = "all",
    sort: str = "-created",
    q: str | None = None,
    priority: str | None = None,
    due_before: str | None = None,
    due_after: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    tag: list[str] | None = None,
    remind_before: str | None = None,
    remind_after: str | None = None,
) -> Response:
    require_owner(user_id, user)
    wanted, errors = tags.normalise(tag or [], "query", "tag")
    if errors:
        raise invalid(errors)
    listing = TaskListing(
        user_id=user_id,
        status=status,
        sort=sort,
        q=q,
        priority=priority,
        due_before=due_before,
        due_after=due_after,
        limit=limit,
        tags=tuple(wanted),
        remind_before=remind_before,
        remind_after=remind_after,
    )
    codec = request.state.cursors
    query, params = listing.statement(codec.decode(cursor, listing.scope) if cursor else None)
    async with statement() as session:
        rows = (await session.exec(query, params=params)).mappings().all()
    rows, next_cursor = page(listing, rows, codec)
    body = to_json({"items": [public_task(row) for row in rows], "next_cursor": next_cursor})
    return Response(body, media_type=JSON, headers=PRIVATE)


async def get_task(user_id: str, id_: str, user: str) -> Response:
    require_owner(user_id, user)
    task_uuid = uuid.UUID(id_)
    async with statement() as session:
        row = (
            (await session.exec(sa.select(*PUBLIC_COLUMNS).where(TASKS.c.id == task_uuid, TASKS.c.user_id == user_id)))
            .mappings()
            .first()
        )
        if row is None:
            raise await _absent(session, user_id, task_uuid)
    header = request.headers.get("if-none-match")
    current = etag(row["id"], row["version"])
    if header is not None and Condition(header).matches(current):
        return Response(status_code=304, headers={"ETag": current, **PRIVATE})
    return _task_response(row)


async def update_task(user_id: str, id_: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    values = TaskUpdate.from_body(body).model_dump(exclude_unset=True)
    if "completed" in values:
        values["completed_at"] = _completed_at(values["completed"])
    if "recurrence" in values:
        # A new or changed rule starts a new series at the task's (new) due date; none ends it.
        starts = values.get("due_at", TASKS.c.due_at) if values["recurrence"] is not None else None
        values["series_start"] = starts
    return await _change(user_id, id_, values)


async def complete_task(user_id: str, id_: str, user: str, body: dict | None = None) -> Response:
    require_owner(user_id, user)
    # No body toggles: the SET clause reads the row's old value, so this is one atomic statement.
    completed = body["completed"] if body else sa.not_(TASKS.c.completed)
    return await _change(user_id, id_, {"completed": completed, "completed_at": _completed_at(completed)})


async def delete_task(user_id: str, id_: str, user: str) -> Response:
    require_owner(user_id, user)
    task_uuid, condition = uuid.UUID(id_), _if_match()
    delete = sa.delete(TASKS).where(TASKS.c.id == task_uuid, TASKS.c.user_id == user_id).returning(TASKS.c.id)
    async with statement() as session:
        if (await session.exec(_guarded(delete, task_uuid, condition))).first() is None:
            raise await _absent(session, user_id, task_uuid)
    return Response(status_code=204)
