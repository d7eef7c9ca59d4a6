"""How tasks move into the trash and out of it: each move one statement, so a task is never in two places at once,
nor in none."""

import functools
import uuid

import sqlalchemy as sa

from taskapi.db.session import Work
from taskapi.db.statements import fetch_first
from taskapi.tables.tasks import (
    CHANGED_COLUMNS,
    DESTROYED_TASKS,
    MOVED_COLUMNS,
    POSITION_TYPE,
    TASK_COUNTS,
    TASKS,
    TRASHED_TASKS,
    UNCOUNTED,
)
from taskapi.tasks import store

_THIS_TRASHED_TASK = (
    TRASHED_TASKS.c.id == sa.bindparam("task_id", type_=sa.Uuid),
    TRASHED_TASKS.c.user_id == sa.bindparam("owner_id"),
)


@functools.lru_cache(maxsize=16)
def moving_to_trash(delete: sa.Delete, with_list: bool = False) -> sa.Insert:
    """The DELETE of live tasks made a move: in one statement, each row it deletes goes into the trash as it was
    (a data-modifying CTE), so a task is never in both places, nor in neither. A subtask whose parent goes with it
    is marked so (restoring the parent brings it back), and every task when its list is deleted (`with_list`)."""
    gone = delete.returning(*(TASKS.c[name] for name in MOVED_COLUMNS)).cte("gone")
    parents = gone.alias("parents")
    with_parent = sa.exists(sa.select(parents.c.id).where(parents.c.id == gone.c.parent_id))
    trashed = sa.select(*gone.c, with_parent, sa.literal(with_list))
    columns = [*MOVED_COLUMNS, "deleted_with_parent", "deleted_with_list"]
    return sa.insert(TRASHED_TASKS).from_select(columns, trashed).returning(TRASHED_TASKS.c.id)


# Back from the trash, in one statement, while the user holds fewer live tasks than the quota: the condition is
# on the DELETE itself, since a data-modifying CTE runs whether or not the INSERT that reads it inserts anything.
# The counter row is locked as a create locks it (taskapi/tasks/store.py: insert).
_HELD = sa.select(TASK_COUNTS.c.live).where(TASK_COUNTS.c.user_id == sa.bindparam("owner_id")).with_for_update()


def _restoring(place: str) -> sa.Insert:
    """The restore that puts the task back at its own position (`back`), first in its list (`top`) or in the Inbox
    (`inbox`), last among its parent's subtasks (`last`, at the bound `position`); or, a subtask whose parent is
    gone for good, as a task of its own first in its list or in the Inbox (`top_alone`, `inbox_alone`)."""
    back = (
        sa.delete(TRASHED_TASKS)
        .where(*_THIS_TRASHED_TASK, sa.func.coalesce(_HELD.scalar_subquery(), 0) < sa.bindparam("quota"))
        .returning(*(TRASHED_TASKS.c[name] for name in MOVED_COLUMNS))
        .cte("back")
    )
    top = {"position": store.top_of(True, sa.bindparam("owner_id"), back.c.list_id)}
    inbox = {"list_id": sa.null(), "position": store.top_of(False, sa.bindparam("owner_id"), None)}
    alone = {"parent_id": sa.null()}
    overrides = {
        "back": {},
        "top": top,
        "inbox": inbox,
        "last": {"position": sa.bindparam("position", type_=POSITION_TYPE)},
        "top_alone": {**top, **alone},
        "inbox_alone": {**inbox, **alone},
    }[place]
    return sa.insert(TASKS).from_select(MOVED_COLUMNS, back_as_it_was(back, overrides)).returning(*CHANGED_COLUMNS)


def back_as_it_was(back: sa.CTE, overrides: dict | None = None) -> sa.Select:
    """Rows coming back from the trash (a CTE of trashed rows), as tasks: parents before their subtasks, which
    look their parent up (migration 0014), and none with its subtasks counted yet (their coming back counts
    them)."""
    overrides = {**UNCOUNTED, **(overrides or {})}
    columns = [overrides.get(name, back.c[name]) for name in MOVED_COLUMNS]
    return sa.select(*columns).order_by(back.c.parent_id.is_not(None))


RESTORE = {place: _restoring(place) for place in ("back", "top", "inbox", "last", "top_alone", "inbox_alone")}
# A parent's subtasks that went to the trash with it, back with it (the parent first).
_SUBTASKS_BACK = (
    sa.delete(TRASHED_TASKS)
    .where(
        TRASHED_TASKS.c.user_id == sa.bindparam("owner_id"),
        TRASHED_TASKS.c.parent_id == sa.bindparam("task_id", type_=sa.Uuid),
        TRASHED_TASKS.c.deleted_with_parent,
    )
    .returning(*(TRASHED_TASKS.c[name] for name in MOVED_COLUMNS))
    .cte("subtasks_back")
)
PENDING_REMINDER = sa.and_(TASKS.c.reminded_at.is_(None), sa.not_(TASKS.c.completed))
RESTORE_SUBTASKS = (
    sa.insert(TASKS)
    .from_select(MOVED_COLUMNS, back_as_it_was(_SUBTASKS_BACK))
    .returning(TASKS.c.id, sa.case((PENDING_REMINDER, TASKS.c.remind_at)).label("remind_at"))
)
# Where a trashed task can go back. A top-level task: its position, unless a task holds it now (then first in its
# list, or in the Inbox); its list, unless deleted since (then first in the Inbox). A subtask: its position among
# its parent's subtasks, in whatever list the parent is now, unless a subtask holds it now (then last); with its
# parent destroyed (the sweep can part them), as a task of its own. (Its parent in the trash: `parent_trashed`.)
PLACE = sa.text("""
SELECT CASE
  WHEN t.parent_id IS NOT NULL AND EXISTS (SELECT 1 FROM tasks p WHERE p.id = t.parent_id) THEN
    CASE WHEN EXISTS (SELECT 1 FROM tasks s WHERE s.parent_id = t.parent_id AND s.position = t.position) THEN 'last'
         ELSE 'back' END
  WHEN t.list_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM task_lists l WHERE l.id = t.list_id) THEN
    CASE WHEN t.parent_id IS NULL THEN 'inbox' ELSE 'inbox_alone' END
  WHEN t.parent_id IS NOT NULL THEN CASE WHEN t.list_id IS NULL THEN 'inbox_alone' ELSE 'top_alone' END
  WHEN NOT EXISTS (SELECT 1 FROM tasks s WHERE s.user_id = t.user_id AND s.list_id IS NOT DISTINCT FROM t.list_id
                   AND s.parent_id IS NULL AND s.position = t.position) THEN 'back'
  WHEN t.list_id IS NULL THEN 'inbox'
  ELSE 'top' END AS place,
  t.version, t.subtasks_total, t.parent_id,
  EXISTS (SELECT 1 FROM trashed_tasks p WHERE p.id = t.parent_id) AS parent_trashed
FROM trashed_tasks t WHERE t.id = :task_id AND t.user_id = :owner_id
""")
LIVE = sa.select(*CHANGED_COLUMNS).where(TASKS.c.id == sa.bindparam("task_id", type_=sa.Uuid))
LIVE_COUNT = sa.select(TASK_COUNTS.c.live).where(TASK_COUNTS.c.user_id == sa.bindparam("owner_id"))
AT_VERSION = (
    sa.update(TASKS)
    .where(TASKS.c.id == sa.bindparam("task_id", type_=sa.Uuid))
    .values(version=sa.bindparam("version"))
    .returning(*CHANGED_COLUMNS)
)
_WHOSE = sa.union_all(
    sa.select(TASKS.c.user_id, sa.literal(False).label("trashed"), TASKS.c.version).where(
        TASKS.c.id == sa.bindparam("task_id")
    ),
    sa.select(TRASHED_TASKS.c.user_id, sa.literal(True).label("trashed"), TRASHED_TASKS.c.version).where(
        TRASHED_TASKS.c.id == sa.bindparam("task_id")
    ),
)


async def whose(session: Work, task_id: uuid.UUID):
    """(owner, in the trash?, version) of a task, live or trashed; None if it is in neither (destroyed or never
    made). One statement: a task moving meanwhile is seen in one place or the other, never half-way."""
    return await fetch_first(session, _WHOSE, {"task_id": task_id})


def destroying(delete: sa.Delete) -> sa.Insert:
    """The DELETE of trashed tasks made a destruction: each leaves its id and the number of its deletion for the
    change feed (taskapi/sync/feed.py), in the same statement. No new number: it was a deletion already."""
    kept = ("user_id", "change_seq", "id")
    gone = delete.returning(*(TRASHED_TASKS.c[name] for name in kept)).cte("gone")
    return sa.insert(DESTROYED_TASKS).from_select(kept, sa.select(*gone.c))


# A task destroyed takes its trashed subtasks along: they could never come back without it.
_TRASHED_PARENT = TRASHED_TASKS.alias("trashed_parent")
DESTROY = destroying(
    sa.delete(TRASHED_TASKS).where(
        TRASHED_TASKS.c.user_id == sa.bindparam("owner_id"),
        sa.or_(
            TRASHED_TASKS.c.id == sa.bindparam("task_id", type_=sa.Uuid),
            sa.and_(
                TRASHED_TASKS.c.parent_id == sa.bindparam("task_id", type_=sa.Uuid),
                sa.exists(
                    sa.select(_TRASHED_PARENT.c.id).where(
                        _TRASHED_PARENT.c.id == sa.bindparam("task_id", type_=sa.Uuid),
                        _TRASHED_PARENT.c.user_id == sa.bindparam("owner_id"),
                    )
                ),
            ),
        ),
    )
).returning(DESTROYED_TASKS.c.id)
EMPTY = destroying(sa.delete(TRASHED_TASKS).where(TRASHED_TASKS.c.user_id == sa.bindparam("owner_id")))
