"""POST /{user_id}/tasks/{id}/move and /{user_id}/lists/{list_id}/move: manual order (taskapi/lists/ordering.py)."""

import uuid

from starlette.responses import Response

from taskapi.auth.tokens import require_owner
from taskapi.db.session import transaction
from taskapi.db.statements import execute, fetch_first
from taskapi.http.problems import field_error, invalid
from taskapi.lists import ordering
from taskapi.lists import store as list_store
from taskapi.lists.answers import list_absent, list_response
from taskapi.tasks import store
from taskapi.tasks.answers import absent, task_response
from taskapi.tasks.etags import if_match

_MOVE_TASK = store.update((("list_id", None), ("position", None)))
_NOT_A_SIBLING = "is not a sibling where the task goes: a top-level task of that list, or a subtask of its parent"


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value is not None else None


async def move_task(user_id: str, id_: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    task_uuid, after = uuid.UUID(id_), _uuid_or_none(body.get("after"))
    if after == task_uuid:
        raise invalid([field_error("body", "after", _NOT_A_SIBLING)])
    async with transaction() as session:
        await execute(session, store.LOCK_USER, {"owner_id": user_id})
        task = await fetch_first(session, store.READ, {"task_id": task_uuid, "owner_id": user_id})
        if task is None:
            raise await absent(session, user_id, task_uuid)
        list_id = _uuid_or_none(body["list_id"]) if "list_id" in body else task["list_id"]
        parent_id = task["parent_id"]
        if parent_id is not None and list_id != task["list_id"]:
            raise invalid([field_error("body", "list_id", store.SUBTASK_LIST)])
        siblings = {"owner_id": user_id, "list_id": list_id, "parent_id": parent_id}
        key = await ordering.place(session, ordering.task_group(list_id, parent_id), siblings, task_uuid, after)
        if key is None:
            raise invalid([field_error("body", "after", _NOT_A_SIBLING)])
        params = {"task_id": task_uuid, "owner_id": user_id, "new_list_id": list_id, "new_position": key}
        # A list that is not the caller's own fails the foreign key: a 400 (taskapi/tasks/store.py: write).
        row = await store.write(session, store.guarded(_MOVE_TASK, params, task_uuid, if_match()), params)
        if row is None:
            raise await absent(session, user_id, task_uuid)
    return task_response(row)


async def move_list(user_id: str, list_id: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    list_uuid, after = uuid.UUID(list_id), _uuid_or_none(body.get("after"))
    if after == list_uuid:
        raise invalid([field_error("body", "after", "is not another of your lists")])
    params = {"owner_id": user_id, "list_id": list_uuid}
    guarded = list_store.guard(params, list_uuid, if_match())
    async with transaction() as session:
        await execute(session, store.LOCK_USER, {"owner_id": user_id})
        if await fetch_first(session, list_store.READ, params) is None:
            raise await list_absent(session, user_id, list_uuid)
        key = await ordering.place(session, "lists", {"owner_id": user_id}, list_uuid, after)
        if key is None:
            raise invalid([field_error("body", "after", "is not another of your lists")])
        row = await fetch_first(session, list_store.update(("position",), guarded), {**params, "new_position": key})
        if row is None:
            raise await list_absent(session, user_id, list_uuid)
    return list_response(row)
