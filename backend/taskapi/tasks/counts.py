"""What a sidebar shows: GET /{user_id}/summary (counts by state, due date and priority) and /{user_id}/tags."""

import uuid
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from connexion import request
from starlette.responses import JSONResponse

from taskapi.auth.tokens import require_owner
from taskapi.db.statements import fetch_all, fetch_first
from taskapi.tasks.etags import PRIVATE
from taskapi.tasks.recurrence.rules import zone

# Which tasks: all of the user's, one list's, or the Inbox's (`list_id` null).
_IN = {None: "", "list": "AND list_id = :list_id", "inbox": "AND list_id IS NULL"}
# Completed tasks, from trigger-kept counters: the user's (migrations 0004, 0005), a list's (0012), and what is
# left of the user's for the Inbox.
_COMPLETED = {
    None: "(SELECT completed FROM task_counts WHERE user_id = :user_id)",
    "list": "(SELECT total - open FROM task_lists WHERE id = :list_id AND user_id = :user_id)",
    "inbox": """(SELECT completed FROM task_counts WHERE user_id = :user_id)
                - (SELECT COALESCE(sum(total - open), 0) FROM task_lists WHERE user_id = :user_id)""",
}


# Open tasks are counted from a partial index over open tasks only (migration 0004); completed ones are read
# from the trigger-kept counters. The cost grows with the open tasks, never with the completed history.
def _summary(scope: str | None) -> sa.TextClause:
    return sa.text(f"""
SELECT open.total AS open, COALESCE({_COMPLETED[scope]}, 0) AS completed,
       open.overdue, open.due_today, open.low, open.medium, open.high
FROM (
    SELECT count(*) AS total,
           count(*) FILTER (WHERE due_at < now()) AS overdue,
           count(*) FILTER (WHERE due_at >= :day_starts AND due_at < :day_ends) AS due_today,
           count(*) FILTER (WHERE priority = 'low') AS low,
           count(*) FILTER (WHERE priority = 'medium') AS medium,
           count(*) FILTER (WHERE priority = 'high') AS high
    FROM tasks WHERE user_id = :user_id AND NOT completed {_IN[scope]}
) AS open
""")


def _tag_counts(scope: str | None) -> sa.TextClause:
    return sa.text(f"""
SELECT tag AS name, count(*) FILTER (WHERE NOT completed) AS open, count(*) AS total
FROM tasks CROSS JOIN LATERAL unnest(tags) AS tag
WHERE user_id = :user_id AND tags <> '{{}}' {_IN[scope]}
GROUP BY tag ORDER BY tag
""")


SUMMARY = {scope: _summary(scope) for scope in _IN}
TAG_COUNTS = {scope: _tag_counts(scope) for scope in _IN}


def _scope(user_id: str, list_id: str | None) -> tuple[str | None, dict]:
    """Which variant a `list_id` parameter asks for (a list's id, or "inbox"), and its parameters."""
    if list_id is None:
        return None, {"user_id": user_id}
    if list_id == "inbox":
        return "inbox", {"user_id": user_id}
    return "list", {"user_id": user_id, "list_id": uuid.UUID(list_id)}


def _today(timezone: str) -> tuple[datetime, datetime]:
    """Today in the zone, as the UTC instants of its first moment and of the next day's."""
    tz = zone(timezone, "query", "timezone")
    today = datetime.now(tz).date()
    starts = datetime.combine(today, time(), tz)
    ends = datetime.combine(today + timedelta(days=1), time(), tz)
    return starts.astimezone(UTC), ends.astimezone(UTC)


async def get_summary(user_id: str, user: str, timezone: str = "UTC", list_id: str | None = None) -> JSONResponse:
    require_owner(user_id, user)
    day_starts, day_ends = _today(timezone)
    scope, params = _scope(user_id, list_id)
    params = {**params, "day_starts": day_starts, "day_ends": day_ends}
    row = await request.state.units.read(user_id, lambda work: fetch_first(work, SUMMARY[scope], params))
    summary = {
        "total": row["open"] + row["completed"],
        "open": row["open"],
        "completed": row["completed"],
        "overdue": row["overdue"],
        "due_today": row["due_today"],
        "by_priority": {"low": row["low"], "medium": row["medium"], "high": row["high"]},
    }
    return JSONResponse(summary, headers=PRIVATE)


async def list_tags(user_id: str, user: str, list_id: str | None = None) -> JSONResponse:
    require_owner(user_id, user)
    scope, params = _scope(user_id, list_id)
    rows = await request.state.units.read(user_id, lambda work: fetch_all(work, TAG_COUNTS[scope], params))
    return JSONResponse({"items": [dict(row) for row in rows]}, headers=PRIVATE)
