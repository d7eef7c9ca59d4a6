"""The MCP tools: each one a task operation (taskapi/tasks/operations.py, the same door as the REST API), its input
schema taken from the contract's own schemas (openapi/openapi.yaml), and a description written for a model. No tool
takes a user id: the user is always the token's subject (taskapi/mcp/endpoint.py)."""

import functools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from taskapi.batch.apply import apply_all
from taskapi.contract import query_parameters, schemas
from taskapi.db.units import Units
from taskapi.errors import DomainError, field_error, invalid
from taskapi.http.ratelimit import count_more
from taskapi.tasks import move, operations, tags
from taskapi.tasks.cursors import CursorCodec
from taskapi.tasks.etags import Condition, etag
from taskapi.tasks.listing import TaskListing
from taskapi.tasks.models import TaskCreate, TaskUpdate
from taskapi.tasks.operations import as_json
from taskapi.tasks.trash import restore


@dataclass(frozen=True)
class Caller:
    """Who calls (from the token) and what their request brought: its units of work, settings and cursor keys."""

    user_id: str
    units: Units
    state: dict

    @property
    def quota(self) -> int:
        return self.state["settings"].max_tasks_per_user

    @property
    def cursors(self) -> CursorCodec:
        return self.state["cursors"]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    schema: dict  # the arguments, as the contract writes schemas (OpenAPI 3.0)
    run: Callable[[Caller, dict], Awaitable[dict]]
    read_only: bool = False
    destructive: bool = False


def _task(row) -> dict:
    """A task as a tool answers it: its public fields and the ETag to send back with a change."""
    return {**as_json(row), "etag": etag(row["id"], row["version"])}


def _id(arguments: dict) -> uuid.UUID:
    return uuid.UUID(arguments["id"])


def _condition(arguments: dict) -> Condition | None:
    return Condition(arguments["etag"]) if arguments.get("etag") else None


def _object(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "additionalProperties": False, "properties": properties, "required": list(required)}


_ID = {"type": "string", "format": "uuid", "description": "The task's id, as list_tasks or get_task gave it."}
_ETAG = {
    "type": "string",
    "maxLength": 1000,
    "description": "The task's etag as you last read it: the change is refused if the task changed since. "
    "Leave it out only if you did not read the task first.",
}
_LISTING = ("status", "q", "tag", "priority", "due_before", "due_after", "list_id", "sort", "limit", "cursor")


async def _list(caller: Caller, arguments: dict) -> dict:
    wanted, errors = tags.normalise(arguments.get("tag", []), "body", "tag")
    if errors:
        raise invalid(errors)
    values = {name: arguments[name] for name in _LISTING if name in arguments and name not in ("tag", "cursor")}
    listing = TaskListing(user_id=caller.user_id, tags=tuple(wanted), **{"limit": 20, **values})
    rows, cursor = await operations.page(caller.units, caller.cursors, listing, arguments.get("cursor"))
    return {"tasks": [_task(row) for row in rows], "next_cursor": cursor}


async def _get(caller: Caller, arguments: dict) -> dict:
    return {"task": _task(await operations.read(caller.units, caller.user_id, _id(arguments)))}


async def _add(caller: Caller, arguments: dict) -> dict:
    new = TaskCreate.from_body(arguments)
    return {"created": _task(await operations.create(caller.units, caller.user_id, new, caller.quota))}


async def _update(caller: Caller, arguments: dict) -> dict:
    fields = {name: value for name, value in arguments.items() if name not in ("id", "etag")}
    if not fields:
        raise invalid([field_error("body", "id", "comes with no field to change: name at least one")])
    change = TaskUpdate.from_body(fields)
    row = await operations.change(
        caller.units, caller.user_id, _id(arguments), change, _condition(arguments), caller.quota
    )
    return {"updated": _task(row)}


async def _complete(caller: Caller, arguments: dict) -> dict:
    completed = arguments.get("completed", True)
    row = await operations.complete(
        caller.units, caller.user_id, _id(arguments), completed, _condition(arguments), caller.quota
    )
    return {"completed" if completed else "reopened": _task(row)}


async def _delete(caller: Caller, arguments: dict) -> dict:
    await operations.delete(caller.units, caller.user_id, _id(arguments), _condition(arguments))
    days = caller.state["settings"].trash_retention_days
    return {
        "deleted": arguments["id"],
        "undo": f"The task and its subtasks are in the trash for {days} days: restore_task with this id undoes it.",
    }


async def _restore(caller: Caller, arguments: dict) -> dict:
    return {"restored": _task(await restore.restore(caller.units, caller.user_id, _id(arguments), caller.quota))}


async def _move(caller: Caller, arguments: dict) -> dict:
    after = uuid.UUID(arguments["after"]) if arguments.get("after") else None
    list_id = arguments.get("list_id", move.KEEP)
    list_id = uuid.UUID(list_id) if isinstance(list_id, str) else list_id
    row = await move.move(caller.units, caller.user_id, _id(arguments), after, _condition(arguments), list_id)
    return {"moved": _task(row)}


async def _batch(caller: Caller, arguments: dict) -> dict:
    operations_ = arguments["operations"]
    count_more(caller.state, caller.user_id, len(operations_) - 1)
    async with caller.units.transaction() as session:
        return await apply_all(session, caller.user_id, operations_, caller.quota)


def _tools() -> list[Tool]:
    contract, listing = schemas(), query_parameters("listTasks")
    task_fields = contract["TaskUpdate"]["properties"]
    return [
        Tool(
            "list_tasks",
            "List the user's tasks, newest first unless `sort` says otherwise; filters combine with AND. `status`: "
            "all, pending (not done) or completed. `q` finds words in titles and descriptions. Overdue tasks: "
            "status=pending with due_before set to now. Pages of `limit` (20): pass `next_cursor` back as `cursor` "
            "for the next page, with the same filters.",
            _object({name: listing[name] for name in _LISTING}),
            _list,
            read_only=True,
        ),
        Tool("get_task", "Read one task, with its etag.", _object({"id": _ID}, ("id",)), _get, read_only=True),
        Tool(
            "add_task",
            "Create a task for the user. Only `title` is required. `due_at` and `remind_at` are RFC 3339 instants "
            "with an offset (work out 'tomorrow 5pm' in the user's time zone first); `recurrence` repeats it.",
            contract["TaskCreate"],
            _add,
        ),
        Tool(
            "update_task",
            "Change some fields of a task; fields left out stay as they are, null clears one. Send the `etag` you "
            "read it with: if the task changed since, nothing is changed and you must read it again.",
            _object({"id": _ID, "etag": _ETAG, **task_fields}, ("id",)),
            _update,
        ),
        Tool(
            "complete_task",
            "Mark a task done (or not done, with completed=false). Completing a recurring task creates its next "
            "occurrence; completing a task completes its open subtasks.",
            _object({"id": _ID, "etag": _ETAG, "completed": {"type": "boolean", "default": True}}, ("id",)),
            _complete,
        ),
        Tool(
            "delete_task",
            "Delete a task (and its subtasks): it goes to the trash, and restore_task undoes it.",
            _object({"id": _ID, "etag": _ETAG}, ("id",)),
            _delete,
            destructive=True,
        ),
        Tool(
            "restore_task",
            "Bring a deleted task back from the trash, with the subtasks deleted with it.",
            _object({"id": _ID}, ("id",)),
            _restore,
        ),
        Tool(
            "move_task",
            "Put a task right after another (`after`; null: first) among its siblings, optionally into another "
            "list (`list_id`; null: the inbox).",
            _object({"id": _ID, "etag": _ETAG, **contract["TaskMove"]["properties"]}, ("id",)),
            _move,
        ),
        Tool(
            "batch_tasks",
            "Several changes at once, in order, all or nothing: each operation is create, update, complete, "
            "delete, restore or move, with the same fields as the single tools (`body`), the task's `id` and its "
            "`if_match` etag. A create's `ref` names its new task for later operations' `id`.",
            contract["BatchRequest"],
            _batch,
        ),
    ]


@functools.cache
def tools() -> dict[str, Tool]:
    """Built on first use, from the contract."""
    return {tool.name: tool for tool in _tools()}


def refused(problem: DomainError) -> str:
    """A refusal as a model should read it: what went wrong and what to do, field by field."""
    lines = [problem.detail]
    for error in (problem.ext or {}).get("errors", []):
        lines.append(f"- {error['field']}: {error['message']}")
    return "\n".join(lines)
