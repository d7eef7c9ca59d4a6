"""One operation of a batch: its envelope checked, the refs it names replaced by the ids they stand for, its body
validated against the contract's schema for the single operation, and the single operation's handler run with
the operation's own If-Match. Every rule of the single operations therefore holds inside a batch."""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
import yaml
from connexion.json_schema import resolve_refs
from starlette.responses import Response

from taskapi.http.operation_headers import given_headers
from taskapi.http.problems import field_error, invalid
from taskapi.http.validation import request_body_errors
from taskapi.lists import moves
from taskapi.sync import trash
from taskapi.tasks import handlers

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
# Fields of a body that name a task, and may name it by a ref.
_TASK_FIELDS = ("parent_id", "after")


@dataclass(frozen=True)
class Kind:
    """What an op takes (its body's schema in the contract; None: no body), and the single operation it runs."""

    schema: str | None
    needs_id: bool
    run: Callable[..., Awaitable[Response]]
    body_required: bool = True


def _create(user_id, user, task_id, body):
    return handlers.create_task(user_id, body, user)


def _update(user_id, user, task_id, body):
    return handlers.update_task(user_id, task_id, body, user)


def _complete(user_id, user, task_id, body):
    return handlers.complete_task(user_id, task_id, user, body)


def _delete(user_id, user, task_id, body):
    return handlers.delete_task(user_id, task_id, user)


def _restore(user_id, user, task_id, body):
    return trash.restore_task(user_id, task_id, user)


def _move(user_id, user, task_id, body):
    return moves.move_task(user_id, task_id, body, user)


KINDS = {
    "create": Kind("TaskCreate", needs_id=False, run=_create),
    "update": Kind("TaskUpdate", needs_id=True, run=_update),
    "complete": Kind("TaskCompletion", needs_id=True, run=_complete, body_required=False),
    "delete": Kind(None, needs_id=True, run=_delete),
    "restore": Kind(None, needs_id=True, run=_restore),
    "move": Kind("TaskMove", needs_id=True, run=_move),
}


class Schemas:
    """The contract's request schemas, $refs resolved, as the single operations' validation sees them."""

    def __init__(self, spec_path) -> None:
        self._schemas = resolve_refs(yaml.safe_load(spec_path.read_text()))["components"]["schemas"]

    def errors(self, name: str, body: dict, prefix: str) -> list[dict]:
        return [
            {**error, "field": f"{prefix}.{error['field']}" if error["field"] else prefix}
            for error in request_body_errors(self._schemas[name], body)
        ]


def _resolved(value, refs: dict[str, str]):
    return refs.get(value, value) if isinstance(value, str) else value


def prepare(index: int, operation: dict, refs: dict[str, str], schemas: Schemas) -> tuple[Kind, str | None, dict]:
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
        errors += schemas.errors(kind.schema, body, f"{at}.body")
    if errors:
        raise invalid(errors)
    return kind, task_id, body


async def apply(kind: Kind, user_id: str, user: str, task_id: str | None, body, if_match: str | None):
    """Run the single operation; its status and its task (None when it answers without one)."""
    with given_headers({"if-match": if_match} if if_match is not None else {}):
        response = await kind.run(user_id, user, task_id, body)
    return response.status_code, orjson.loads(response.body) if response.body else None
