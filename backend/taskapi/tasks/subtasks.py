"""Subtasks (migration 0014 holds their rules): a new one's place, last among its parent's subtasks; the open
copies a recurring parent's next occurrence gets of them; and the reminders the database makes pending when they
change (a parent reopened by its subtask, copies, subtasks restored with their parent)."""

import uuid

import sqlalchemy as sa

from taskapi.db.session import Work
from taskapi.db.statements import fetch_all, fetch_first
from taskapi.ordering import siblings
from taskapi.tables.tasks import DUE_NEVER, TASK_COUNTS, TASKS


async def last_place(session: Work, user_id: str, parent_id: uuid.UUID) -> str:
    """The key of a new subtask, last among its parent's subtasks. Under the user's lock (LOCK_USER)."""
    return await siblings.last(session, "subtasks", {"owner_id": user_id, "parent_id": parent_id})


_SHIFT = sa.bindparam("shift", type_=sa.Interval)


def _shifted(column: sa.Column) -> sa.ColumnElement:
    """The copy's instant: as far from the new occurrence as the original was from its own; none past year 9999."""
    moved = column + _SHIFT
    return sa.case((moved < DUE_NEVER, moved), else_=None)


_COPIED = ("user_id", "title", "description", "priority", "tags", "position")
_LIVE = sa.select(TASK_COUNTS.c.live).where(TASK_COUNTS.c.user_id == sa.bindparam("owner_id")).with_for_update()
# Open copies, in their order, while they fit in the quota together (the counter row locked as a create locks it).
COPY = (
    sa.insert(TASKS)
    .from_select(
        [*_COPIED, "parent_id", "due_at", "remind_at"],
        sa.select(
            *(TASKS.c[name] for name in _COPIED),
            sa.bindparam("new_parent_id", type_=sa.Uuid),
            _shifted(TASKS.c.due_at),
            _shifted(TASKS.c.remind_at),
        )
        .where(
            TASKS.c.user_id == sa.bindparam("owner_id"),
            TASKS.c.parent_id == sa.bindparam("parent_id", type_=sa.Uuid),
            _LIVE.scalar_subquery() + sa.bindparam("count") <= sa.bindparam("quota"),
        )
        .order_by(TASKS.c.position),
        include_defaults=False,
    )
    .returning(TASKS.c.id, TASKS.c.remind_at)
)


async def copy_to(session: Work, row, following, quota: int) -> bool:
    """Give `following`, the next occurrence of the recurring parent `row`, open copies of `row`'s subtasks;
    False if they do not fit in the quota (nothing copied)."""
    count = row["subtasks_total"]
    if count == 0:
        return True
    params = {
        "owner_id": row["user_id"],
        "parent_id": row["id"],
        "new_parent_id": following["id"],
        "shift": following["due_at"] - row["due_at"],
        "count": count,
        "quota": quota,
    }
    copies = await fetch_all(session, COPY, params)
    remind_pending(session, copies)
    return len(copies) == count


def remind_pending(session: Work, rows) -> None:
    """Tell the reminder clock (after commit) of the earliest pending reminder among open tasks a statement wrote
    besides the one it answers with: copies, and subtasks brought back with their parent."""
    pending = [row["remind_at"] for row in rows if row["remind_at"] is not None]
    if pending:
        session.remind(min(pending))


# Adding an open subtask, or reopening one, reopens its completed parent (migration 0014), whose reminder is then
# pending again if it has not fired.
_PARENTS_PENDING_REMINDER = sa.select(TASKS.c.remind_at).where(
    TASKS.c.id == sa.bindparam("parent_id", type_=sa.Uuid),
    TASKS.c.remind_at.is_not(None),
    TASKS.c.reminded_at.is_(None),
    sa.not_(TASKS.c.completed),
)


async def remind_reopened_parent(session: Work, row) -> None:
    """After a write that left the subtask `row` open: the clock is told of its parent's pending reminder."""
    if row["parent_id"] is not None and not row["completed"]:
        parent = await fetch_first(session, _PARENTS_PENDING_REMINDER, {"parent_id": row["parent_id"]})
        if parent is not None:
            session.remind(parent["remind_at"])
