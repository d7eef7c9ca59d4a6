"""POST /{user_id}/batch: up to 100 task operations applied in order, in one transaction, all or nothing; an
offline client's queue sent as one request (taskapi/batch/operations.py runs each one)."""

import functools

import orjson
import sqlalchemy as sa
from connexion import request
from connexion.exceptions import ProblemException
from starlette.responses import Response

from taskapi.app import SPEC_PATH
from taskapi.auth.tokens import require_owner
from taskapi.batch.operations import Schemas, apply, prepare
from taskapi.db.session import enclosed_in, transaction
from taskapi.db.statements import execute, fetch_all
from taskapi.http.ratelimit import count_more
from taskapi.tasks import idempotency, store
from taskapi.tasks.answers import private_json
from taskapi.tasks.etags import etag
from taskapi.tasks.models import PUBLIC_COLUMNS, TASKS, public_task, to_json

# The contract's schemas, resolved on the first batch rather than at every worker's start.
_schemas = functools.cache(lambda: Schemas(SPEC_PATH))
# The tasks the batch answered with, as the whole batch left them.
_AS_LEFT = sa.select(*PUBLIC_COLUMNS).where(
    TASKS.c.user_id == sa.bindparam("owner_id"),
    TASKS.c.id == sa.any_(sa.bindparam("ids", type_=sa.ARRAY(sa.Uuid))),
)


def _in_operation(problem: ProblemException, index: int, op: str) -> ProblemException:
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


async def apply_batch(user_id: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    operations = body["operations"]
    count_more(request.scope.get("state", {}), request.state.settings, user_id, len(operations) - 1)
    key = request.headers.get("idempotency-key")
    async with transaction() as session:
        if key is not None:
            replay = await idempotency.claim(session, user_id, key, idempotency.request_hash(body))
            if replay is not None:
                return private_json(replay)
        # Taken first and held to the end: the batch's reads and writes see no other write of this user.
        await execute(session, store.LOCK_USER, {"owner_id": user_id})
        results, refs = [], {}
        with enclosed_in(session):
            for index, operation in enumerate(operations):
                try:
                    kind, task_id, op_body = prepare(index, operation, refs, _schemas())
                    status, task = await apply(kind, user_id, user, task_id, op_body, operation.get("if_match"))
                except ProblemException as problem:
                    raise _in_operation(problem, index, operation["op"]) from None
                if "ref" in operation:
                    refs[operation["ref"]] = task["id"]
                results.append({"status": status, "task": task})
        answer = {"results": await _as_left(session, user_id, results), "refs": refs}
        if key is not None:
            await idempotency.remember(session, user_id, key, answer)
    return private_json(answer)


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
            task = orjson.loads(to_json(public_task(row)))
            result = {**result, "task": task, "etag": etag(row["id"], row["version"])}
        answered.append({"etag": None, **result})
    return answered
