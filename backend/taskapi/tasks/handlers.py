"""Handlers for /{user_id}/tasks, one per operationId (createTask → create_task)."""

import uuid

import orjson
from connexion import request
from starlette.responses import Response

from taskapi.auth.tokens import require_owner
from taskapi.db.session import statement, transaction
from taskapi.db.statements import execute, fetch_all, fetch_first
from taskapi.http.operation_headers import header as operation_header
from taskapi.http.problems import field_error, invalid
from taskapi.tasks import idempotency, recurrence, series, store, subtasks, tags, trashing
from taskapi.tasks.answers import absent, over_quota, private_json, task_response
from taskapi.tasks.etags import PRIVATE, Condition, etag, if_match
from taskapi.tasks.listing import TaskListing
from taskapi.tasks.models import TaskCreate, TaskUpdate, public_task, to_json

# What an answer remembered for an Idempotency-Key keeps besides the task's public fields; the defaults of fields
# added since an answer may have been remembered (they are kept 24 hours).
_REMEMBERED = ("version", "subtasks_open", "subtasks_total")
_ADDED_SINCE = {"parent_id": None, "subtasks_open": 0, "subtasks_total": 0, "reminded_at": None}


def _created(user_id: str, row, replayed: bool = False) -> Response:
    return task_response(row, 201, {"Location": f"/api/{user_id}/tasks/{row['id']}"}, replayed)


async def _change(
    user_id: str, task_id: str, values: dict, rule_to_check: recurrence.Recurrence | None = None
) -> Response:
    """Apply `values` to the caller's task; `rule_to_check`: a rule this change sets, to be refused (and the change
    rolled back) if it has no occurrence near the task's stored due date."""
    task_uuid, condition = uuid.UUID(task_id), if_match()
    shape = tuple((name, value.name if isinstance(value, store.FromRow) else None) for name, value in values.items())
    params = {f"new_{name}": value for name, value in values.items() if not isinstance(value, store.FromRow)}
    params.update(task_id=task_uuid, owner_id=user_id)
    change = store.guarded(store.update(shape), params, task_uuid, condition)
    completing, moving = "completed" in values, "list_id" in values
    if completing and not moving and values.get("recurrence") is None:
        # Most tasks do not recur after the change: one statement in autocommit changes such a task. What recurs
        # afterwards (a rule kept from the row, or one this change sets, which skips this path) may continue its
        # series, in a transaction (below). A change that ends the rule leaves nothing to continue.
        fast = change if "recurrence" in values else store.unless_recurring(change)
        async with statement() as session:
            row = await store.write(session, fast, params)
            if row is not None:
                await subtasks.remind_reopened_parent(session, row)
                return task_response(await _after_cascade(session, row))
    # Completing a recurring task may continue its series: two more statements, which must commit with this one.
    # Moving to another list reads the top of that list, under the user's lock.
    async with transaction() if completing or rule_to_check or moving else statement() as session:
        if moving:
            await execute(session, store.LOCK_USER, {"owner_id": user_id})
        row = await store.write(session, change, params)
        if row is None:
            raise await absent(session, user_id, task_uuid)
        if rule_to_check is not None:
            recurrence.require_occurrence(rule_to_check, row["series_start"])
        if completing:
            row = await series.continue_series(session, row, request.state.settings.max_tasks_per_user)
            await subtasks.remind_reopened_parent(session, row)
        return task_response(await _after_cascade(session, row))


async def _after_cascade(session, row):
    """The task as its write left it: completing a parent completed its open subtasks, whose counting changed
    the parent again after the statement had answered (migration 0014). Read it once more then."""
    if row["completed"] and row["subtasks_open"] > 0:
        return await fetch_first(session, store.READ, {"task_id": row["id"], "owner_id": row["user_id"]})
    return row


async def create_task(user_id: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    new = TaskCreate.from_body(body)
    if new.parent_id is not None and "list_id" in body:
        raise invalid([field_error("body", "list_id", "must be left out for a subtask: it is in its parent's list")])
    if new.recurrence is not None and new.due_at is not None:
        recurrence.require_occurrence(recurrence.parse(new.recurrence), new.due_at)
    key = operation_header("idempotency-key")
    # A new series starts at this task, its first occurrence.
    values = {"user_id": user_id, "series_start": new.due_at if new.recurrence is not None else None}
    values.update(new.model_dump())
    columns = (*values, "position") if new.parent_id is not None else tuple(values)
    insert = store.insert(columns, new.completed)
    quota = request.state.settings.max_tasks_per_user
    # A plain create is one statement; remembering its key, or starting a series already done, adds more. So
    # does a create whose place (the top of its list) a concurrent create took: again, under the user's lock.
    # A subtask's place is read first (last among its parent's), under the user's lock.
    several = key is not None or (new.completed and new.recurrence is not None) or new.parent_id is not None
    try:
        return await _create(user_id, key, body, insert, {**values, "quota": quota}, several)
    except store.Raced:
        return await _create(user_id, key, body, insert, {**values, "quota": quota}, True)


async def _create(user_id: str, key: str | None, body: dict, insert, params: dict, several: bool) -> Response:
    async with transaction() if several else statement() as session:
        if key is not None:
            replay = await idempotency.claim(session, user_id, key, idempotency.request_hash(body))
            if replay is not None:
                return _created(user_id, {**_ADDED_SINCE, **replay}, replayed=True)
        if several:
            await execute(session, store.LOCK_USER, {"owner_id": user_id})
        if params["parent_id"] is not None:
            params["position"] = await subtasks.last_place(session, user_id, params["parent_id"])
        row = await store.write(session, insert, params)
        if row is None:
            raise over_quota(params["quota"])
        row = await series.continue_series(session, row, params["quota"])
        await subtasks.remind_reopened_parent(session, row)
        if key is not None:
            answer = {**orjson.loads(to_json(public_task(row))), **{name: row[name] for name in _REMEMBERED}}
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
    list_id: str | None = None,
    parent_id: str | None = None,
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
        list_id=list_id,
        parent_id=parent_id,
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
        row = await fetch_first(session, store.READ, {"task_id": task_uuid, "owner_id": user_id})
        if row is None:
            raise await absent(session, user_id, task_uuid)
    header = request.headers.get("if-none-match")
    current = etag(row["id"], row["version"])
    if header is not None and Condition(header).matches(current):
        return Response(status_code=304, headers={"ETag": current, **PRIVATE})
    return task_response(row)


async def update_task(user_id: str, id_: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    values = TaskUpdate.from_body(body).model_dump(exclude_unset=True)
    if "list_id" in values:
        values["position"] = store.FromRow("top_of_list" if values["list_id"] is not None else "top_of_inbox")
    if "completed" in values:
        values["completed_at"] = store.FromRow("stamped") if values["completed"] else None
    rule_to_check = None
    if values.get("recurrence") is not None:
        # A rule other than the stored one starts a new series at the task's (new) due date; the same rule keeps
        # its series (taskapi/tasks/store.py); none ends it.
        if "due_at" in values:
            values["series_start"] = store.FromRow("series_from_new_due")
            if values["due_at"] is not None:
                recurrence.require_occurrence(recurrence.parse(values["recurrence"]), values["due_at"])
        else:  # the due date stays as stored: checked once the row is read
            values["series_start"] = store.FromRow("series_from_due")
            rule_to_check = recurrence.parse(values["recurrence"])
    elif "recurrence" in values:
        values["series_start"] = None
    return await _change(user_id, id_, values, rule_to_check)


async def complete_task(user_id: str, id_: str, user: str, body: dict | None = None) -> Response:
    require_owner(user_id, user)
    if body:
        completed = body["completed"]
        return await _change(
            user_id, id_, {"completed": completed, "completed_at": store.FromRow("stamped") if completed else None}
        )
    # No body toggles: the SET clause reads the row's old value, so this is one atomic statement.
    return await _change(
        user_id, id_, {"completed": store.FromRow("toggled"), "completed_at": store.FromRow("stamped_if_toggled_on")}
    )


async def delete_task(user_id: str, id_: str, user: str) -> Response:
    require_owner(user_id, user)
    task_uuid, condition = uuid.UUID(id_), if_match()
    params = {"task_id": task_uuid, "owner_id": user_id}
    guarded = condition is not None and not condition.any
    if guarded:
        params["if_match_versions"] = condition.versions_of(task_uuid)
    # The task and its subtasks; again if a subtask was added meanwhile (taskapi/tasks/store.py: Raced).
    move = trashing.moving_to_trash(store.delete(guarded))
    async with statement() as session:
        for attempt in range(3):
            try:
                moved = await store.write(session, move, params)
                break
            except store.Raced:
                if attempt == 2:
                    raise
        if moved is None:
            raise await absent(session, user_id, task_uuid)
    return Response(status_code=204)
