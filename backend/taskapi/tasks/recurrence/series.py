"""Recurring tasks' series: completing one creates its next occurrence, in the completing transaction."""

from datetime import datetime

import sqlalchemy as sa

from taskapi.db.session import Work
from taskapi.db.statements import fetch_first
from taskapi.tables.tasks import CHANGED_COLUMNS, DUE_NEVER, TASKS
from taskapi.tasks import store, subtasks
from taskapi.tasks.answers import over_quota
from taskapi.tasks.recurrence import rules


def _shifted(remind_at: datetime | None, due_at: datetime, next_due: datetime) -> datetime | None:
    """The next occurrence's reminder: the same offset from its due date, if that stays a storable instant."""
    if remind_at is None:
        return None
    try:
        shifted = next_due + (remind_at - due_at)
    except OverflowError:
        return None
    return shifted if shifted < DUE_NEVER else None


# The completed occurrence, linked to the one that follows it.
_LINKED = (
    sa.update(TASKS)
    .where(TASKS.c.id == sa.bindparam("task_id", type_=sa.Uuid))
    .values(next_occurrence_id=sa.bindparam("following_id", type_=sa.Uuid))
    .returning(*CHANGED_COLUMNS)
)


async def continue_series(session: Work, row, quota: int):
    """A recurring task that is now completed gets its next occurrence, in this transaction, at most once ever.

    Concurrent completions wait on the row lock the completing UPDATE took; they then read the row as the
    first one left it, with `next_occurrence_id` set, and create nothing. The next occurrence is a task like any
    other (first in its list), with open copies of the task's subtasks: at the quota it is refused, and with it
    the whole change (a 409), so that completing each new occurrence cannot grow an account without bound.
    """
    if not row["completed"] or row["recurrence"] is None or row["next_occurrence_id"] is not None:
        return row
    rule = rules.parse(row["recurrence"])
    due = rules.next_occurrence(rule, row["series_start"], max(row["due_at"], row["completed_at"]))
    if due is None:  # COUNT or UNTIL has ended the series
        return row
    copied = {
        name: row[name] for name in ("user_id", "title", "description", "priority", "tags", "recurrence", "list_id")
    }
    values = {
        **copied,
        "series_start": row["series_start"],
        "due_at": due,
        "remind_at": _shifted(row["remind_at"], row["due_at"], due),
    }
    insert = store.insert(tuple(values), False)
    following = await store.write(session, insert, {**values, "quota": quota})
    if following is None or not await subtasks.copy_to(session, row, following, quota):
        raise over_quota(quota)
    if following["remind_at"] is not None:
        session.remind(following["remind_at"])
    return await fetch_first(session, _LINKED, {"task_id": row["id"], "following_id": following["id"]})
