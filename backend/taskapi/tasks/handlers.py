"""Handlers for /{user_id}/tasks, one per operationId (createTask → create_task)."""

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime

import orjson
import psycopg
import sqlalchemy as sa
from connexion import request
from sqlalchemy.dialects import postgresql
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from taskapi.auth.tokens import require_owner
from taskapi.db.session import statement, transaction
from taskapi.db.statements import fetch_all, fetch_first
from taskapi.http.problems import Problem, field_error, invalid
from taskapi.tasks import idempotency, recurrence, tags, trashing
from taskapi.tasks.answers import not_yours, over_quota, private_json, task_response
from taskapi.tasks.etags import PRIVATE, Condition, etag
from taskapi.tasks.listing import TaskListing
from taskapi.tasks.models import (
    CHANGED_COLUMNS,
    DUE_NEVER,
    PUBLIC_COLUMNS,
    TASK_COUNTS,
    TASKS,
    TaskCreate,
    TaskUpdate,
    public_task,
    to_json,
)

# The statements every request of a kind sends, built once: a request only binds its values, which spares
# SQLAlchemy coercing them into a new statement each time.
_THIS_TASK = (TASKS.c.id == sa.bindparam("task_id", type_=sa.Uuid), TASKS.c.user_id == sa.bindparam("owner_id"))
_READ = sa.select(*PUBLIC_COLUMNS).where(*_THIS_TASK)
_DELETE = sa.delete(TASKS).where(*_THIS_TASK)


@functools.lru_cache(maxsize=64)
def _insert(columns: tuple[str, ...], completed: bool) -> sa.Insert:
    """The INSERT for a create that sets these columns (a completed one stamped by the database's clock).

    INSERT … SELECT …: the task goes in only while its user holds fewer than `quota` live tasks. The user's
    counter row is locked (FOR UPDATE) until the statement's transaction ends, and the insert trigger raises
    the count in that same transaction (migration 0005): concurrent creates of one user pass one at a time
    and never exceed the quota together; other users' creates are not held back.
    """
    values = {name: sa.bindparam(name, type_=TASKS.c[name].type) for name in columns}
    if completed:
        values["completed_at"] = sa.func.now()
    held = sa.select(TASK_COUNTS.c.live).where(TASK_COUNTS.c.user_id == values["user_id"]).with_for_update()
    within = sa.select(*values.values()).where(sa.func.coalesce(held.scalar_subquery(), 0) < sa.bindparam("quota"))
    # include_defaults=False: the id, version and timestamps come from the columns' server defaults.
    return sa.insert(TASKS).from_select(list(values), within, include_defaults=False).returning(*CHANGED_COLUMNS)


# What a change may set from the row itself, in the same statement (SET reads the row as it was): completing
# stamps `completed_at` once and keeps it while the task stays done; a toggle flips `completed`; a new rule
# starts its series at the task's current due date.
_STAMPED = sa.func.coalesce(TASKS.c.completed_at, sa.func.now())
_FROM_ROW = {
    "toggled": sa.not_(TASKS.c.completed),
    "stamped": _STAMPED,
    "stamped_if_toggled_on": sa.case((sa.not_(TASKS.c.completed), _STAMPED), else_=None),
    "due_at": TASKS.c.due_at,
}


@dataclass(frozen=True)
class _FromRow:
    """A value a change computes from the row itself, one of _FROM_ROW; any other value is bound."""

    name: str


@functools.lru_cache(maxsize=256)
def _update(shape: tuple[tuple[str, str | None], ...]) -> sa.Update:
    """The UPDATE for one shape of change: each column set to a bound value, or (named) from the row."""
    values = {
        name: _FROM_ROW[from_row] if from_row else sa.bindparam(f"new_{name}", type_=TASKS.c[name].type)
        for name, from_row in shape
    }
    changed = (
        sa.update(TASKS).where(*_THIS_TASK).values(**values, updated_at=sa.func.now(), version=TASKS.c.version + 1)
    )
    return changed.returning(*CHANGED_COLUMNS)


def _created(user_id: str, row) -> Response:
    return task_response(row, 201, {"Location": f"/api/{user_id}/tasks/{row['id']}"})


def _if_match() -> Condition | None:
    header = request.headers.get("if-match")
    return Condition(header) if header is not None else None


async def _absent(session: AsyncSession, user_id: str, task_id: uuid.UUID) -> Problem:
    """Why the caller's task was not found or changed: someone else's (403, in the trash or not), nobody's
    (404), in the caller's trash (404, saying so), or changed (412)."""
    found = await trashing.whose(session, task_id)
    if found is None:
        return Problem(404, f"No task with id {task_id} exists; it may have been deleted.")
    if found.user_id != user_id:
        return not_yours(task_id)
    if found.trashed:
        return Problem(
            404, f"Task {task_id} is in your trash: restore it (POST /{user_id}/trash/{task_id}/restore) to use it."
        )
    return Problem(
        412,
        f"The task has changed since you read it (its ETag is now {etag(task_id, found.version)}); "
        "read it again and retry.",
    )


_MATCHING_VERSION = TASKS.c.version == sa.any_(sa.bindparam("if_match_versions", type_=postgresql.ARRAY(sa.Integer)))


@functools.lru_cache(maxsize=256)
def _only_at_matching_version(statement):
    return statement.where(_MATCHING_VERSION)


@functools.lru_cache(maxsize=256)
def _unless_recurring(change):
    return change.where(TASKS.c.recurrence.is_(None))


def _guarded(statement, params: dict, task_uuid: uuid.UUID, condition: Condition | None):
    """Add the If-Match condition to the statement (and its versions to `params`): it then changes the row only
    at a matching version."""
    if condition is None or condition.any:
        return statement
    params["if_match_versions"] = condition.versions_of(task_uuid)
    return _only_at_matching_version(statement)


async def _write(session: AsyncSession, change, params: dict | None = None):
    """Run an INSERT or UPDATE … RETURNING. The database holds the rule that a recurring task has a due date
    (ck_tasks_recurrence_due), for creates and edits alike; breaking it is the client's mistake, a 400."""
    try:
        return await fetch_first(session, change, params)
    except psycopg.errors.CheckViolation as error:
        if error.diag.constraint_name == "ck_tasks_recurrence_due":
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


async def _continue_series(session: AsyncSession, row, quota: int):
    """A recurring task that is now completed gets its next occurrence, in this transaction, at most once ever.

    Concurrent completions wait on the row lock the completing UPDATE took; they then read the row as the
    first one left it, with `next_occurrence_id` set, and create nothing. The next occurrence is a task like any
    other: at the quota it is refused, and with it the whole change (a 409), so that completing each new
    occurrence cannot grow an account without bound.
    """
    if not row["completed"] or row["recurrence"] is None or row["next_occurrence_id"] is not None:
        return row
    rule = recurrence.parse(row["recurrence"])
    due = recurrence.next_occurrence(rule, row["series_start"], max(row["due_at"], row["completed_at"]))
    if due is None:  # COUNT or UNTIL has ended the series
        return row
    copied = {name: row[name] for name in ("user_id", "title", "description", "priority", "tags", "recurrence")}
    values = {
        **copied,
        "series_start": row["series_start"],
        "due_at": due,
        "remind_at": _shifted(row["remind_at"], row["due_at"], due),
    }
    following = await _write(session, _insert(tuple(values), False), {**values, "quota": quota})
    if following is None:
        raise over_quota(quota)
    linked = sa.update(TASKS).where(TASKS.c.id == row["id"]).values(next_occurrence_id=following["id"])
    return (await session.exec(linked.returning(*CHANGED_COLUMNS))).mappings().one()


async def _change(
    user_id: str, task_id: str, values: dict, rule_to_check: recurrence.Recurrence | None = None
) -> Response:
    """Apply `values` to the caller's task; `rule_to_check`: a rule this change sets, to be refused (and the change
    rolled back) if it has no occurrence near the task's stored due date."""
    task_uuid, condition = uuid.UUID(task_id), _if_match()
    shape = tuple((name, value.name if isinstance(value, _FromRow) else None) for name, value in values.items())
    params = {f"new_{name}": value for name, value in values.items() if not isinstance(value, _FromRow)}
    params.update(task_id=task_uuid, owner_id=user_id)
    change = _guarded(_update(shape), params, task_uuid, condition)
    completing = "completed" in values
    if completing and values.get("recurrence") is None:
        # Most tasks do not recur after the change: one statement in autocommit changes such a task. What recurs
        # afterwards (a rule kept from the row, or one this change sets, which skips this path) may continue its
        # series, in a transaction (below). A change that ends the rule leaves nothing to continue.
        fast = change if "recurrence" in values else _unless_recurring(change)
        async with statement() as session:
            row = await _write(session, fast, params)
        if row is not None:
            return task_response(row)
    # Completing a recurring task may continue its series: two more statements, which must commit with this one.
    async with transaction() if completing or rule_to_check else statement() as session:
        row = await _write(session, change, params)
        if row is None:
            raise await _absent(session, user_id, task_uuid)
        if rule_to_check is not None:
            recurrence.require_occurrence(rule_to_check, row["series_start"])
        if completing:
            row = await _continue_series(session, row, request.state.settings.max_tasks_per_user)
    return task_response(row)


async def create_task(user_id: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    new = TaskCreate.from_body(body)
    if new.recurrence is not None and new.due_at is not None:
        recurrence.require_occurrence(recurrence.parse(new.recurrence), new.due_at)
    key = request.headers.get("idempotency-key")
    # A new series starts at this task, its first occurrence.
    values = {"user_id": user_id, "series_start": new.due_at if new.recurrence is not None else None}
    values.update(new.model_dump())
    insert = _insert(tuple(values), new.completed)
    quota = request.state.settings.max_tasks_per_user
    # A plain create is one statement; remembering its key, or starting a series already done, adds more.
    several = key is not None or (new.completed and new.recurrence is not None)
    async with transaction() if several else statement() as session:
        if key is not None:
            replay = await idempotency.claim(session, user_id, key, idempotency.request_hash(body))
            if replay is not None:
                return _created(user_id, replay)
        row = await _write(session, insert, {**values, "quota": quota})
        if row is None:
            raise over_quota(quota)
        row = await _continue_series(session, row, quota)
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
        rows = await fetch_all(session, query, params)
    rows, next_cursor = codec.page(rows, listing.limit, lambda: listing.scope, listing.position)
    return private_json({"items": [public_task(row) for row in rows], "next_cursor": next_cursor})


async def get_task(user_id: str, id_: str, user: str) -> Response:
    require_owner(user_id, user)
    task_uuid = uuid.UUID(id_)
    async with statement() as session:
        row = await fetch_first(session, _READ, {"task_id": task_uuid, "owner_id": user_id})
        if row is None:
            raise await _absent(session, user_id, task_uuid)
    header = request.headers.get("if-none-match")
    current = etag(row["id"], row["version"])
    if header is not None and Condition(header).matches(current):
        return Response(status_code=304, headers={"ETag": current, **PRIVATE})
    return task_response(row)


async def update_task(user_id: str, id_: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    values = TaskUpdate.from_body(body).model_dump(exclude_unset=True)
    if "completed" in values:
        values["completed_at"] = _FromRow("stamped") if values["completed"] else None
    rule_to_check = None
    if "recurrence" in values:
        # A new or changed rule starts a new series at the task's (new) due date; none ends it.
        starts = values.get("due_at", _FromRow("due_at")) if values["recurrence"] is not None else None
        values["series_start"] = starts
        if isinstance(starts, datetime):
            recurrence.require_occurrence(recurrence.parse(values["recurrence"]), starts)
        elif isinstance(starts, _FromRow):  # the due date stays as stored: checked once the row is read
            rule_to_check = recurrence.parse(values["recurrence"])
    return await _change(user_id, id_, values, rule_to_check)


async def complete_task(user_id: str, id_: str, user: str, body: dict | None = None) -> Response:
    require_owner(user_id, user)
    if body:
        completed = body["completed"]
        return await _change(
            user_id, id_, {"completed": completed, "completed_at": _FromRow("stamped") if completed else None}
        )
    # No body toggles: the SET clause reads the row's old value, so this is one atomic statement.
    return await _change(
        user_id, id_, {"completed": _FromRow("toggled"), "completed_at": _FromRow("stamped_if_toggled_on")}
    )


async def delete_task(user_id: str, id_: str, user: str) -> Response:
    require_owner(user_id, user)
    task_uuid, condition = uuid.UUID(id_), _if_match()
    params = {"task_id": task_uuid, "owner_id": user_id}
    move = trashing.moving_to_trash(_guarded(_DELETE, params, task_uuid, condition))
    async with statement() as session:
        if await fetch_first(session, move, params) is None:
            raise await _absent(session, user_id, task_uuid)
    return Response(status_code=204)
