"""POST /{user_id}/tasks/{id}/move and /{user_id}/lists/{list_id}/move: manual order (taskapi/ordering/siblings.py)."""

import uuid

from connexion import request
from starlette.responses import Response

from taskapi.auth.tokens import require_owner
from taskapi.db.statements import execute, fetch_first
from taskapi.errors import field_error, invalid
from taskapi.lists import store as list_store
from taskapi.lists.answers import list_absent, list_response
from taskapi.ordering import siblings
from taskapi.tasks import move, store
from taskapi.tasks.answers import task_response
from taskapi.tasks.etags import if_match


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value is not None else None


async def move_task(user_id: str, id_: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    list_id = _uuid_or_none(body["list_id"]) if "list_id" in body else move.KEEP
    after = _uuid_or_none(body.get("after"))
    return task_response(await move.move(request.state.units, user_id, uuid.UUID(id_), after, if_match(), list_id))


async def move_list(user_id: str, list_id: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    list_uuid, after = uuid.UUID(list_id), _uuid_or_none(body.get("after"))
    if after == list_uuid:
        raise invalid([field_error("body", "after", "is not another of your lists")])
    params = {"owner_id": user_id, "list_id": list_uuid}
    guarded = list_store.guard(params, list_uuid, if_match())
    async with request.state.units.transaction() as session:
        await execute(session, store.LOCK_USER, {"owner_id": user_id})
        if await fetch_first(session, list_store.READ, params) is None:
            raise await list_absent(session, user_id, list_uuid)
        key = await siblings.place(session, "lists", {"owner_id": user_id}, list_uuid, after)
        if key is None:
            raise invalid([field_error("body", "after", "is not another of your lists")])
        row = await fetch_first(session, list_store.update(("position",), guarded), {**params, "new_position": key})
        if row is None:
            raise await list_absent(session, user_id, list_uuid)
    return list_response(row)
