"""Moving a task: manual order among its siblings, and to another list (taskapi/ordering/siblings.py keys the order;
taskapi/tasks/operations.py: the door every caller uses)."""

import uuid

from taskapi.db.statements import execute, fetch_first
from taskapi.db.units import AnyUnits
from taskapi.errors import field_error, invalid
from taskapi.ordering import siblings
from taskapi.tasks import store
from taskapi.tasks.answers import absent
from taskapi.tasks.etags import Condition

_MOVE = store.update((("list_id", None), ("position", None)))
_NOT_A_SIBLING = "is not a sibling where the task goes: a top-level task of that list, or a subtask of its parent"


class Unset:
    """A field left out (a move that keeps the task's list)."""


KEEP = Unset()


async def move(
    units: AnyUnits,
    user_id: str,
    task_uuid: uuid.UUID,
    after: uuid.UUID | None,
    condition: Condition | None,
    list_id: uuid.UUID | Unset | None = KEEP,
):
    """Manual order: the task placed right after `after` among its siblings (first if None), in `list_id`'s list
    (None: the inbox; KEEP: its own)."""
    if after == task_uuid:
        raise invalid([field_error("body", "after", _NOT_A_SIBLING)])
    async with units.transaction() as session:
        await execute(session, store.LOCK_USER, {"owner_id": user_id})
        task = await fetch_first(session, store.READ, {"task_id": task_uuid, "owner_id": user_id})
        if task is None:
            raise await absent(session, user_id, task_uuid)
        list_id = task["list_id"] if isinstance(list_id, Unset) else list_id
        parent_id = task["parent_id"]
        if parent_id is not None and list_id != task["list_id"]:
            raise invalid([field_error("body", "list_id", store.SUBTASK_LIST)])
        group = {"owner_id": user_id, "list_id": list_id, "parent_id": parent_id}
        key = await siblings.place(session, siblings.task_group(list_id, parent_id), group, task_uuid, after)
        if key is None:
            raise invalid([field_error("body", "after", _NOT_A_SIBLING)])
        params = {"task_id": task_uuid, "owner_id": user_id, "new_list_id": list_id, "new_position": key}
        # A list that is not the caller's own fails the foreign key: a 400 (taskapi/tasks/store.py: write).
        row = await store.write(session, store.guarded(_MOVE, params, task_uuid, condition), params)
        if row is None:
            raise await absent(session, user_id, task_uuid)
        return row
