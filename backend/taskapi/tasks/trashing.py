"""How tasks move into the trash and out of it: each move one statement, so a task is never in two places at once,
nor in none."""

import functools
import uuid

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from taskapi.tasks import store
from taskapi.tasks.models import (
    CHANGED_COLUMNS,
    DESTROYED_TASKS,
    MOVED_COLUMNS,
    TASK_COUNTS,
    TASKS,
    TRASHED_TASKS,
)

_THIS_TRASHED_TASK = (
    TRASHED_TASKS.c.id == sa.bindparam("task_id", type_=sa.Uuid),
    TRASHED_TASKS.c.user_id == sa.bindparam("owner_id"),
)


@functools.lru_cache(maxsize=16)
def moving_to_trash(delete: sa.Delete) -> sa.Insert:
    """The DELETE of live tasks made a move: in one statement, each row it deletes goes into the trash as it was
    (a data-modifying CTE), so a task is never in both places, nor in neither."""
    gone = delete.returning(*(TASKS.c[name] for name in MOVED_COLUMNS)).cte("gone")
    return sa.insert(TRASHED_TASKS).from_select(MOVED_COLUMNS, sa.select(*gone.c)).returning(TRASHED_TASKS.c.id)


# Back from the trash, in one statement, while the user holds fewer live tasks than the quota: the condition is
# on the DELETE itself, since a data-modifying CTE runs whether or not the INSERT that reads it inserts anything.
# The counter row is locked as a create locks it (taskapi/tasks/store.py: insert).
_HELD = sa.select(TASK_COUNTS.c.live).where(TASK_COUNTS.c.user_id == sa.bindparam("owner_id")).with_for_update()


def _restoring(place: str) -> sa.Insert:
    """The restore that puts the task back at its own position (`back`), first in its list (`top`), or first in
    the Inbox (`inbox`)."""
    back = (
        sa.delete(TRASHED_TASKS)
        .where(*_THIS_TRASHED_TASK, sa.func.coalesce(_HELD.scalar_subquery(), 0) < sa.bindparam("quota"))
        .returning(*(TRASHED_TASKS.c[name] for name in MOVED_COLUMNS))
        .cte("back")
    )
    overrides = {
        "back": {},
        "top": {"position": store.top_of(True, sa.bindparam("owner_id"), back.c.list_id)},
        "inbox": {"list_id": sa.null(), "position": store.top_of(False, sa.bindparam("owner_id"), None)},
    }[place]
    columns = [overrides.get(name, back.c[name]) for name in MOVED_COLUMNS]
    return sa.insert(TASKS).from_select(MOVED_COLUMNS, sa.select(*columns)).returning(*CHANGED_COLUMNS)


RESTORE = {place: _restoring(place) for place in ("back", "top", "inbox")}
# Where a trashed task can go back: its position, unless a task holds it now (then first in its list, or in the
# Inbox); its list, unless deleted since (then first in the Inbox).
PLACE = sa.text("""
SELECT CASE
  WHEN t.list_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM task_lists l WHERE l.id = t.list_id) THEN 'inbox'
  WHEN NOT EXISTS (SELECT 1 FROM tasks s WHERE s.user_id = t.user_id AND s.list_id IS NOT DISTINCT FROM t.list_id
                   AND s.position = t.position) THEN 'back'
  WHEN t.list_id IS NULL THEN 'inbox'
  ELSE 'top' END AS place
FROM trashed_tasks t WHERE t.id = :task_id AND t.user_id = :owner_id
""")
LIVE = sa.select(*CHANGED_COLUMNS).where(TASKS.c.id == sa.bindparam("task_id", type_=sa.Uuid))
_WHOSE = sa.union_all(
    sa.select(TASKS.c.user_id, sa.literal(False).label("trashed"), TASKS.c.version).where(
        TASKS.c.id == sa.bindparam("task_id")
    ),
    sa.select(TRASHED_TASKS.c.user_id, sa.literal(True).label("trashed"), TRASHED_TASKS.c.version).where(
        TRASHED_TASKS.c.id == sa.bindparam("task_id")
    ),
)


async def whose(session: AsyncSession, task_id: uuid.UUID):
    """(owner, in the trash?, version) of a task, live or trashed; None if it is in neither (destroyed or never
    made). One statement: a task moving meanwhile is seen in one place or the other, never half-way."""
    return (await session.exec(_WHOSE, params={"task_id": task_id})).first()


def destroying(delete: sa.Delete) -> sa.Insert:
    """The DELETE of trashed tasks made a destruction: each leaves its id and the number of its deletion for the
    change feed (taskapi/sync/feed.py), in the same statement. No new number: it was a deletion already."""
    kept = ("user_id", "change_seq", "id")
    gone = delete.returning(*(TRASHED_TASKS.c[name] for name in kept)).cte("gone")
    return sa.insert(DESTROYED_TASKS).from_select(kept, sa.select(*gone.c))


DESTROY = destroying(sa.delete(TRASHED_TASKS).where(*_THIS_TRASHED_TASK)).returning(DESTROYED_TASKS.c.id)
EMPTY = destroying(sa.delete(TRASHED_TASKS).where(TRASHED_TASKS.c.user_id == sa.bindparam("owner_id")))
