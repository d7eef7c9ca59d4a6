"""The sweep: trashed tasks and deleted lists older than TRASH_RETENTION_DAYS (and a trash's oldest beyond
MAX_TASKS_PER_USER) destroyed, the change feed's record of destroyed tasks older than CHANGES_RETENTION_DAYS
forgotten, leases of live-event streams long over and Idempotency-Key records older than 24 hours dropped.

Every worker of every replica runs `Sweeper`, so no cron is needed, yet one sweep a PURGE_INTERVAL_SECONDS
is done in all: a worker first claims the period in `maintenance_runs` (an upsert only one of them wins), and
each batch runs under a transaction-level advisory lock, which PgBouncer's transaction mode keeps (a session
lock it would not). Each kind of row is swept on its own: one that fails (a timeout, a broken table) is logged
and counted, and the others still run. `python -m taskapi.cli purge` sweeps on demand, whatever the period.

The trash limit in force is the highest MAX_TASKS_PER_USER a sweep has applied (kept in `maintenance_runs`):
lowering the setting destroys no trash before its retention is over, unless the operator asks with
`make purge APPLY_LOWER_TRASH_LIMIT=1`, which applies the lower limit from then on.
"""

import asyncio
import logging
import random
import time
from collections import Counter

import sqlalchemy as sa
from prometheus_client import Counter as PrometheusCounter
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from taskapi.db.session import Database, make_engine
from taskapi.settings import Settings

log = logging.getLogger(__name__)

# Rows a batch may remove from each table: a batch is one short transaction, far within statement_timeout.
BATCH = 1000
_LOCK = sa.text("SELECT pg_try_advisory_xact_lock(hashtext('taskapi.purge'))")
# The worker that claimed the period waits its turn instead (another worker's claim attempt holds it briefly).
_WAIT_FOR_LOCK = sa.text("SELECT true FROM (SELECT pg_advisory_xact_lock(hashtext('taskapi.purge'))) AS locked")
_CLAIM = sa.text("""
INSERT INTO maintenance_runs AS m (job, ran_at) VALUES ('purge', now())
ON CONFLICT (job) DO UPDATE SET ran_at = now() WHERE m.ran_at < now() - make_interval(secs => :every)
RETURNING ran_at
""")
# Each returns how many rows it removed. A destroyed task leaves its id and deletion number for the change feed
# (as taskapi/tasks/trash/trashing.py: destroying does); those are forgotten after CHANGES_RETENTION_DAYS, which raises
# the user's `forgotten_seq`: older feed positions are then a 410.
_SWEEPS = {
    "expired_trash": sa.text("""
WITH gone AS (
  DELETE FROM trashed_tasks WHERE id IN (
    SELECT id FROM trashed_tasks WHERE deleted_at < now() - make_interval(secs => :trash_retention)
    ORDER BY deleted_at LIMIT :batch FOR UPDATE SKIP LOCKED)
  RETURNING user_id, change_seq, id),
destroyed AS (INSERT INTO destroyed_tasks (user_id, change_seq, id) SELECT user_id, change_seq, id FROM gone)
SELECT count(*) FROM gone
"""),
    # Deleted lists (their tasks are trashed tasks, swept above at the same age), remembered by the feed by kind.
    "expired_lists": sa.text("""
WITH gone AS (
  DELETE FROM trashed_lists WHERE id IN (
    SELECT id FROM trashed_lists WHERE deleted_at < now() - make_interval(secs => :trash_retention)
    ORDER BY deleted_at LIMIT :batch FOR UPDATE SKIP LOCKED)
  RETURNING user_id, change_seq, id),
destroyed AS (
  INSERT INTO destroyed_tasks (user_id, change_seq, id, kind) SELECT user_id, change_seq, id, 'list' FROM gone)
SELECT count(*) FROM gone
"""),
    # A trash holds at most the trash limit (MAX_TASKS_PER_USER): deleting is not a way around the quota's bound on
    # storage. Only the users over it are read (migration 0011 counts each trash), oldest tasks first.
    "trash_over_limit": sa.text("""
WITH over AS (
  SELECT user_id, trashed - :limit AS excess FROM trash_counts WHERE trashed > :limit LIMIT :batch),
doomed AS (
  SELECT t.id FROM over CROSS JOIN LATERAL (
    SELECT id FROM trashed_tasks WHERE user_id = over.user_id ORDER BY deleted_at, id
    LIMIT least(over.excess, :batch) FOR UPDATE SKIP LOCKED) AS t
  LIMIT :batch),
gone AS (
  DELETE FROM trashed_tasks WHERE id IN (SELECT id FROM doomed)
  RETURNING user_id, change_seq, id),
destroyed AS (INSERT INTO destroyed_tasks (user_id, change_seq, id) SELECT user_id, change_seq, id FROM gone)
SELECT count(*) FROM gone
"""),
    "forgotten_deletions": sa.text("""
WITH forgotten AS (
  DELETE FROM destroyed_tasks WHERE (user_id, change_seq) IN (
    SELECT user_id, change_seq FROM destroyed_tasks
    WHERE destroyed_at < now() - make_interval(secs => :changes_retention) LIMIT :batch FOR UPDATE SKIP LOCKED)
  RETURNING user_id, change_seq),
raised AS (
  UPDATE task_counts AS c SET forgotten_seq = greatest(c.forgotten_seq, f.seq)
  FROM (SELECT user_id, max(change_seq) AS seq FROM forgotten GROUP BY user_id) AS f WHERE c.user_id = f.user_id)
SELECT count(*) FROM forgotten
"""),
    # Leases of live-event streams long over (taskapi/sync/hub.py).
    "expired_listeners": sa.text("""
WITH gone AS (
  DELETE FROM event_listeners WHERE user_id IN (
    SELECT user_id FROM event_listeners WHERE until < now() - interval '1 hour'
    LIMIT :batch FOR UPDATE SKIP LOCKED)
  RETURNING 1)
SELECT count(*) FROM gone
"""),
    "idempotency_keys": sa.text("""
WITH gone AS (
  DELETE FROM idempotency_keys WHERE (user_id, key) IN (
    SELECT user_id, key FROM idempotency_keys WHERE created_at < now() - interval '24 hours'
    LIMIT :batch FOR UPDATE SKIP LOCKED)
  RETURNING 1)
SELECT count(*) FROM gone
"""),
}


# The limit in force: the highest applied so far, or the configured one when the operator applies a lower one.
_TRASH_LIMIT = sa.text("""
INSERT INTO maintenance_runs AS m (job, ran_at, trash_limit) VALUES ('trash_limit', now(), :configured)
ON CONFLICT (job) DO UPDATE
SET ran_at = now(), trash_limit = CASE WHEN :apply_lower THEN :configured
                                       ELSE greatest(m.trash_limit, :configured) END
RETURNING trash_limit
""")

SWEPT = PrometheusCounter("taskapi_sweep_removed_total", "Rows the sweep removed", ["kind"])
SWEEP_FAILURES = PrometheusCounter("taskapi_sweep_failures_total", "Sweeps of one kind of row that failed", ["kind"])


class _Busy(Exception):
    """Another worker holds the sweep's lock."""


async def _batches(engine: AsyncEngine, statement, params: dict, claimed: bool) -> int:
    """Run a sweep's statement in batches (each a short transaction) until it removes less than a batch."""
    removed, count = 0, BATCH
    while count == BATCH:
        async with AsyncSession(engine) as session, session.begin():
            if not (await session.exec(_WAIT_FOR_LOCK if claimed else _LOCK)).scalar_one():
                raise _Busy
            count = (await session.exec(statement, params=params)).scalar_one()
        removed += count
    return removed


async def _trash_limit(engine: AsyncEngine, settings: Settings, apply_lower: bool) -> int:
    async with AsyncSession(engine) as session, session.begin():
        params = {"configured": settings.max_tasks_per_user, "apply_lower": apply_lower}
        limit = (await session.exec(_TRASH_LIMIT, params=params)).scalar_one()
    if limit > settings.max_tasks_per_user:
        log.warning(
            "purge: MAX_TASKS_PER_USER (%d) is below the trash limit in force (%d): trash beyond it is kept until its "
            "retention is over; `make purge APPLY_LOWER_TRASH_LIMIT=1` applies the lower limit",
            settings.max_tasks_per_user,
            limit,
        )
    return limit


async def _claimed(engine: AsyncEngine, settings: Settings) -> bool:
    async with AsyncSession(engine) as session, session.begin():
        if not (await session.exec(_LOCK)).scalar_one():
            return False
        return (await session.exec(_CLAIM, params={"every": settings.purge_interval_seconds})).first() is not None


async def purge(
    engine: AsyncEngine, settings: Settings, *, when_due: bool = False, apply_lower_trash_limit: bool = False
) -> Counter | None:
    """Sweep each kind of row in batches until nothing is left; how many rows each removed (a kind that failed is
    missing). None if another worker is sweeping, or (`when_due`) if this period's sweep has already been claimed.

    Each batch is a transaction of its own, holding one kind of row lock: a sweep can never deadlock with a
    user's restore, which locks the user's counter row and then the trashed task.
    """
    if when_due and not await _claimed(engine, settings):
        return None
    params = {
        "trash_retention": settings.trash_retention_days * 86400,
        "changes_retention": settings.changes_retention_days * 86400,
        "batch": BATCH,
    }
    removed: Counter = Counter()
    for name, sweep in _SWEEPS.items():
        try:
            if name == "trash_over_limit":
                params["limit"] = await _trash_limit(engine, settings, apply_lower_trash_limit)
            removed[name] = await _batches(engine, sweep, params, claimed=when_due)
        except _Busy:
            return removed or None
        except Exception as error:  # this kind waits for the next sweep; the others still run
            SWEEP_FAILURES.labels(name).inc()
            log.warning("purge: %s failed (%s); the other kinds go on", name, type(error).__name__)
            continue
        SWEPT.labels(name).inc(removed[name])
        log.log(logging.INFO if removed[name] else logging.DEBUG, "purge: %s removed %d", name, removed[name])
    return removed


async def purge_once(settings: Settings, *, apply_lower_trash_limit: bool = False) -> Counter | None:
    """One sweep on an engine of its own, outside the service (`python -m taskapi.cli purge`)."""
    engine = make_engine(settings)
    try:
        return await purge(engine, settings, apply_lower_trash_limit=apply_lower_trash_limit)
    finally:
        await engine.dispose()


# On a database nobody uses, the sweep still runs this often: trash expires with time, not only with use.
IDLE_SWEEP_SECONDS = 86400


class Sweeper:
    """In each worker: try to sweep soon after start, then every PURGE_INTERVAL_SECONDS (with jitter) if the
    worker has used the database since its last try, else once a day, so that an idle service sends nothing that
    would keep a Neon compute from scaling to zero."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self._database, self._settings = database, settings
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="purge-sweeper")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        interval = self._settings.purge_interval_seconds
        # Spread the workers' attempts: a deploy starts them all at once.
        await asyncio.sleep(random.uniform(0, min(interval, 60)))  # noqa: S311 (not a secret)
        uses, tried = None, float("-inf")
        while True:
            if self._database.uses != uses or time.monotonic() - tried >= IDLE_SWEEP_SECONDS:
                uses, tried = self._database.uses, time.monotonic()
                try:
                    await purge(self._database.maintenance_engine, self._settings, when_due=True)
                except Exception as error:  # an outage must not end the loop
                    log.warning("purge failed (%s); next attempt in %d s", type(error).__name__, interval)
            await asyncio.sleep(interval * random.uniform(0.9, 1.1))  # noqa: S311
