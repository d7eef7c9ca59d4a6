"""Subtasks (migration 0014 holds their rules): a new one's place, last among its parent's subtasks, and the open
copies a recurring parent's next occurrence gets of them."""

import uuid

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from taskapi.db.statements import fetch_all
from taskapi.lists import ordering
from taskapi.tasks.models import DUE_NEVER, TASK_COUNTS, TASKS


async def last_place(session: AsyncSession, user_id: str, parent_id: uuid.UUID) -> str:
    """The key of a new subtask, last among its parent's subtasks. Under the user's lock (LOCK_USER)."""
    return await ordering.last(session, "subtasks", {"owner_id": user_id, "parent_id": parent_id})


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
    .returning(TASKS.c.id)
)


async def copy_to(session: AsyncSession, row, following, quota: int) -> bool:
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
    return len(await fetch_all(session, COPY, params)) == count
