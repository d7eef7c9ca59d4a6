"""Handlers for /{user_id}/lists: a user's named lists, in the user's own order, each with its task counts.

Every write runs under the user's lock (taskapi/tasks/store.py: LOCK_USER), taken first, before the list row: the
same order as a task write, which takes the lock (its change number) and then its list's counts.
"""

import uuid
from datetime import datetime

from connexion import request
from starlette.responses import Response

from taskapi.auth.tokens import require_owner
from taskapi.db.statements import execute, fetch_all, fetch_first, fetch_value
from taskapi.errors import field_error, invalid
from taskapi.lists import store
from taskapi.lists.answers import list_absent, list_quota_exceeded, list_response, whose
from taskapi.lists.models import public_list
from taskapi.ordering import positions
from taskapi.tasks import idempotency
from taskapi.tasks import store as task_store
from taskapi.tasks.answers import not_yours, over_quota, private_json
from taskapi.tasks.etags import if_match


def _normalised(body: dict) -> dict:
    """The fields the client sent, the name trimmed (and not blank) and the colour in lower case."""
    values = {name: body[name] for name in ("name", "color") if name in body}
    if "name" in values:
        values["name"] = values["name"].strip()
        if not values["name"]:
            raise invalid([field_error("body", "name", "must not be blank")])
    if values.get("color") is not None:
        values["color"] = values["color"].lower()
    return values


async def _lock(session, user_id: str) -> None:
    await execute(session, task_store.LOCK_USER, {"owner_id": user_id})


async def list_lists(user_id: str, user: str) -> Response:
    require_owner(user_id, user)
    rows = await request.state.units.read(user_id, lambda work: fetch_all(work, store.ALL, {"owner_id": user_id}))
    return private_json({"items": [public_list(row) for row in rows]})


async def create_list(user_id: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    values = _normalised(body)
    quota = request.state.settings.max_lists_per_user
    key = request.headers.get("idempotency-key")
    async with request.state.units.transaction() as session:
        if key is not None:
            # Keys are per user and shared with task creates: the operation is part of what must match.
            replay = await idempotency.claim(session, user_id, key, idempotency.request_hash({"createList": body}))
            if replay is not None:
                row = await fetch_first(session, store.READ, {"owner_id": user_id, "list_id": uuid.UUID(replay["id"])})
                if row is not None:
                    return list_response(row, 201, {"Location": f"/api/{user_id}/lists/{row['id']}"})
                raise await list_absent(session, user_id, uuid.UUID(replay["id"]))
        await _lock(session, user_id)
        if await fetch_value(session, store.COUNT, {"owner_id": user_id}) >= quota:
            raise list_quota_exceeded(quota)
        last = await fetch_value(session, store.LAST_POSITION, {"owner_id": user_id})
        params = {"owner_id": user_id, "color": None, **values, "position": positions.between(last, None)}
        row = await store.write(session, store.INSERT, params, values["name"])
        if key is not None:
            await idempotency.remember(session, user_id, key, {"id": str(row["id"])})
    return list_response(row, 201, {"Location": f"/api/{user_id}/lists/{row['id']}"})


async def get_list(user_id: str, list_id: str, user: str) -> Response:
    require_owner(user_id, user)
    list_uuid = uuid.UUID(list_id)

    async def found(work):
        row = await fetch_first(work, store.READ, {"owner_id": user_id, "list_id": list_uuid})
        if row is None:
            raise await list_absent(work, user_id, list_uuid)
        return row

    return list_response(await request.state.units.read(user_id, found))


async def update_list(user_id: str, list_id: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    list_uuid, values = uuid.UUID(list_id), _normalised(body)
    params = {"owner_id": user_id, "list_id": list_uuid, **{f"new_{name}": value for name, value in values.items()}}
    change = store.update(tuple(values), store.guard(params, list_uuid, if_match()))
    async with request.state.units.transaction() as session:
        await _lock(session, user_id)
        row = await store.write(session, change, params, values.get("name"))
        if row is None:
            raise await list_absent(session, user_id, list_uuid)
    return list_response(row)


async def delete_list(user_id: str, list_id: str, user: str) -> Response:
    require_owner(user_id, user)
    list_uuid = uuid.UUID(list_id)
    params = {"owner_id": user_id, "list_id": list_uuid}
    guarded = store.guard(params, list_uuid, if_match())
    async with request.state.units.transaction() as session:
        await _lock(session, user_id)
        await execute(session, store.TRASH_TASKS, {"owner_id": user_id, "list_id": list_uuid})
        if await fetch_first(session, store.trash_list(guarded), params) is None:
            # Nothing of it is trashed: the transaction ends in the error, so its tasks stay too.
            raise await list_absent(session, user_id, list_uuid)
        most = request.state.settings.max_lists_per_user
        await execute(session, store.DESTROY_OLDEST_DELETED, {"owner_id": user_id, "most": most})
    return Response(status_code=204)


async def list_deleted_lists(user_id: str, user: str, limit: int = 50, cursor: str | None = None) -> Response:
    require_owner(user_id, user)
    codec = request.state.cursors
    scope = codec.scope("deleted-lists", user_id)
    params: dict = {"owner_id": user_id, "page_size": limit + 1}
    if cursor:
        deleted_at, list_id = codec.decode(cursor, scope)
        params.update(after_at=datetime.fromisoformat(deleted_at), after_id=uuid.UUID(list_id))
    page = store.DELETED_PAGES[cursor is not None]
    rows = await request.state.units.read(user_id, lambda work: fetch_all(work, page, params))
    rows, next_cursor = codec.page(rows, limit, lambda: scope, _deleted_position)
    items = [{"list": public_list(row), "deleted_at": row["deleted_at"]} for row in rows]
    return private_json({"items": items, "next_cursor": next_cursor})


def _deleted_position(row) -> list:
    return [row["deleted_at"].isoformat(), str(row["id"])]


async def restore_list(user_id: str, list_id: str, user: str) -> Response:
    require_owner(user_id, user)
    list_uuid, settings = uuid.UUID(list_id), request.state.settings
    params = {"owner_id": user_id, "list_id": list_uuid}
    async with request.state.units.transaction() as session:
        await _lock(session, user_id)
        trashed = await fetch_first(session, store.TRASHED, params)
        if trashed is None:
            found = await whose(session, list_uuid)
            if found is not None and found["user_id"] != user_id:
                raise not_yours(list_uuid, "list")
            row = await fetch_first(session, store.READ, params)
            if row is None:
                raise await list_absent(session, user_id, list_uuid)
            return list_response(row)  # already restored (an Undo pressed twice): the same answer
        if await fetch_value(session, store.COUNT, params) >= settings.max_lists_per_user:
            raise list_quota_exceeded(settings.max_lists_per_user)
        position = trashed["position"]
        if await fetch_first(session, store.POSITION_TAKEN, {**params, "position": position}) is not None:
            last = await fetch_value(session, store.LAST_POSITION, params)
            position = positions.between(last, None)
        await store.write(session, store.RESTORE, {**params, "position": position}, trashed["name"])
        await execute(session, store.RESTORE_TASKS, params)
        if (await fetch_value(session, store.LIVE_TASKS, params) or 0) > settings.max_tasks_per_user:
            raise over_quota(settings.max_tasks_per_user)
        row = await fetch_first(session, store.READ, params)
        session.remind_many()  # its tasks' reminders are pending again
    return list_response(row)
