"""What the operations answer: a task with its ETag, a page or feed as private JSON, someone else's task's 403,
the quota's 409, and why a write changed nothing (403, 404 or 412)."""

import uuid

from starlette.responses import Response

from taskapi.db.session import Work
from taskapi.errors import Conflict, DomainError, NotFound, NotYours, Stale
from taskapi.tasks.etags import PRIVATE, etag
from taskapi.tasks.models import public_task, to_json
from taskapi.tasks.trash import trashing

JSON = "application/json"


def task_response(row, status: int = 200, headers: dict | None = None) -> Response:
    headers = {"ETag": etag(row["id"], row["version"]), **PRIVATE, **(headers or {})}
    return Response(to_json(public_task(row)), status_code=status, media_type=JSON, headers=headers)


def private_json(body) -> Response:
    """A JSON body meant for its user only (pages of tasks, the trash, the feed)."""
    return Response(to_json(body), media_type=JSON, headers=PRIVATE)


def over_quota(quota: int) -> Conflict:
    return Conflict(
        f"You already have {quota} tasks, the most an account may hold; delete some before creating more.",
        kind="task-quota-exceeded",
        extra={"limit": quota},
    )


def not_yours(thing_id, kind: str = "task") -> NotYours:
    return NotYours(f"{kind.capitalize()} {thing_id} belongs to another user; you can only reach your own {kind}s.")


def explain_absence(found, user_id: str, thing_id: uuid.UUID, kind: str, restore_path: str) -> DomainError:
    """Why the caller's task or list (`kind`) was not found or changed, from `found` (owner, trashed?, version;
    None if it is nowhere): someone else's (403, in the trash or not), nobody's (404), in the caller's trash (404,
    saying how to restore it), or changed since the client read it (412)."""
    if found is None:
        return NotFound(f"No {kind} with id {thing_id} exists; it may have been deleted.")
    if found["user_id"] != user_id:
        return not_yours(thing_id, kind)
    if found["trashed"]:
        return NotFound(f"{kind.capitalize()} {thing_id} is in your trash: restore it (POST {restore_path}) to use it.")
    return Stale(
        f"The {kind} has changed since you read it (its ETag is now {etag(thing_id, found['version'])}); "
        "read it again and retry.",
    )


async def absent(session: Work, user_id: str, task_id: uuid.UUID) -> DomainError:
    """Why the caller's task was not found or changed (explain_absence)."""
    found = await trashing.whose(session, task_id)
    return explain_absence(found, user_id, task_id, "task", f"/{user_id}/trash/{task_id}/restore")
