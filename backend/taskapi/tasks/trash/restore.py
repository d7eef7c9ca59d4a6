"""Restoring a task from the trash (taskapi/tasks/operations.py: the door every caller uses)."""

import uuid

from taskapi.db.session import Work
from taskapi.db.statements import execute, fetch_all, fetch_first, fetch_value
from taskapi.db.units import AnyUnits
from taskapi.errors import Conflict, NotFound
from taskapi.tasks import store, subtasks
from taskapi.tasks.answers import not_yours, over_quota
from taskapi.tasks.operations import told
from taskapi.tasks.trash import trashing


async def restore(units: AnyUnits, user_id: str, task_id: uuid.UUID, quota: int):
    """Out of the trash, with the subtasks deleted with it, where it was (or last, if its place is taken)."""
    params = {"task_id": task_id, "owner_id": user_id, "quota": quota}
    # Under the user's lock, where the task goes back cannot change before it is there.
    async with units.transaction() as session:
        await execute(session, store.LOCK_USER, {"owner_id": user_id})
        where = await fetch_first(session, trashing.PLACE, params)
        if where is not None and where["parent_trashed"]:
            raise _parent_in_trash(user_id, where["parent_id"])
        if where is not None:
            if where["place"] == "last":
                params["position"] = await subtasks.last_place(session, user_id, where["parent_id"])
            row = await fetch_first(session, trashing.RESTORE[where["place"]], params)
            if row is not None:
                return told(session, await _with_subtasks(session, row, where, params))
        found = await trashing.whose(session, task_id)
        if found is None:
            raise not_in_trash(task_id)
        if found["user_id"] != user_id:
            raise not_yours(task_id)
        if not found["trashed"]:
            # Already restored (an Undo pressed twice): the same answer as the first time.
            return await fetch_first(session, trashing.LIVE, {"task_id": task_id})
        raise over_quota(quota)


async def _with_subtasks(session: Work, row, trashed, params: dict):
    """Bring back the subtasks deleted with the task `row` (just restored from `trashed`), within the quota."""
    back = await fetch_all(session, trashing.RESTORE_SUBTASKS, params)
    if not back:
        return row
    subtasks.remind_pending(session, back)
    if await fetch_value(session, trashing.LIVE_COUNT, params) > params["quota"]:
        raise over_quota(params["quota"])
    if len(back) != trashed["subtasks_total"]:  # one of them was destroyed meanwhile: a task it never was
        return await fetch_first(session, store.READ, params)
    # Counting its subtasks back bumped its version: it is the task it was, and keeps the ETag it had.
    return await fetch_first(session, trashing.AT_VERSION, {**params, "version": trashed["version"]})


def not_in_trash(task_id: uuid.UUID) -> NotFound:
    return NotFound(f"Task {task_id} is not in your trash: it was never deleted, or it has been destroyed.")


def _parent_in_trash(user_id: str, parent_id: uuid.UUID) -> Conflict:
    return Conflict(
        f"Its parent task {parent_id} is in your trash: restore it first (POST /{user_id}/trash/{parent_id}/restore).",
        kind="parent-in-trash",
    )
