"""What each user's streams on this worker are told, read from the change feed: after an announcement names the
user (taskapi/sync/announcer.py), or when the once-a-second look at the change numbers of the users this worker
streams to finds more than it has delivered (a worker that wrote and died before announcing, an announcement lost
with a listening connection). The feed is the truth: whatever told us, we read what changed since what we
delivered, so nothing is missed and nothing is told twice.

A reminder that fired is a change too (its task gains `reminded_at`): a task read from the feed whose reminder
fired after this worker began streaming to its user, and that was not told yet, is also handed on as a reminder.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from prometheus_client import Counter

from taskapi.db.session import Database, statement
from taskapi.db.statements import fetch_all, fetch_first
from taskapi.sync.announcements import Change, Reminder, Resync, instant

log = logging.getLogger(__name__)

# How often the users this worker streams to have their change numbers looked at: the longest a change waits when
# its announcement never came.
LOOK_SECONDS = 1.0
# Changes read for one user at once; a user further behind is told to resync.
READ_LIMIT = 500
# Users read in one statement.
READ_AT_ONCE = 50
# Reminders told, per user, remembered so that a task changed again is not told again.
REMEMBERED_FIRED = 1000

# Users whose changes the look found before an announcement did: announcements lost, or still on their way.
FOUND_BY_LOOKING = Counter(
    "taskapi_changes_found_by_looking_total", "Users whose changes a worker found by looking, not by announcement"
)
_HEADS = sa.text("SELECT user_id, change_seq FROM task_counts WHERE user_id = ANY(CAST(:users AS text[]))")
_NOW = sa.text("SELECT now() AS now")
# What changed for each of these users since its position, in one statement (one snapshot): each change's number,
# what and how, what a reminder event says of a task, and the user's change number then (its head: the position
# after these, gaps of reserved numbers included). Only what an event needs, not the tasks themselves.
_CHANGED = sa.text("""
SELECT w.user_id, (SELECT change_seq FROM task_counts WHERE user_id = w.user_id) AS head,
       c.seq, c.changed_id, c.op, c.kind, c.title, c.due_at, c.remind_at, c.reminded_at
FROM unnest(CAST(:users AS text[]), CAST(:sinces AS bigint[])) AS w(user_id, since)
LEFT JOIN LATERAL (
  SELECT * FROM (
    (SELECT change_seq AS seq, id AS changed_id, 'upsert' AS op, 'task' AS kind, title, due_at, remind_at, reminded_at
     FROM tasks WHERE user_id = w.user_id AND change_seq > w.since ORDER BY change_seq LIMIT :page_size)
    UNION ALL
    (SELECT change_seq, id, 'delete', 'task', NULL, NULL, NULL, NULL
     FROM trashed_tasks WHERE user_id = w.user_id AND change_seq > w.since ORDER BY change_seq LIMIT :page_size)
    UNION ALL
    (SELECT change_seq, id, 'upsert', 'list', NULL, NULL, NULL, NULL
     FROM task_lists WHERE user_id = w.user_id AND change_seq > w.since ORDER BY change_seq LIMIT :page_size)
    UNION ALL
    (SELECT change_seq, id, 'delete', 'list', NULL, NULL, NULL, NULL
     FROM trashed_lists WHERE user_id = w.user_id AND change_seq > w.since ORDER BY change_seq LIMIT :page_size)
    UNION ALL
    (SELECT change_seq, id, 'delete', kind, NULL, NULL, NULL, NULL
     FROM destroyed_tasks WHERE user_id = w.user_id AND change_seq > w.since ORDER BY change_seq LIMIT :page_size)
  ) AS changed ORDER BY seq LIMIT :page_size
) AS c ON true
ORDER BY w.user_id, c.seq
""")


class Deliveries:
    """One per worker: per user, the change number delivered so far, and the reminders told."""

    def __init__(self, database: Database, deliver: Callable[[str, object], None]) -> None:
        self._database = database
        self._deliver = deliver  # (user id, Change | Reminder | Resync) to each of the user's streams here
        self._delivered: dict[str, int] = {}
        # Reminders that fired from this instant on (the database's clock) are news for the user's streams here.
        self._news_since: dict[str, datetime] = {}
        self._told_fired: dict[str, dict[str, datetime]] = {}
        self._wanted: set[str] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read_wanted(), name="change-delivery")]
        self._tasks.append(loop.create_task(self._look(), name="change-look"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def track(self, user_id: str, head: int) -> None:
        """A stream of the user starts at `head` here: deliver from there on (or from where others already are).
        Read at once too: an announcement that came between the stream reading `head` and now found nobody here."""
        if user_id not in self._delivered:
            async with statement(self._database, live=True) as work:
                news_since = (await fetch_first(work, _NOW))["now"]
            if user_id not in self._delivered:
                self._delivered[user_id] = head
                self._news_since[user_id] = news_since
                self._told_fired[user_id] = {}
        self.changed([user_id])

    def forget(self, user_id: str) -> None:
        """The user's last stream here ended."""
        self._delivered.pop(user_id, None)
        self._news_since.pop(user_id, None)
        self._told_fired.pop(user_id, None)
        self._wanted.discard(user_id)

    def changed(self, users) -> None:
        """These users' tasks or lists changed: read what, for those streamed to here."""
        self._wanted.update(user for user in users if user in self._delivered)
        if self._wanted:
            self._wake.set()

    async def _read_wanted(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            users = [user for user in self._wanted if user in self._delivered]
            self._wanted = set()
            for start in range(0, len(users), READ_AT_ONCE):
                await self._read([*users[start : start + READ_AT_ONCE]])

    async def _read(self, users: list[str]) -> None:
        """Read what changed for these users since what was delivered to them, and deliver it."""
        sinces = [self._delivered[user] for user in users]
        params = {"users": users, "sinces": sinces, "page_size": READ_LIMIT + 1}
        try:
            async with statement(self._database, live=True) as work:
                rows = await fetch_all(work, _CHANGED, params)
        except Exception as error:  # the look at change numbers tries again within a second
            log.warning("reading changes to deliver failed (%s)", type(error).__name__)
            return
        by_user: dict[str, list[dict]] = {}
        heads: dict[str, int] = {}
        for row in rows:
            heads[row["user_id"]] = row["head"] or 0
            if row["seq"] is not None:
                by_user.setdefault(row["user_id"], []).append(row)
        for user, since in zip(users, sinces, strict=True):
            changed = by_user.get(user, [])
            more = len(changed) > READ_LIMIT
            changed = changed[:READ_LIMIT]
            if user not in self._delivered or self._delivered[user] != since:
                continue  # forgotten meanwhile
            self._delivered[user] = changed[-1]["seq"] if more else max(since, heads.get(user, since))
            for row in changed:
                self._deliver(user, Change(row["seq"], str(row["changed_id"]), row["op"], row["kind"]))
            for reminder in self._reminders(user, changed):
                self._deliver(user, reminder)
            if more:
                self._deliver(user, Resync("too-far-behind"))

    def _reminders(self, user_id: str, rows: list[dict]) -> list[Reminder]:
        since, told = self._news_since.get(user_id), self._told_fired.get(user_id)
        if since is None or told is None:
            return []
        fired = []
        for row in rows:
            reminded_at = row.get("reminded_at") if row["kind"] == "task" and row["op"] == "upsert" else None
            task_id = str(row["changed_id"])
            if reminded_at is None or reminded_at < since or told.get(task_id) == reminded_at:
                continue
            told[task_id] = reminded_at
            due_at = instant(row["due_at"]) if row["due_at"] is not None else None
            fired.append(Reminder(task_id, row["title"], due_at, instant(row["remind_at"])))
        if len(told) > REMEMBERED_FIRED:  # forget the older half, and with them any news older than they are
            kept = sorted(told.items(), key=lambda item: item[1])[len(told) // 2 :]
            told.clear()
            told.update(kept)
            self._news_since[user_id] = kept[0][1]
        return fired

    async def _look(self) -> None:
        """Every LOOK_SECONDS while this worker streams to anyone: one statement reads their change numbers."""
        while True:
            await asyncio.sleep(LOOK_SECONDS)
            if not self._delivered:
                continue
            try:
                async with statement(self._database, live=True) as work:
                    heads = await fetch_all(work, _HEADS, {"users": list(self._delivered)})
            except Exception as error:
                log.warning("looking at change numbers failed (%s)", type(error).__name__)
                continue
            delivered = self._delivered
            behind = [row["user_id"] for row in heads if row["change_seq"] > delivered.get(row["user_id"], 1 << 62)]
            if behind:
                FOUND_BY_LOOKING.inc(len(behind))
                self.changed(behind)
