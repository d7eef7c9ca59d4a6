"""Read replicas (DATABASE_URL_REPLICAS): a read goes to one only when it holds every change the reading user had
committed when the read arrived, so nobody ever sees their own change disappear, whichever worker, replica or
device made it.

How a read knows. Every transaction that changes a user's tasks or lists updates the user's `task_counts` row (it
takes its change numbers there: migration 0020), or, destroying tasks in the trash, the user's `trash_counts` row;
and a standby replays transactions in commit order. So a replica that holds the same versions of those two rows
(their `xmin`) as the primary has replayed every change of that user the primary had committed. A read waits for
its worker's next *check*, begun after the read arrived: one statement reads the waiting users' row versions on
the primary, the same statement reads them on each replica, all at once. The read then goes to a replica whose
versions match (in turn, among several), or else to the primary. One check serves every read waiting when it
starts, so under load it costs the primary two primary-key lookups per user per round trip, not a list's scan,
sort and rows; each replica the same.

A replica that lags or stops replaying loses only the reads of users who wrote since: others keep using it. One
that cannot be reached, fails, or does not answer its check within REPLICA_CHECK_SECONDS is left out for
REPLICA_RETRY_SECONDS, and its reads go to the primary at once; a read it fails is read again on the primary (a
read changes nothing, so it may run twice). No error of a replica ever reaches a client. An idle worker checks
nothing, so replicas and primary alike may scale to zero.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg
import sqlalchemy as sa
from prometheus_client import Counter

from taskapi.db.pool import ConnectionPool, PoolTimeout
from taskapi.db.session import DATABASE_OUTAGE, Database, Work, libpq_conninfo, statement
from taskapi.db.statements import fetch_all
from taskapi.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

REPLICA_READS = Counter("taskapi_replica_reads_total", "Reads a read replica served", ["replica"])
PRIMARY_READS = Counter(
    "taskapi_replica_fallbacks_total",
    "Reads that could have gone to a read replica but went to the primary, by why: `behind` (no replica had all the "
    "user's changes), `unavailable` (no replica could be reached, checked in time, or had a connection free), "
    "`failed` (the replica failed the read itself, which the primary then answered)",
    ["reason"],
)

# The longest a check waits for a replica's answer; one slower is left out for a while, its reads on the primary.
REPLICA_CHECK_SECONDS = 0.5
REPLICA_RETRY_SECONDS = 1.0

# Each user's row versions; a user without rows (no write yet) has "-/-" on every server.
_VERSIONS = sa.text("""
SELECT u.user_id, coalesce(c.xmin::text, '-') || '/' || coalesce(t.xmin::text, '-') AS version
FROM unnest(CAST(:users AS text[])) AS u(user_id)
LEFT JOIN task_counts AS c ON c.user_id = u.user_id
LEFT JOIN trash_counts AS t ON t.user_id = u.user_id
""")

# What a replica's failure looks like: the database's outages, and a standby cancelling a read that conflicts with
# the changes it replays ("canceling statement due to conflict with recovery").
_REPLICA_FAILURE = (*DATABASE_OUTAGE, PoolTimeout, psycopg.errors.SerializationFailure, psycopg.errors.QueryCanceled)


class ReadReplica:
    def __init__(self, number: int, url: str, pool_size: int, connect_timeout: int, application_name: str) -> None:
        self.label = str(number)
        conninfo = libpq_conninfo(url)

        def connect() -> Awaitable[psycopg.AsyncConnection]:
            # One attempt: a replica that cannot be reached is left out, its reads on the primary, not waited for.
            return psycopg.AsyncConnection.connect(
                conninfo,
                autocommit=True,
                prepare_threshold=None,
                application_name=application_name,
                connect_timeout=connect_timeout,
            )

        self.pool = ConnectionPool(connect, size=pool_size, wait_seconds=REPLICA_CHECK_SECONDS)
        self.left_out_until = float("-inf")

    @property
    def usable(self) -> bool:
        return time.monotonic() >= self.left_out_until

    def leave_out(self, why: BaseException) -> None:
        if self.usable:
            log.warning("read replica %s left out (%s)", self.label, type(why).__name__)
        self.left_out_until = time.monotonic() + REPLICA_RETRY_SECONDS

    async def versions(self, users: list[str]) -> dict[str, str]:
        return await self.read(lambda work: _versions(work, users))

    async def read(self, fn: Callable[[Work], Awaitable[T]]) -> T:
        connection, made_at = await self.pool.acquire()
        try:
            return await fn(Work(connection, []))
        finally:
            self.pool.release(connection, made_at)


class ReadReplicas:
    """One per worker, beside its Database (the primary): `read_replicas(settings, database)` makes it."""

    def __init__(self, primary: Database, replicas: list[ReadReplica]) -> None:
        self._primary = primary
        self.replicas = replicas
        self._waiting: dict[str, list[asyncio.Future]] = {}
        self._checking: asyncio.Task | None = None
        self._late: set[asyncio.Task] = set()
        self._turn = 0

    async def read(self, user_id: str, fn: Callable[[Work], Awaitable[T]]) -> T:
        """`fn`'s answer, read on a replica that has every change `user_id` had committed, else on the primary."""
        replica = await self._caught_up(user_id)
        if isinstance(replica, ReadReplica):
            try:
                answer = await replica.read(fn)
            except _REPLICA_FAILURE as error:
                replica.leave_out(error)
                PRIMARY_READS.labels("unavailable" if isinstance(error, PoolTimeout) else "failed").inc()
            else:
                REPLICA_READS.labels(replica.label).inc()
                return answer
        elif replica is not None:
            PRIMARY_READS.labels(replica).inc()
        async with statement(self._primary) as work:
            return await fn(work)

    async def _caught_up(self, user_id: str) -> ReadReplica | str | None:
        """The replica to read on, or why none (None: the primary's own check failed)."""
        waiting = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(user_id, []).append(waiting)
        if self._checking is None:
            self._checking = asyncio.get_running_loop().create_task(self._check_while_waited_for())
        return await waiting

    async def _check_while_waited_for(self) -> None:
        waiting: dict[str, list[asyncio.Future]] = {}
        try:
            while self._waiting:
                waiting, self._waiting = self._waiting, {}
                try:
                    chosen = await self._check(list(waiting))
                except Exception:
                    log.exception("checking the read replicas failed")
                    chosen = {}
                _answer(waiting, chosen)
        finally:
            # Cancelled (the worker stops): what still waits reads on the primary.
            _answer(waiting, {})
            _answer(self._waiting, {})
            self._checking = None

    async def _check(self, users: list[str]) -> dict[str, ReadReplica | str]:
        """Which replica each user's reads go to, or why to the primary; users missing: the primary failed."""
        usable = [replica for replica in self.replicas if replica.usable]
        if not usable:
            return dict.fromkeys(users, "unavailable")
        # Not cancelled when late, only no longer waited for: psycopg waits for a cancelled query to end, and one that
        # does not answer is what is being left out. Late answers finish (or fail) on their own, unseen.
        loop = asyncio.get_running_loop()
        asked = {replica: loop.create_task(replica.versions(users)) for replica in usable}
        give_up_at = loop.time() + REPLICA_CHECK_SECONDS
        try:
            primary = await self._primary_versions(users)
        except Exception:  # the reads go to the primary, and meet its failure there
            primary = None
        done, late = await asyncio.wait(asked.values(), timeout=max(0, give_up_at - loop.time()))
        for task in late:
            self._late.add(task)
            task.add_done_callback(_forget_late(self._late))
        if primary is None:
            return {}
        answered: list[tuple[ReadReplica, dict[str, str]]] = []
        for replica, task in asked.items():
            failure = task.exception() if task in done else TimeoutError()
            if failure is not None:
                replica.leave_out(failure)
            else:
                answered.append((replica, task.result()))
        chosen: dict[str, ReadReplica | str] = {}
        for user in users:
            candidates = [replica for replica, versions in answered if versions[user] == primary[user]]
            if candidates:
                self._turn += 1
                chosen[user] = candidates[self._turn % len(candidates)]
            else:
                chosen[user] = "behind" if answered else "unavailable"
        return chosen

    async def _primary_versions(self, users: list[str]) -> dict[str, str]:
        async with statement(self._primary) as work:
            return await _versions(work, users)

    async def close(self) -> None:
        for task in self._late:
            task.cancel()
        for replica in self.replicas:
            await replica.pool.close()


async def _versions(work: Work, users: list[str]) -> dict[str, str]:
    return {row["user_id"]: row["version"] for row in await fetch_all(work, _VERSIONS, {"users": users})}


def _forget_late(late: set[asyncio.Task]) -> Callable[[asyncio.Task], None]:
    def forget(task: asyncio.Task) -> None:
        late.discard(task)
        if not task.cancelled():
            task.exception()  # seen: asyncio would otherwise log it as never retrieved

    return forget


def _answer(waiting: dict[str, list[asyncio.Future]], chosen: dict) -> None:
    for user, futures in waiting.items():
        for future in futures:
            if not future.done():  # its request may have gone
                future.set_result(chosen.get(user))


def read_replicas(settings: Settings, primary: Database) -> ReadReplicas | None:
    """The worker's read replicas, or None without DATABASE_URL_REPLICAS (every read on the primary)."""
    if not settings.replica_urls:
        return None
    replicas = [
        ReadReplica(number, url, settings.db_pool_size, settings.db_connect_timeout, settings.db_application_name)
        for number, url in enumerate(settings.replica_urls, start=1)
    ]
    return ReadReplicas(primary, replicas)
