"""One operation of a batch: its envelope checked, the refs it names replaced by the ids they stand for, its body
validated against the contract's schema for the single operation and parsed as that operation's handler parses
it, and the same operation run (taskapi/tasks/operations.py) in the batch's transaction with the operation's own
If-Match. Every rule of the single operations therefore holds inside a batch."""

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from taskapi.contract import schemas
from taskapi.db.units import Enclosed
from taskapi.errors import field_error, invalid
from taskapi.http.validation import request_body_errors
from taskapi.tasks import move, operations
from taskapi.tasks.etags import Condition
from taskapi.tasks.models import TaskCreate, TaskUpdate
from taskapi.tasks.trash import restore

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
# Fields of a body that name a task, and may name it by a ref.
_TASK_FIELDS = ("parent_id", "after")


@dataclass(frozen=True)
class Step:
    """What one operation of the batch runs: the units (the batch's transaction), the user, its task's id (None for a
    create), its body (validated), its If-Match, and the account's quota."""

    units: Enclosed
    user_id: str
    task_id: uuid.UUID | None
    body: dict | None
    condition: Condition | None
    quota: int


@dataclass(frozen=True)
class Kind:
    """What an op takes (its body's schema in the contract; None: no body), the status it answers with, and the
    operation it runs (answering the task, or None for a delete)."""

    schema: str | None
    needs_id: bool
    run: Callable[[Step], Awaitable[dict | None]]
    status: int = 200
    body_required: bool = True


def _create(step: Step):
    return operations.create(step.units, step.user_id, TaskCreate.from_body(step.body), step.quota)


def _update(step: Step):
    change = TaskUpdate.from_body(step.body)
    return operations.change(step.units, step.user_id, step.task_id, change, step.condition, step.quota)


def _complete(step: Step):
    completed = step.body["completed"] if step.body else None  # no body toggles
    return operations.complete(step.units, step.user_id, step.task_id, completed, step.condition, step.quota)


def _delete(step: Step):
    return operations.delete(step.units, step.user_id, step.task_id, step.condition)


def _restore(step: Step):
    return restore.restore(step.units, step.user_id, step.task_id, step.quota)


def _optional_uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value is not None else None


def _move(step: Step):
    body = step.body
    list_id = _optional_uuid(body["list_id"]) if "list_id" in body else move.KEEP
    after = _optional_uuid(body.get("after"))
    return move.move(step.units, step.user_id, step.task_id, after, step.condition, list_id)


KINDS = {
    "create": Kind("TaskCreate", needs_id=False, run=_create, status=201),
    "update": Kind("TaskUpdate", needs_id=True, run=_update),
    "complete": Kind("TaskCompletion", needs_id=True, run=_complete, body_required=False),
    "delete": Kind(None, needs_id=True, run=_delete, status=204),
    "restore": Kind(None, needs_id=True, run=_restore),
    "move": Kind("TaskMove", needs_id=True, run=_move),
}


def _body_errors(name: str, body: dict, prefix: str) -> list[dict]:
    return [
        {**error, "field": f"{prefix}.{error['field']}" if error["field"] else prefix}
        for error in request_body_errors(schemas()[name], body)
    ]


def _resolved(value, refs: dict[str, str]):
    return refs.get(value, value) if isinstance(value, str) else value


def prepare(index: int, operation: dict, refs: dict[str, str]) -> tuple[Kind, str | None, dict]:
    """The operation's kind, task id and body, refs replaced; a 400 naming every problem of its envelope."""
    kind, at = KINDS[operation["op"]], f"operations.{index}"
    errors = []
    task_id = _resolved(operation.get("id"), refs)
    if kind.needs_id and task_id is None:
        errors.append(field_error("body", f"{at}.id", f"is required for {operation['op']}"))
    elif not kind.needs_id and task_id is not None:
        errors.append(field_error("body", f"{at}.id", "must be left out of a create (the server makes the id)"))
    elif task_id is not None and not _UUID.match(task_id):
        errors.append(field_error("body", f"{at}.id", "is neither a task id (a UUID) nor the ref of an earlier create"))
    if "ref" in operation and operation["op"] != "create":
        errors.append(field_error("body", f"{at}.ref", "names a task a create makes: only a create takes one"))
    elif operation.get("ref") in refs:
        errors.append(field_error("body", f"{at}.ref", "is taken by an earlier create of this batch"))
    body = operation.get("body")
    if kind.schema is None and body is not None:
        errors.append(field_error("body", f"{at}.body", f"must be left out of a {operation['op']}"))
    elif kind.schema is not None and body is None and kind.body_required:
        errors.append(field_error("body", f"{at}.body", f"is required for {operation['op']}"))
    elif body is not None:
        body = {name: _resolved(value, refs) if name in _TASK_FIELDS else value for name, value in body.items()}
        errors += _body_errors(kind.schema, body, f"{at}.body")
    if errors:
        raise invalid(errors)
    return kind, task_id, body
