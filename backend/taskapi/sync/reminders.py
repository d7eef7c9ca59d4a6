"""Reminders the service fires itself: when a task's `remind_at` passes (the task open, not in the trash), every
open event stream of its user gets `event: reminder`, and the task gains `reminded_at`.

Exactly once, however many workers and replicas run. The firing is one statement: it claims the due reminders
by setting `reminded_at` on rows where it is still unset (a concurrent claim of the same row waits for the first,
then finds it set and skips it), and announces each with NOTIFY, which Postgres delivers when, and only if, the
claim commits. Every worker's listener hands it to that worker's streams of the user (taskapi/sync/hub.py). A
worker that dies mid-claim rolls it back: the reminder fires late (when a worker next looks), never twice, never
not at all while some worker runs. The statement locks the users' counter rows before any task row, in the order
every other write takes them (taskapi/tasks/store.py: USER_HELD), skipping users whose writes are in flight: their
reminders fire on the next pass, a moment later.

No polling: each worker sleeps until the earliest pending reminder it knows of (one indexed query when it starts,
and after each firing), and is woken early by the writes that set an earlier one: its own (`consider`, called
with every task it answers with) and other workers' (their announcements carry the reminder, migration 0015).
With reminders days away, an idle service sends Postgres nothing until the first is due.
"""

import asyncio
import logging
from datetime import UTC, datetime

import sqlalchemy as sa

from taskapi.db.session import Database

log = logging.getLogger(__name__)

# Reminders claimed by one statement; more are claimed at once by the next.
BATCH = 200
# A worker whose claim failed (the database unreachable) tries again after this long.
RETRY_SECONDS = 5.0

_NEXT = sa.text("""
SELECT min(remind_at) FROM tasks WHERE remind_at IS NOT NULL AND reminded_at IS NULL AND NOT completed
""")
_FIRE = sa.text("""
WITH due AS (
  SELECT id, user_id FROM tasks
  WHERE remind_at <= now() AND remind_at IS NOT NULL AND reminded_at IS NULL AND NOT completed
  ORDER BY remind_at LIMIT :batch
), held AS (
  SELECT user_id FROM task_counts WHERE user_id IN (SELECT user_id FROM due) ORDER BY user_id
  FOR UPDATE SKIP LOCKED
), fired AS (
  UPDATE tasks AS t SET reminded_at = now(), version = t.version + 1
  FROM due
  WHERE t.id = due.id AND due.user_id IN (SELECT user_id FROM held)
    AND t.reminded_at IS NULL AND NOT t.completed AND t.remind_at <= now()
  RETURNING t.id, t.user_id, t.title, t.due_at, t.remind_at
)
SELECT count(*) AS fired, (SELECT count(*) FROM due) AS due FROM (
  SELECT pg_notify('task_changes', json_build_object(
    'type', 'reminder', 'user_id', user_id, 'id', id, 'title', title, 'due_at', due_at, 'remind_at', remind_at
  )::text) FROM fired) AS announced
""")


class ReminderClock:
    """One per worker: sleeps until the earliest reminder it knows of, then fires what is due."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._next: datetime | None = None
        self._woken = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="reminder-clock")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def consider(self, remind_at: datetime | None) -> None:
        """A write set a pending reminder at `remind_at`: wake early if it comes before the one awaited."""
        if remind_at is not None and (self._next is None or remind_at < self._next):
            self._next = remind_at
            self._woken.set()

    def recheck(self) -> None:
        """Many reminders may have come back at once (a list restored): read the earliest again."""
        self._next = datetime.min.replace(tzinfo=UTC)
        self._woken.set()

    async def _run(self) -> None:
        while True:
            try:
                await self._fire_due()
                self._next = await self._earliest()
            except Exception as error:  # the database unreachable, a timeout: look again a little later
                log.warning("firing reminders failed (%s); retrying", type(error).__name__)
                self._next = datetime.now(UTC)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if self._next is not None and self._next <= datetime.now(UTC):
                await asyncio.sleep(0.1)  # due, but skipped: its user's write was in flight
            await self._sleep_until_due()

    async def _sleep_until_due(self) -> None:
        while True:
            self._woken.clear()
            wait = None if self._next is None else (self._next - datetime.now(UTC)).total_seconds()
            if wait is not None and wait <= 0:
                return
            try:
                async with asyncio.timeout(wait):
                    await self._woken.wait()
            except TimeoutError:
                return

    async def _earliest(self) -> datetime | None:
        async with self._database.maintenance_engine.connect() as connection:
            return (await connection.execute(_NEXT)).scalar()

    async def _fire_due(self) -> None:
        while True:
            async with self._database.maintenance_engine.begin() as connection:
                row = (await connection.execute(_FIRE, {"batch": BATCH})).one()
            if row.fired:
                log.info("fired %d reminders", row.fired)
            if row.due < BATCH or row.fired == 0:
                return
