"""The trash: /{user_id}/trash. A deleted task waits here, exactly as it was, until it is restored, destroyed
for good, or swept away after TRASH_RETENTION_DAYS (taskapi/sync/purge.py)."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from connexion import request
from starlette.responses import Response

from taskapi.auth.tokens import require_owner
from taskapi.db.session import statement, transaction
from taskapi.db.statements import execute, fetch_all, fetch_first, fetch_value
from taskapi.http.problems import Problem
from taskapi.tasks import store, subtasks, trashing
from taskapi.tasks.answers import not_yours, over_quota, private_json, task_response
from taskapi.tasks.models import TRASHED_PUBLIC_COLUMNS, TRASHED_TASKS, public_task


def _page_statement(after: bool) -> sa.Select:
    conditions = [TRASHED_TASKS.c.user_id == sa.bindparam("owner_id")]
    if after:
        row = sa.tuple_(TRASHED_TASKS.c.deleted_at, TRASHED_TASKS.c.id)
        conditions.append(row < sa.tuple_(sa.bindparam("after_at"), sa.bindparam("after_id", type_=sa.Uuid)))
    return (
        sa.select(*TRASHED_PUBLIC_COLUMNS)
        .where(*conditions)
        .order_by(TRASHED_TASKS.c.deleted_at.desc(), TRASHED_TASKS.c.id.desc())
        .limit(sa.bindparam("page_size"))
    )


_FIRST_PAGE, _NEXT_PAGE = _page_statement(after=False), _page_statement(after=True)


def _position(row) -> list:
    return [row["deleted_at"].isoformat(), str(row["id"])]


def _not_found(task_id: uuid.UUID) -> Problem:
    return Problem(404, f"Task {task_id} is not in your trash: it was never deleted, or it has been destroyed.")


async def list_trash(user_id: str, user: str, limit: int = 50, cursor: str | None = None) -> Response:
    require_owner(user_id, user)
    codec = request.state.cursors
    scope = codec.scope("trash", user_id)
    params: dict = {"owner_id": user_id, "page_size": limit + 1}
    if cursor:
        deleted_at, task_id = codec.decode(cursor, scope)
        params.update(after_at=datetime.fromisoformat(deleted_at), after_id=uuid.UUID(task_id))
    async with statement() as session:
        rows = await fetch_all(session, _NEXT_PAGE if cursor else _FIRST_PAGE, params)
    rows, next_cursor = codec.page(rows, limit, lambda: scope, _position)
    items = [{"task": public_task(row), "deleted_at": row["deleted_at"]} for row in rows]
    return private_json({"items": items, "next_cursor": next_cursor})


async def restore_task(user_id: str, id_: str, user: str) -> Response:
    require_owner(user_id, user)
    task_id, quota = uuid.UUID(id_), request.state.settings.max_tasks_per_user
    params = {"task_id": task_id, "owner_id": user_id, "quota": quota}
    # Under the user's lock, where the task goes back cannot change before it is there.
    async with transaction() as session:
        await execute(session, store.LOCK_USER, {"owner_id": user_id})
        where = await fetch_first(session, trashing.PLACE, params)
        if where is not None and where["parent_trashed"]:
            raise _parent_in_trash(user_id, where["parent_id"])
        if where is not None:
            if where["place"] == "last":
                params["position"] = await subtasks.last_place(session, user_id, where["parent_id"])
            row = await fetch_first(session, trashing.RESTORE[where["place"]], params)
            if row is not None:
                return task_response(await _with_subtasks(session, row, where, params))
        found = await trashing.whose(session, task_id)
        if found is None:
            raise _not_found(task_id)
        if found["user_id"] != user_id:
            raise not_yours(task_id)
        if not found["trashed"]:
            # Already restored (an Undo pressed twice): the same answer as the first time.
            return task_response(await fetch_first(session, trashing.LIVE, {"task_id": task_id}))
        raise over_quota(quota)


async def _with_subtasks(session, row, trashed, params: dict):
    """Bring back the subtasks deleted with the task `row` (just restored from `trashed`), within the quota."""
    back = await fetch_all(session, trashing.RESTORE_SUBTASKS, params)
    if not back:
        return row
    subtasks.remind_pending(back)
    if await fetch_value(session, trashing.LIVE_COUNT, params) > params["quota"]:
        raise over_quota(params["quota"])
    if len(back) != trashed["subtasks_total"]:  # one of them was destroyed meanwhile: a task it never was
        return await fetch_first(session, store.READ, params)
    # Counting its subtasks back bumped its version: it is the task it was, and keeps the ETag it had.
    return await fetch_first(session, trashing.AT_VERSION, {**params, "version": trashed["version"]})


def _parent_in_trash(user_id: str, parent_id: uuid.UUID) -> Problem:
    return Problem(
        409,
        f"Its parent task {parent_id} is in your trash: restore it first (POST /{user_id}/trash/{parent_id}/restore).",
        kind="parent-in-trash",
    )


async def destroy_task(user_id: str, id_: str, user: str) -> Response:
    require_owner(user_id, user)
    task_id = uuid.UUID(id_)
    async with statement() as session:
        if await fetch_first(session, trashing.DESTROY, {"task_id": task_id, "owner_id": user_id}) is None:
            found = await trashing.whose(session, task_id)
            if found is not None and found["user_id"] != user_id:
                raise not_yours(task_id)
            raise _not_found(task_id)
    return Response(status_code=204)


async def empty_trash(user_id: str, user: str) -> Response:
    require_owner(user_id, user)
    async with statement() as session:
        await execute(session, trashing.EMPTY, {"owner_id": user_id})
    return Response(status_code=204)
