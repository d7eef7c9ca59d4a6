"""Handlers for /{user_id}/tasks, one per operationId (createTask → create_task)."""

import uuid

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from taskapi.auth import require_owner
from taskapi.db import transaction
from taskapi.models import Task, TaskCreate, TaskPublic, TaskUpdate
from taskapi.problems import Problem

JSON = "application/json"


def _task_response(task: Task, status: int = 200, headers: dict | None = None) -> Response:
    body = TaskPublic.model_validate(task).model_dump_json()
    return Response(body, status_code=status, media_type=JSON, headers=headers)


def _completed_at(completed: bool | sa.ColumnElement) -> sa.ColumnElement | None:
    """Stamped when a task becomes done, kept while it stays done, cleared when it is reopened."""
    stamped = sa.func.coalesce(Task.completed_at, sa.func.now())
    if isinstance(completed, bool):
        return stamped if completed else None
    return sa.case((completed, stamped), else_=None)


async def _absent(session: AsyncSession, task_id: uuid.UUID) -> Problem:
    """Why the caller's task with this id was not found: someone else's (403) or nobody's (404)."""
    owner = await session.scalar(sa.select(Task.user_id).where(Task.id == task_id))
    if owner is not None:
        return Problem(403, f"Task {task_id} belongs to another user; you can only reach your own tasks.")
    return Problem(404, f"No task with id {task_id} exists; it may have been deleted.")


async def _change(user_id: str, task_id: str, values: dict) -> Response:
    task_uuid = uuid.UUID(task_id)
    statement = (
        sa.update(Task)
        .where(Task.id == task_uuid, Task.user_id == user_id)
        .values(**values, updated_at=sa.func.now())
        .returning(Task)
    )
    async with transaction() as session:
        task = (await session.exec(statement)).scalar_one_or_none()
        if task is None:
            raise await _absent(session, task_uuid)
    return _task_response(task)


async def create_task(user_id: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    new = TaskCreate.model_validate(body)
    statement = (
        sa.insert(Task)
        .values(
            user_id=user_id,
            title=new.title,
            description=new.description,
            completed=new.completed,
            completed_at=sa.func.now() if new.completed else None,
        )
        .returning(Task)
    )
    async with transaction() as session:
        task = (await session.exec(statement)).scalar_one()
    return _task_response(task, 201, {"Location": f"/api/{user_id}/tasks/{task.id}"})


async def list_tasks(user_id: str, user: str) -> Response:
    require_owner(user_id, user)
    statement = sa.select(Task).where(Task.user_id == user_id).order_by(Task.created_at.desc(), Task.id.desc())
    async with transaction() as session:
        tasks = (await session.exec(statement)).scalars().all()
    items = ",".join(TaskPublic.model_validate(task).model_dump_json() for task in tasks)
    return Response(f'{{"items":[{items}],"next_cursor":null}}', media_type=JSON)


async def get_task(user_id: str, id_: str, user: str) -> Response:
    require_owner(user_id, user)
    task_uuid = uuid.UUID(id_)
    async with transaction() as session:
        task = await session.scalar(sa.select(Task).where(Task.id == task_uuid, Task.user_id == user_id))
        if task is None:
            raise await _absent(session, task_uuid)
    return _task_response(task)


async def update_task(user_id: str, id_: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    values = TaskUpdate.model_validate(body).model_dump(exclude_unset=True)
    if "completed" in values:
        values["completed_at"] = _completed_at(values["completed"])
    return await _change(user_id, id_, values)


async def complete_task(user_id: str, id_: str, user: str, body: dict | None = None) -> Response:
    require_owner(user_id, user)
    # No body toggles: the SET clause reads the row's old value, so this is one atomic statement.
    completed = body["completed"] if body else sa.not_(Task.completed)
    return await _change(user_id, id_, {"completed": completed, "completed_at": _completed_at(completed)})


async def delete_task(user_id: str, id_: str, user: str) -> Response:
    require_owner(user_id, user)
    task_uuid = uuid.UUID(id_)
    async with transaction() as session:
        deleted = await session.scalar(
            sa.delete(Task).where(Task.id == task_uuid, Task.user_id == user_id).returning(Task.id)
        )
        if deleted is None:
            raise await _absent(session, task_uuid)
    return Response(status_code=204)
