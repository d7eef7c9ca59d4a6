"""The statements the list operations send, each built once with bound values."""

import functools
import uuid

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from taskapi.db.session import Work
from taskapi.db.statements import fetch_first
from taskapi.lists.answers import name_taken
from taskapi.tables.lists import LISTS, MOVED_LIST_COLUMNS, PUBLIC_LIST_COLUMNS, TRASHED_LISTS
from taskapi.tables.tasks import MOVED_COLUMNS, TASK_COUNTS, TASKS, TRASHED_TASKS
from taskapi.tasks.etags import Condition
from taskapi.tasks.trash import trashing

OWNER = sa.bindparam("owner_id")
LIST_ID = sa.bindparam("list_id", type_=sa.Uuid)
THIS_LIST = (LISTS.c.id == LIST_ID, LISTS.c.user_id == OWNER)
_MATCHING_VERSION = LISTS.c.version == sa.any_(sa.bindparam("if_match_versions", type_=postgresql.ARRAY(sa.Integer)))

READ = sa.select(*PUBLIC_LIST_COLUMNS).where(*THIS_LIST)
ALL = sa.select(*PUBLIC_LIST_COLUMNS).where(LISTS.c.user_id == OWNER).order_by(LISTS.c.position)
COUNT = sa.select(sa.func.count()).select_from(LISTS).where(LISTS.c.user_id == OWNER)
LAST_POSITION = sa.select(sa.func.max(LISTS.c.position)).where(LISTS.c.user_id == OWNER)
LIVE_TASKS = sa.select(TASK_COUNTS.c.live).where(TASK_COUNTS.c.user_id == OWNER)
_NEW = {
    "user_id": OWNER,
    "name": sa.bindparam("name", type_=sa.String),
    "color": sa.bindparam("color", type_=sa.String),
    "position": sa.bindparam("position", type_=LISTS.c.position.type),
}
# INSERT … SELECT, include_defaults=False: the id, counts, version and timestamps come from the server defaults.
INSERT = (
    sa.insert(LISTS)
    .from_select(list(_NEW), sa.select(*_NEW.values()), include_defaults=False)
    .returning(*PUBLIC_LIST_COLUMNS)
)


def guard(params: dict, list_id: uuid.UUID, condition: Condition | None) -> bool:
    """Whether a write must match an If-Match version; if so, the versions it accepts go into `params`."""
    if condition is None or condition.any:
        return False
    params["if_match_versions"] = condition.versions_of(list_id)
    return True


@functools.lru_cache(maxsize=16)
def update(columns: tuple[str, ...], guarded: bool) -> sa.Update:
    """Set these columns (bound as `new_<name>`), at a version If-Match accepts when `guarded`."""
    values = {name: sa.bindparam(f"new_{name}", type_=LISTS.c[name].type) for name in columns}
    change = sa.update(LISTS).where(*THIS_LIST, *((_MATCHING_VERSION,) if guarded else ()))
    return change.values(**values, version=LISTS.c.version + 1, updated_at=sa.func.now()).returning(
        *PUBLIC_LIST_COLUMNS
    )


# Deleting a list: its tasks to the trash, marked as deleted with it, then the list itself (the tasks first: they
# refer to it). Each a move in one statement, as for a task (taskapi/tasks/trash/trashing.py).
TRASH_TASKS = trashing.moving_to_trash(
    sa.delete(TASKS).where(TASKS.c.user_id == OWNER, TASKS.c.list_id == LIST_ID), with_list=True
)


@functools.lru_cache(maxsize=2)
def trash_list(guarded: bool) -> sa.Insert:
    gone = (
        sa.delete(LISTS)
        .where(*THIS_LIST, *((_MATCHING_VERSION,) if guarded else ()))
        .returning(*(LISTS.c[name] for name in MOVED_LIST_COLUMNS))
        .cte("gone")
    )
    return sa.insert(TRASHED_LISTS).from_select(MOVED_LIST_COLUMNS, sa.select(*gone.c)).returning(TRASHED_LISTS.c.id)


# Restoring one: the list, at the position given (its own, unless another list took it), then exactly the tasks
# deleted with it.
TRASHED = sa.select(TRASHED_LISTS.c.position, TRASHED_LISTS.c.name).where(
    TRASHED_LISTS.c.id == LIST_ID, TRASHED_LISTS.c.user_id == OWNER
)
POSITION_TAKEN = sa.select(LISTS.c.id).where(
    LISTS.c.user_id == OWNER, LISTS.c.position == sa.bindparam("position", type_=LISTS.c.position.type)
)
_BACK = (
    sa.delete(TRASHED_LISTS)
    .where(TRASHED_LISTS.c.id == LIST_ID, TRASHED_LISTS.c.user_id == OWNER)
    .returning(*(TRASHED_LISTS.c[name] for name in MOVED_LIST_COLUMNS))
    .cte("back")
)
RESTORE = (
    sa.insert(LISTS)
    .from_select(
        MOVED_LIST_COLUMNS,
        sa.select(
            *(
                sa.bindparam("position", type_=LISTS.c.position.type) if name == "position" else _BACK.c[name]
                for name in MOVED_LIST_COLUMNS
            )
        ),
        include_defaults=False,  # the counts start at 0 (server default); its tasks' coming back raises them
    )
    .returning(LISTS.c.id)
)
_BACK_TASKS = (
    sa.delete(TRASHED_TASKS)
    .where(TRASHED_TASKS.c.user_id == OWNER, TRASHED_TASKS.c.list_id == LIST_ID, TRASHED_TASKS.c.deleted_with_list)
    .returning(*(TRASHED_TASKS.c[name] for name in MOVED_COLUMNS))
    .cte("back_tasks")
)
RESTORE_TASKS = sa.insert(TASKS).from_select(MOVED_COLUMNS, trashing.back_as_it_was(_BACK_TASKS))


# A page of deleted lists, most recent first (after a cursor's position when `after`), each with the counts of the
# tasks deleted with it: what restoring it brings back (migration 0018's indexes serve both).
def _deleted_page(after: bool) -> sa.Select:
    back = TRASHED_TASKS.alias("back")
    counts = (
        sa.select(
            sa.func.count().label("total"),
            sa.func.count().filter(sa.not_(back.c.completed)).label("open"),
        )
        .where(back.c.list_id == TRASHED_LISTS.c.id, back.c.deleted_with_list, back.c.user_id == OWNER)
        .lateral("counts")
    )
    conditions = [TRASHED_LISTS.c.user_id == OWNER]
    if after:
        row = sa.tuple_(TRASHED_LISTS.c.deleted_at, TRASHED_LISTS.c.id)
        conditions.append(row < sa.tuple_(sa.bindparam("after_at"), sa.bindparam("after_id", type_=sa.Uuid)))
    return (
        sa.select(*(TRASHED_LISTS.c[name] for name in MOVED_LIST_COLUMNS), TRASHED_LISTS.c.deleted_at, *counts.c)
        .join_from(TRASHED_LISTS, counts, sa.true())
        .where(*conditions)
        .order_by(TRASHED_LISTS.c.deleted_at.desc(), TRASHED_LISTS.c.id.desc())
        .limit(sa.bindparam("page_size"))
    )


DELETED_PAGES = {after: _deleted_page(after) for after in (False, True)}
# The user's deleted lists beyond the newest `most` (one more list deleted than they may keep): destroyed for good,
# leaving their ids to the change feed, as the sweep does (taskapi/sync/purge.py). Their tasks stay in the trash.
DESTROY_OLDEST_DELETED = sa.text("""
WITH gone AS (
  DELETE FROM trashed_lists WHERE id IN (
    SELECT id FROM trashed_lists WHERE user_id = :owner_id ORDER BY deleted_at DESC, id DESC OFFSET :most)
  RETURNING user_id, change_seq, id)
INSERT INTO destroyed_tasks (user_id, change_seq, id, kind) SELECT user_id, change_seq, id, 'list' FROM gone
""")


async def write(session: Work, statement, params: dict, name: str | None = None):
    """Run a statement that writes a list; a name another of the user's lists has is a 409."""
    try:
        return await fetch_first(session, statement, params)
    except psycopg.errors.UniqueViolation as error:
        if error.diag.constraint_name == "uq_task_lists_user_id_name":
            raise name_taken(name or "") from None
        raise
