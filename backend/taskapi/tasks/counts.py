"""What a sidebar shows: GET /{user_id}/summary (counts by state, due date and priority) and /{user_id}/tags."""

from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from starlette.responses import JSONResponse

from taskapi.auth.tokens import require_owner
from taskapi.db.session import statement
from taskapi.tasks.etags import PRIVATE
from taskapi.tasks.recurrence import zone

# Open tasks are counted from a partial index over open tasks only (migration 0004); completed ones are read
# from the trigger-kept counter. The cost grows with the open tasks, never with the completed history.
SUMMARY = sa.text("""
SELECT open.total AS open,
       COALESCE((SELECT completed FROM task_counts WHERE user_id = :user_id), 0) AS completed,
       open.overdue, open.due_today, open.low, open.medium, open.high
FROM (
    SELECT count(*) AS total,
           count(*) FILTER (WHERE due_at < now()) AS overdue,
           count(*) FILTER (WHERE due_at >= :day_starts AND due_at < :day_ends) AS due_today,
           count(*) FILTER (WHERE priority = 'low') AS low,
           count(*) FILTER (WHERE priority = 'medium') AS medium,
           count(*) FILTER (WHERE priority = 'high') AS high
    FROM tasks WHERE user_id = :user_id AND NOT completed
) AS open
""")

TAG_COUNTS = sa.text("""
SELECT tag AS name, count(*) FILTER (WHERE NOT completed) AS open, count(*) AS total
FROM tasks CROSS JOIN LATERAL unnest(tags) AS tag
WHERE user_id = :user_id AND tags <> '{}'
GROUP BY tag ORDER BY tag
""")


def _today(timezone: str) -> tuple[datetime, datetime]:
    """Today in the zone, as the UTC instants of its first moment and of the next day's."""
    tz = zone(timezone, "query", "timezone")
    today = datetime.now(tz).date()
    starts = datetime.combine(today, time(), tz)
    ends = datetime.combine(today + timedelta(days=1), time(), tz)
    return starts.astimezone(UTC), ends.astimezone(UTC)


async def get_summary(user_id: str, user: str, timezone: str = "UTC") -> JSONResponse:
    require_owner(user_id, user)
    day_starts, day_ends = _today(timezone)
    async with statement() as session:
        row = (
            (await session.exec(SUMMARY, params={"user_id": user_id, "day_starts": day_starts, "day_ends": day_ends}))
            .mappings()
            .one()
        )
    summary = {
        "total": row["open"] + row["completed"],
        "open": row["open"],
        "completed": row["completed"],
        "overdue": row["overdue"],
        "due_today": row["due_today"],
        "by_priority": {"low": row["low"], "medium": row["medium"], "high": row["high"]},
    }
    return JSONResponse(summary, headers=PRIVATE)


async def list_tags(user_id: str, user: str) -> JSONResponse:
    require_owner(user_id, user)
    async with statement() as session:
        rows = (await session.exec(TAG_COUNTS, params={"user_id": user_id})).mappings().all()
    return JSONResponse({"items": [dict(row) for row in rows]}, headers=PRIVATE)
