"""The trash: /{user_id}/trash. A deleted task waits here, exactly as it was, until it is restored, destroyed
for good, or swept away after TRASH_RETENTION_DAYS (taskapi/sync/purge.py)."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from connexion import request
from starlette.responses import Response

from taskapi.auth.tokens import require_owner
from taskapi.db.statements import execute, fetch_all, fetch_first
from taskapi.tables.tasks import TRASHED_PUBLIC_COLUMNS, TRASHED_TASKS
from taskapi.tasks.answers import not_yours, private_json, task_response
from taskapi.tasks.models import public_task
from taskapi.tasks.trash import restore, trashing


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


async def list_trash(user_id: str, user: str, limit: int = 50, cursor: str | None = None) -> Response:
    require_owner(user_id, user)
    codec = request.state.cursors
    scope = codec.scope("trash", user_id)
    params: dict = {"owner_id": user_id, "page_size": limit + 1}
    if cursor:
        deleted_at, task_id = codec.decode(cursor, scope)
        params.update(after_at=datetime.fromisoformat(deleted_at), after_id=uuid.UUID(task_id))
    page = _NEXT_PAGE if cursor else _FIRST_PAGE
    rows = await request.state.units.read(user_id, lambda work: fetch_all(work, page, params))
    rows, next_cursor = codec.page(rows, limit, lambda: scope, _position)
    items = [{"task": public_task(row), "deleted_at": row["deleted_at"]} for row in rows]
    return private_json({"items": items, "next_cursor": next_cursor})


async def restore_task(user_id: str, id_: str, user: str) -> Response:
    require_owner(user_id, user)
    quota = request.state.settings.max_tasks_per_user
    return task_response(await restore.restore(request.state.units, user_id, uuid.UUID(id_), quota))


async def destroy_task(user_id: str, id_: str, user: str) -> Response:
    require_owner(user_id, user)
    task_id = uuid.UUID(id_)
    async with request.state.units.statement() as session:
        if await fetch_first(session, trashing.DESTROY, {"task_id": task_id, "owner_id": user_id}) is None:
            found = await trashing.whose(session, task_id)
            if found is not None and found["user_id"] != user_id:
                raise not_yours(task_id)
            raise restore.not_in_trash(task_id)
    return Response(status_code=204)


async def empty_trash(user_id: str, user: str) -> Response:
    require_owner(user_id, user)
    async with request.state.units.statement() as session:
        await execute(session, trashing.EMPTY, {"owner_id": user_id})
    return Response(status_code=204)
