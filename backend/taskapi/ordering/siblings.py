"""Moves: a task placed after a sibling (or first) in its list or another, a list placed among the user's lists.
A move rewrites one row; the siblings are rebalanced, in one statement, only when the key the move needs would be
longer than positions.MAX_LENGTH (taskapi/ordering/positions.py).

Every move runs under the user's lock (taskapi/tasks/store.py: LOCK_USER), which every write of the user's
tasks and lists takes: the neighbours it reads stay its neighbours until it commits, so two moves "after X" at
once take two different keys, and the unique constraints on positions (migration 0012) stay a safety net.
"""

import functools
import uuid

import sqlalchemy as sa

from taskapi.db.session import Work
from taskapi.db.statements import execute, fetch_first
from taskapi.ordering import positions
from taskapi.tables.lists import LISTS
from taskapi.tables.tasks import TASKS

OWNER = sa.bindparam("owner_id")
_TOP_LEVEL = TASKS.c.parent_id.is_(None)
# Named apart from the columns: an UPDATE (the rebalance) may not bind a parameter named as a column it sets.
_IN_LIST = TASKS.c.list_id == sa.bindparam("siblings_list_id", type_=sa.Uuid)
_OF_PARENT = TASKS.c.parent_id == sa.bindparam("siblings_parent_id", type_=sa.Uuid)
# Siblings: one list's top-level tasks, the Inbox's, one task's subtasks, or a user's lists.
_GROUPS = {
    "list": (TASKS, (TASKS.c.user_id == OWNER, _IN_LIST, _TOP_LEVEL)),
    "inbox": (TASKS, (TASKS.c.user_id == OWNER, TASKS.c.list_id.is_(None), _TOP_LEVEL)),
    "subtasks": (TASKS, (TASKS.c.user_id == OWNER, _OF_PARENT)),
    "lists": (LISTS, (LISTS.c.user_id == OWNER,)),
}


def _siblings(params: dict) -> dict:
    """The parameters that name a group's siblings: the owner, and the list or the parent it is given."""
    return {
        "owner_id": params["owner_id"],
        "siblings_list_id": params.get("list_id"),
        "siblings_parent_id": params.get("parent_id"),
    }


# The id a task not made yet moves as: none of its siblings.
NEW = uuid.UUID(int=0)


def task_group(list_id: uuid.UUID | None, parent_id: uuid.UUID | None = None) -> str:
    if parent_id is not None:
        return "subtasks"
    return "inbox" if list_id is None else "list"


@functools.lru_cache(maxsize=4)
def _last(group: str) -> sa.Select:
    table, conditions = _GROUPS[group]
    return sa.select(table.c.id).where(*conditions).order_by(table.c.position.desc()).limit(1)


async def last(session: Work, group: str, params: dict) -> str:
    """The key that puts a new member last among the group's siblings."""
    found = await fetch_first(session, _last(group), _siblings(params))
    key = await place(session, group, params, NEW, found["id"] if found else None)
    assert key is not None  # the last sibling, just read under the user's lock, is one
    return key


@functools.lru_cache(maxsize=16)
def _next(group: str, after: bool) -> sa.Select:
    """The first sibling's key after a position (or the first of all), the moving row left out."""
    table, conditions = _GROUPS[group]
    where = [*conditions, table.c.id != sa.bindparam("moving_id", type_=sa.Uuid)]
    if after:
        where.append(table.c.position > sa.bindparam("after_position", type_=table.c.position.type))
    return sa.select(table.c.position).where(*where).order_by(table.c.position).limit(1)


@functools.lru_cache(maxsize=16)
def _position_of(group: str) -> sa.Select:
    table, conditions = _GROUPS[group]
    return sa.select(table.c.position).where(*conditions, table.c.id == sa.bindparam("after_id", type_=sa.Uuid))


@functools.lru_cache(maxsize=16)
def _rebalance(group: str) -> sa.Update:
    """Every sibling to a short key, in their order ('a0', 'a1', … 'az', 'b00', …: the database's
    position_key, as fractional_indexing.generate_n_keys_between makes them). Their version is bumped: their
    answers change."""
    table, conditions = _GROUPS[group]
    numbered = (
        sa.select(table.c.id, sa.func.row_number().over(order_by=table.c.position).label("n"))
        .where(*conditions)
        .subquery("numbered")
    )
    return (
        sa.update(table)
        .where(table.c.id == numbered.c.id)
        .values(position=sa.func.position_key(numbered.c.n - 1), version=table.c.version + 1)
    )


async def place(
    session: Work, group: str, params: dict, moving_id: uuid.UUID, after_id: uuid.UUID | None
) -> str | None:
    """The key that puts `moving_id` right after `after_id` (None: first) among the group's siblings (`params`
    names the owner and the list); None if `after_id` is not one of them."""
    siblings = _siblings(params)
    params = {**siblings, "moving_id": moving_id, "after_id": after_id}
    for _ in range(2):
        after_position = None
        if after_id is not None:
            found = await fetch_first(session, _position_of(group), params)
            if found is None:
                return None
            after_position = found["position"]
        following = await fetch_first(
            session, _next(group, after_id is not None), {**params, "after_position": after_position}
        )
        key = positions.between(after_position, following["position"] if following else None)
        if key is not None:
            return key
        await execute(session, _rebalance(group), siblings)
    raise AssertionError("a rebalanced list always has room between two neighbours")
