"""The task operations, one door for every caller: a request's handler (taskapi/tasks/handlers.py and its
neighbours), a batch's operations (taskapi/batch), MCP's tools (taskapi/mcp). Each takes the caller's units of work
(taskapi/db/units.py), the user (already checked to be the caller) and typed arguments, and answers the task's row
or raises; none reads a request. Their writes tell their unit of work of the reminders they make pending.
Restoring from the trash and moving are in taskapi/tasks/trash/restore.py and move.py."""

import uuid
from dataclasses import dataclass

import orjson

from taskapi.db.session import Work
from taskapi.db.statements import execute, fetch_all, fetch_first
from taskapi.db.units import AnyUnits
from taskapi.errors import field_error, invalid
from taskapi.tasks import idempotency, store, subtasks
from taskapi.tasks.answers import absent, over_quota
from taskapi.tasks.cursors import CursorCodec
from taskapi.tasks.etags import Condition
from taskapi.tasks.listing import TaskListing
from taskapi.tasks.models import TaskCreate, TaskUpdate, public_task, to_json
from taskapi.tasks.recurrence import rules, series
from taskapi.tasks.trash import trashing

# What an answer remembered for an Idempotency-Key keeps besides the task's public fields; the defaults of fields
# added since an answer may have been remembered (they are kept 24 hours).
_REMEMBERED = ("version", "subtasks_open", "subtasks_total")
_ADDED_SINCE = {"parent_id": None, "subtasks_open": 0, "subtasks_total": 0, "reminded_at": None}


@dataclass(frozen=True)
class Retry:
    """A create's Idempotency-Key and the hash of the request it came with."""

    key: str
    request_hash: str


def told(session: Work, row):
    """The row, its pending reminder told to the unit of work (the worker's clock may not know of it yet)."""
    if row["remind_at"] is not None and row["reminded_at"] is None and not row["completed"]:
        session.remind(row["remind_at"])
    return row


async def create(units: AnyUnits, user_id: str, new: TaskCreate, quota: int, retry: Retry | None = None):
    """A new task (a subtask if `new` names a parent), first in its list; with `retry`, the answer remembered for
    its key if it was made before (JSON then: instants as text)."""
    if new.parent_id is not None and "list_id" in new.model_fields_set:
        raise invalid([field_error("body", "list_id", "must be left out for a subtask: it is in its parent's list")])
    if new.recurrence is not None and new.due_at is not None:
        rules.require_occurrence(rules.parse(new.recurrence), new.due_at)
    # A new series starts at this task, its first occurrence.
    values = {"user_id": user_id, "series_start": new.due_at if new.recurrence is not None else None}
    values.update(new.model_dump())
    columns = (*values, "position") if new.parent_id is not None else tuple(values)
    insert = store.insert(columns, new.completed)
    # A plain create is one statement; remembering its key, or starting a series already done, adds more. So
    # does a create whose place (the top of its list) a concurrent create took: again, under the user's lock.
    # A subtask's place is read first (last among its parent's), under the user's lock.
    several = retry is not None or (new.completed and new.recurrence is not None) or new.parent_id is not None
    try:
        return await _create(units, user_id, retry, insert, {**values, "quota": quota}, several)
    except store.Raced:
        return await _create(units, user_id, retry, insert, {**values, "quota": quota}, True)


async def _create(units: AnyUnits, user_id: str, retry: Retry | None, insert, params: dict, several: bool):
    async with units.transaction() if several else units.statement() as session:
        if retry is not None:
            replay = await idempotency.claim(session, user_id, retry.key, retry.request_hash)
            if replay is not None:
                return {**_ADDED_SINCE, **replay}
        if several:
            await execute(session, store.LOCK_USER, {"owner_id": user_id})
        if params["parent_id"] is not None:
            params["position"] = await subtasks.last_place(session, user_id, params["parent_id"])
        row = await store.write(session, insert, params)
        if row is None:
            raise over_quota(params["quota"])
        row = await series.continue_series(session, row, params["quota"])
        await subtasks.remind_reopened_parent(session, row)
        if retry is not None:
            answer = {**as_json(row), **{name: row[name] for name in _REMEMBERED}}
            await idempotency.remember(session, user_id, retry.key, answer)
        return told(session, row)


def as_json(row) -> dict:
    """The task's public fields as JSON carries them (what an Idempotency-Key remembers, what a batch answers)."""
    return orjson.loads(to_json(public_task(row)))


async def page(
    units: AnyUnits, codec: CursorCodec, listing: TaskListing, cursor: str | None
) -> tuple[list, str | None]:
    """A page of the listing's tasks, and the cursor to the next page (None on the last)."""
    query, params = listing.statement(codec.decode(cursor, listing.scope) if cursor else None)
    rows = await units.read(listing.user_id, lambda work: fetch_all(work, query, params))
    return codec.page(rows, listing.limit, lambda: listing.scope, listing.position)


async def read(units: AnyUnits, user_id: str, task_uuid: uuid.UUID):
    """The caller's task, as it is now."""

    async def found(work):
        row = await fetch_first(work, store.READ, {"task_id": task_uuid, "owner_id": user_id})
        if row is None:
            raise await absent(work, user_id, task_uuid)
        return row

    return await units.read(user_id, found)


def update(change: TaskUpdate) -> tuple[dict, rules.Recurrence | None]:
    """The values a PUT's fields set, and a rule to check against the stored due date once the row is read."""
    values = change.model_dump(exclude_unset=True)
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
                rules.require_occurrence(rules.parse(values["recurrence"]), values["due_at"])
        else:  # the due date stays as stored: checked once the row is read
            values["series_start"] = store.FromRow("series_from_due")
            rule_to_check = rules.parse(values["recurrence"])
    elif "recurrence" in values:
        values["series_start"] = None
    return values, rule_to_check


async def change(
    units: AnyUnits, user_id: str, task_id: uuid.UUID, change: TaskUpdate, condition: Condition | None, quota: int
):
    """PUT: the fields `change` carries, set on the caller's task."""
    values, rule_to_check = update(change)
    return await _change(units, user_id, task_id, values, condition, quota, rule_to_check)


async def complete(
    units: AnyUnits, user_id: str, task_id: uuid.UUID, completed: bool | None, condition: Condition | None, quota: int
):
    """Mark the task done or not; None toggles it (the SET clause reads the row's old value: one atomic statement).
    A recurring task's next occurrence is made as it is completed."""
    if completed is None:
        values = {"completed": store.FromRow("toggled"), "completed_at": store.FromRow("stamped_if_toggled_on")}
    else:
        values = {"completed": completed, "completed_at": store.FromRow("stamped") if completed else None}
    return await _change(units, user_id, task_id, values, condition, quota)


async def _change(
    units: AnyUnits,
    user_id: str,
    task_uuid: uuid.UUID,
    values: dict,
    condition: Condition | None,
    quota: int,
    rule_to_check: rules.Recurrence | None = None,
):
    """Apply `values` to the caller's task; `rule_to_check`: a rule this change sets, to be refused (and the change
    rolled back) if it has no occurrence near the task's stored due date."""
    shape = tuple((name, value.name if isinstance(value, store.FromRow) else None) for name, value in values.items())
    params = {f"new_{name}": value for name, value in values.items() if not isinstance(value, store.FromRow)}
    params.update(task_id=task_uuid, owner_id=user_id)
    statement = store.guarded(store.update(shape), params, task_uuid, condition)
    completing, moving = "completed" in values, "list_id" in values
    if completing and not moving and values.get("recurrence") is None:
        # Most tasks do not recur after the change: one statement in autocommit changes such a task. What recurs
        # afterwards (a rule kept from the row, or one this change sets, which skips this path) may continue its
        # series, in a transaction (below). A change that ends the rule leaves nothing to continue.
        fast = statement if "recurrence" in values else store.unless_recurring(statement)
        async with units.statement() as session:
            row = await store.write(session, fast, params)
            if row is not None:
                await subtasks.remind_reopened_parent(session, row)
                return told(session, await _after_cascade(session, row))
    # Completing a recurring task may continue its series: two more statements, which must commit with this one.
    # Moving to another list reads the top of that list, under the user's lock.
    async with units.transaction() if completing or rule_to_check or moving else units.statement() as session:
        if moving:
            await execute(session, store.LOCK_USER, {"owner_id": user_id})
        row = await store.write(session, statement, params)
        if row is None:
            raise await absent(session, user_id, task_uuid)
        if rule_to_check is not None:
            rules.require_occurrence(rule_to_check, row["series_start"])
        if completing:
            row = await series.continue_series(session, row, quota)
            await subtasks.remind_reopened_parent(session, row)
        return told(session, await _after_cascade(session, row))


async def _after_cascade(session: Work, row):
    """The task as its write left it: completing a parent completed its open subtasks, whose counting changed
    the parent again after the statement had answered (migration 0014). Read it once more then."""
    if row["completed"] and row["subtasks_open"] > 0:
        return await fetch_first(session, store.READ, {"task_id": row["id"], "owner_id": row["user_id"]})
    return row


async def delete(units: AnyUnits, user_id: str, task_uuid: uuid.UUID, condition: Condition | None) -> None:
    """To the trash, with its subtasks: undoable (restore)."""
    params = {"task_id": task_uuid, "owner_id": user_id}
    guarded = condition is not None and not condition.any
    if guarded:
        params["if_match_versions"] = condition.versions_of(task_uuid)
    # The task and its subtasks; again if a subtask was added meanwhile (taskapi/tasks/store.py: Raced).
    move = trashing.moving_to_trash(store.delete(guarded))
    async with units.statement() as session:
        for attempt in range(3):
            try:
                moved = await store.write(session, move, params)
                break
            except store.Raced:
                if attempt == 2:
                    raise
        if moved is None:
            raise await absent(session, user_id, task_uuid)
