"""Handlers for /{user_id}/tasks, one per operationId (createTask → create_task): the request parsed, the operation
run (taskapi/tasks/operations.py), its task answered."""

import uuid

from connexion import request
from starlette.responses import Response

from taskapi.auth.tokens import require_owner
from taskapi.errors import invalid
from taskapi.tasks import idempotency, operations, tags
from taskapi.tasks.answers import private_json, task_response
from taskapi.tasks.etags import PRIVATE, Condition, etag, if_match
from taskapi.tasks.listing import LISTED_OTHERS, TaskListing
from taskapi.tasks.models import TaskCreate, TaskUpdate, public_tasks


def _quota() -> int:
    return request.state.settings.max_tasks_per_user


async def create_task(user_id: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    key = request.headers.get("idempotency-key")
    retry = operations.Retry(key, idempotency.request_hash(body)) if key is not None else None
    row = await operations.create(request.state.units, user_id, TaskCreate.from_body(body), _quota(), retry)
    return task_response(row, 201, {"Location": f"/api/{user_id}/tasks/{row['id']}"})


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
    rows, next_cursor = await operations.page(request.state.units, request.state.cursors, listing, cursor)
    return private_json({"items": public_tasks(rows, LISTED_OTHERS), "next_cursor": next_cursor})


async def get_task(user_id: str, id_: str, user: str) -> Response:
    require_owner(user_id, user)
    row = await operations.read(request.state.units, user_id, uuid.UUID(id_))
    header = request.headers.get("if-none-match")
    current = etag(row["id"], row["version"])
    if header is not None and Condition(header).matches(current):
        return Response(status_code=304, headers={"ETag": current, **PRIVATE})
    return task_response(row)


async def update_task(user_id: str, id_: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    change = TaskUpdate.from_body(body)
    return task_response(
        await operations.change(request.state.units, user_id, uuid.UUID(id_), change, if_match(), _quota())
    )


async def complete_task(user_id: str, id_: str, user: str, body: dict | None = None) -> Response:
    require_owner(user_id, user)
    completed = body["completed"] if body else None  # no body toggles
    return task_response(
        await operations.complete(request.state.units, user_id, uuid.UUID(id_), completed, if_match(), _quota())
    )


async def delete_task(user_id: str, id_: str, user: str) -> Response:
    require_owner(user_id, user)
    await operations.delete(request.state.units, user_id, uuid.UUID(id_), if_match())
    return Response(status_code=204)
