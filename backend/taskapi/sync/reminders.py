"""Reminders the service fires itself: when a task's `remind_at` passes (the task open, not in the trash), every
open event stream of its user gets `event: reminder`, and the task gains `reminded_at`.

Exactly once, however many workers and replicas run. The firing is one statement: it claims the due reminders
by setting `reminded_at` on rows where it is still unset (a concurrent claim of the same row waits for the first,
then finds it set and skips it). Setting it is a change of the task, numbered in the feed: once the claim has
committed, the worker announces the users (taskapi/sync/announcer.py), and every worker streaming to them reads the
change and hands its streams `event: reminder` (taskapi/sync/delivery.py), or finds it within a second by looking
if the announcement never comes. A worker that dies mid-claim rolls it back: the reminder fires late (when a worker
next looks), never twice, never not at all while some worker runs. The statement locks the users' counter rows
before any task row, in the order every other write takes them (taskapi/tasks/store.py: USER_HELD), skipping users
whose writes are in flight: their reminders fire on the next pass, a moment later.

No polling: each worker sleeps until the earliest pending reminder it knows of (one indexed query when it starts,
and after each firing), and is woken early by the writes that set an earlier one, once committed: its own (a
request's units of work gather the pending reminders its writes set: taskapi/sync/after_request.py) and other
workers' (their announcements carry the earliest reminder their writes set).
With reminders days away, an idle service sends Postgres nothing until the first is due.

The same statement queues the reminder's Web Push messages, one per subscription of the user (migration 0016),
for the worker's Pusher (taskapi/push/sender.py) to send: a fired reminder always has its pushes.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from taskapi.db.session import Database
from taskapi.sync.alarm import Alarm

log = logging.getLogger(__name__)

# Reminders claimed by one statement; more are claimed at once by the next.
BATCH = 200
# A worker whose claim failed (the database unreachable) tries again after this long.
RETRY_SECONDS = 5.0
# How long a reminder's push is worth sending (taskapi/push/sender.py); then it is dropped.
PUSH_LIFETIME_SECONDS = 3600

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
), pushes AS (
  INSERT INTO reminder_pushes (subscription_id, payload, topic, expires_at)
  SELECT s.id,
         json_build_object('type', 'reminder', 'id', f.id, 'title', f.title,
                           'due_at', to_char(f.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                           'remind_at', to_char(f.remind_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text,
         replace(f.id::text, '-', ''),
         now() + make_interval(secs => :push_lifetime)
  FROM fired AS f JOIN push_subscriptions AS s ON s.user_id = f.user_id
  RETURNING 1
)
SELECT (SELECT count(*) FROM fired) AS fired, (SELECT count(*) FROM due) AS due,
       (SELECT count(*) FROM pushes) AS pushes, (SELECT array_agg(DISTINCT user_id) FROM fired) AS users""")


class ReminderClock:
    """One per worker: sleeps until the earliest reminder it knows of, then fires what is due."""

    def __init__(
        self,
        database: Database,
        on_pushes_queued: Callable[[], None] = lambda: None,
        on_fired: Callable[[str], None] = lambda _: None,
    ) -> None:
        self._database = database
        # Told when a firing queued pushes (taskapi/push/sender.py: Pusher.wake).
        self._on_pushes_queued = on_pushes_queued
        # Told of each user whose reminders fired, once the firing committed (taskapi/sync/announcer.py).
        self._on_fired = on_fired
        self._alarm = Alarm()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="reminder-clock")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def consider(self, remind_at: datetime | None) -> None:
        """A committed write set a pending reminder at `remind_at`: wake then at the latest."""
        self._alarm.tell(remind_at)

    async def _run(self) -> None:
        while True:
            self._alarm.reading()
            try:
                await self._fire_due()
                async with self._database.maintenance_engine.connect() as connection:
                    self._alarm.read((await connection.execute(_NEXT)).scalar())
            except Exception as error:  # the database unreachable, a timeout: look again a little later
                log.warning("firing reminders failed (%s); retrying", type(error).__name__)
                self._alarm.read(datetime.now(UTC) + timedelta(seconds=RETRY_SECONDS))
            if self._alarm.due():
                await asyncio.sleep(0.1)  # due, but skipped: its user's write was in flight
            await self._alarm.wait()

    async def _fire_due(self) -> None:
        while True:
            async with self._database.maintenance_engine.begin() as connection:
                params = {"batch": BATCH, "push_lifetime": PUSH_LIFETIME_SECONDS}
                row = (await connection.execute(_FIRE, params)).one()
            if row.fired:
                log.info("fired %d reminders", row.fired)
                for user_id in row.users:
                    self._on_fired(user_id)
            if row.pushes:
                self._on_pushes_queued()
            if row.due < BATCH or row.fired == 0:
                return
