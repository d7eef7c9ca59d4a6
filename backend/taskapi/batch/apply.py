"""A batch's operations applied in order, in the caller's transaction, all or nothing (taskapi/batch/operations.py
prepares and runs each one): for POST /{user_id}/batch and MCP's batch tool alike."""

import uuid

import sqlalchemy as sa

from taskapi.batch.operations import Step, prepare
from taskapi.db.session import Work
from taskapi.db.statements import execute, fetch_all
from taskapi.db.units import Enclosed
from taskapi.errors import DomainError
from taskapi.tables.tasks import PUBLIC_COLUMNS, TASKS
from taskapi.tasks import store
from taskapi.tasks.etags import Condition, etag
from taskapi.tasks.operations import as_json

# The tasks the batch answered with, as the whole batch left them.
_AS_LEFT = sa.select(*PUBLIC_COLUMNS).where(
    TASKS.c.user_id == sa.bindparam("owner_id"),
    TASKS.c.id == sa.any_(sa.bindparam("ids", type_=sa.ARRAY(sa.Uuid))),
)


def _in_operation(problem: DomainError, index: int, op: str) -> DomainError:
    """The operation's own problem (its status and type), saying which operation it was and that nothing of the
    batch was applied."""
    ext = dict(problem.ext or {})
    if "errors" in ext:
        prefix = f"operations.{index}.body."
        ext["errors"] = [
            error if error["field"].startswith("operations.") else {**error, "field": prefix + error["field"]}
            for error in ext["errors"]
        ]
    problem.ext = {**ext, "operation": index}
    problem.detail = f"Operation {index} ({op}): {problem.detail.rstrip('.')}. Nothing in the batch was applied."
    return problem


async def apply_all(session: Work, user_id: str, operations: list[dict], quota: int) -> dict:
    """Every operation in `session`'s transaction: the answer ({results, refs}), or the first operation's refusal."""
    # Taken first and held to the end: the batch's reads and writes see no other write of this user.
    await execute(session, store.LOCK_USER, {"owner_id": user_id})
    results, refs, units = [], {}, Enclosed(session)
    for index, operation in enumerate(operations):
        condition = Condition(operation["if_match"]) if operation.get("if_match") is not None else None
        try:
            kind, task_id, op_body = prepare(index, operation, refs)
            task_uuid = uuid.UUID(task_id) if task_id is not None else None
            row = await kind.run(Step(units, user_id, task_uuid, op_body, condition, quota))
        except DomainError as problem:
            raise _in_operation(problem, index, operation["op"]) from None
        task = as_json(row) if row is not None else None
        if "ref" in operation:
            refs[operation["ref"]] = task["id"]
        results.append({"status": kind.status, "task": task})
    return {"results": await _as_left(session, user_id, results), "refs": refs}


async def _as_left(session, user_id: str, results: list[dict]) -> list[dict]:
    """Each result's task as the whole batch left it (a later operation may have changed it, or its subtasks'
    counts), with its ETag; a task the batch deleted afterwards keeps the answer its operation gave."""
    ids = list({result["task"]["id"] for result in results if result["task"] is not None})
    rows = await fetch_all(session, _AS_LEFT, {"owner_id": user_id, "ids": ids}) if ids else []
    left = {str(row["id"]): row for row in rows}
    answered = []
    for result in results:
        task = result["task"]
        row = left.get(task["id"]) if task is not None else None
        if row is not None:
            task = as_json(row)
            result = {**result, "task": task, "etag": etag(row["id"], row["version"])}
        answered.append({"etag": None, **result})
    return answered
