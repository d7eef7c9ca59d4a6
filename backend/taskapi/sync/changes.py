"""What changed in a user's tasks (and lists) since a position, deletions included, each once in its latest state:
the query behind the change feed (taskapi/sync/feed.py) and live events (taskapi/sync/events.py).

A position is the user's change number (migration 0008): numbers become visible in the order they are taken,
so "everything numbered above n" never skips a change committed late. A task's row carries the number of its
last change; a trashed task's, of its trashing; a destroyed task leaves a marker with that same number, until
the sweep forgets it after CHANGES_RETENTION_DAYS and raises the user's `forgotten_seq`. A position below that
may have missed a deletion: 410, sync from scratch.
"""

import sqlalchemy as sa

from taskapi.db.statements import fetch_all, fetch_value
from taskapi.db.units import Units
from taskapi.errors import Gone
from taskapi.tables.lists import PUBLIC_LIST_FIELDS
from taskapi.tables.tasks import ANSWER_COLUMNS
from taskapi.tasks.cursors import CursorCodec

_HEAD = """
SELECT COALESCE(max(change_seq), 0) AS head, COALESCE(max(forgotten_seq), 0) AS forgotten
FROM task_counts WHERE user_id = :user_id
"""
_TASK = ", ".join(f"t.{name}" for name in ANSWER_COLUMNS)
# A list's columns, named apart from the task's (a task has a `list_id` too).
LIST_PREFIX = "the_list_"
_LIST = ", ".join(f"l.{name} AS {LIST_PREFIX}{name}" for name in PUBLIC_LIST_FIELDS)


# The branches of a page of changes, by kind: each walks its table's (user_id, change_seq) index from the position
# on, and stops at a page. Destroyed tasks and lists are remembered together, by kind.
_SINCE_BRANCHES = {
    "task": """
  (SELECT change_seq AS seq, id AS changed_id, 'upsert' AS op, 'task' AS kind FROM tasks
   WHERE user_id = :user_id AND change_seq > :since ORDER BY change_seq LIMIT :page_size)
  UNION ALL
  (SELECT change_seq, id, 'delete', 'task' FROM trashed_tasks
   WHERE user_id = :user_id AND change_seq > :since ORDER BY change_seq LIMIT :page_size)""",
    "list": """
  (SELECT change_seq AS seq, id AS changed_id, 'upsert' AS op, 'list' AS kind FROM task_lists
   WHERE user_id = :user_id AND change_seq > :since ORDER BY change_seq LIMIT :page_size)
  UNION ALL
  (SELECT change_seq, id, 'delete', 'list' FROM trashed_lists
   WHERE user_id = :user_id AND change_seq > :since ORDER BY change_seq LIMIT :page_size)""",
}
_EVERYTHING_BRANCHES = {
    "task": """
  (SELECT change_seq AS seq, id AS changed_id, 'upsert' AS op, 'task' AS kind FROM tasks
   WHERE user_id = :user_id ORDER BY change_seq LIMIT :page_size)""",
    "list": """
  (SELECT change_seq AS seq, id AS changed_id, 'upsert' AS op, 'list' AS kind FROM task_lists
   WHERE user_id = :user_id ORDER BY change_seq LIMIT :page_size)""",
}


def _page(kinds: tuple[str, ...], since: bool) -> sa.TextClause:
    """One statement, so one snapshot: the head and the changes of these kinds agree. Without `since`, a full
    sync: the live rows only, in the same order; it goes on from its last page's position as a feed."""
    branches = [(_SINCE_BRANCHES if since else _EVERYTHING_BRANCHES)[kind] for kind in kinds]
    if since:
        branches.append(f"""
  (SELECT change_seq, id, 'delete', kind FROM destroyed_tasks
   WHERE user_id = :user_id AND change_seq > :since AND kind IN ({", ".join(f"'{kind}'" for kind in kinds)})
   ORDER BY change_seq LIMIT :page_size)""")
    return sa.text(f"""
SELECT head.head, head.forgotten, c.seq, c.changed_id, c.op, c.kind, {_TASK}, {_LIST}
FROM ({_HEAD}) AS head
LEFT JOIN LATERAL (
  SELECT * FROM ({" UNION ALL ".join(branches)}) AS changed ORDER BY seq LIMIT :page_size
) AS c ON true
LEFT JOIN tasks AS t ON t.id = c.changed_id AND c.op = 'upsert' AND c.kind = 'task'
LEFT JOIN task_lists AS l ON l.id = c.changed_id AND c.op = 'upsert' AND c.kind = 'list'
ORDER BY c.seq
""")


KINDS = ("task", "list")
_PAGES = {(kinds, since): _page(kinds, since) for kinds in (("task",), ("list",), KINDS) for since in (False, True)}


def token(codec: CursorCodec, user_id: str, seq: int) -> str:
    """The opaque, signed form of a position in this user's feed (`next_since`, and the id of live events)."""
    return codec.encode(codec.scope("changes", user_id), [seq])


def position(codec: CursorCodec, user_id: str, since: str, parameter: str = "since") -> int:
    scope = codec.scope("changes", user_id)
    (seq,) = codec.decode(
        since,
        scope,
        parameter,
        "next_since",
        "belongs to another user's next_since: use your own",
        # Signed with a retired CURSOR_SECRET: nothing the client did wrong, and it knows what to do with a 410.
        retired=lambda: expired(user_id),
    )
    return seq


def expired(user_id: str) -> Gone:
    return Gone(
        "This sync position is older than what the service remembers: sync from scratch "
        f"(GET /{user_id}/changes without `since`) and replace what you hold with what it answers.",
        kind="sync-position-expired",
    )


# FOR SHARE waits for writes that hold the user's counter row (taking a number) to commit or roll back.
_SETTLED_HEAD = sa.text("SELECT change_seq FROM task_counts WHERE user_id = :user_id FOR SHARE")


async def settled_head(units: Units, user_id: str) -> int:
    """The user's latest change number, once every write that has taken one so far has ended."""
    async with units.statement() as session:
        return await fetch_value(session, _SETTLED_HEAD, {"user_id": user_id}) or 0


async def changes_since(
    units: Units, user_id: str, since: int | None, limit: int, kinds: tuple[str, ...] = ("task",)
) -> tuple[list, int, bool]:
    """(changes, next position, more to read?) of these kinds (of KINDS, in its order); raises 410 if `since` is no
    longer (or not yet) known."""
    params = {"user_id": user_id, "since": since or 0, "page_size": limit + 1}
    query = _PAGES[kinds, since is not None]
    rows = await units.read(user_id, lambda work: fetch_all(work, query, params))
    head, forgotten = rows[0]["head"], rows[0]["forgotten"]
    if since is not None and not forgotten <= since <= head:
        raise expired(user_id)
    changes = [row for row in rows if row["seq"] is not None]
    more = len(changes) > limit
    changes = changes[:limit]
    return changes, changes[-1]["seq"] if more else head, more
