"""What the operations answer: a task with its ETag, a page or feed as private JSON, someone else's task's 403,
or the quota's 409."""

from starlette.responses import Response

from taskapi.http.problems import Problem
from taskapi.tasks.etags import PRIVATE, etag
from taskapi.tasks.models import public_task, to_json

JSON = "application/json"


def task_response(row, status: int = 200, headers: dict | None = None) -> Response:
    headers = {"ETag": etag(row["id"], row["version"]), **PRIVATE, **(headers or {})}
    return Response(to_json(public_task(row)), status_code=status, media_type=JSON, headers=headers)


def private_json(body) -> Response:
    """A JSON body meant for its user only (pages of tasks, the trash, the feed)."""
    return Response(to_json(body), media_type=JSON, headers=PRIVATE)


def over_quota(quota: int) -> Problem:
    return Problem(
        409,
        f"You already have {quota} tasks, the most an account may hold; delete some before creating more.",
        kind="task-quota-exceeded",
        extra={"limit": quota},
    )


def not_yours(task_id) -> Problem:
    return Problem(403, f"Task {task_id} belongs to another user; you can only reach your own tasks.")
