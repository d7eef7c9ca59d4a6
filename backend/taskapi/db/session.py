"""The database: a pool of psycopg connections for requests, and a request's unit of work (one statement in
autocommit, or a transaction), in one place.

Requests talk to Postgres through psycopg and its pool alone (statements are built once with SQLAlchemy Core and
sent compiled: taskapi/db/statements.py): an ORM session, its execution context, result objects and the greenlet
hop into the driver cost about as much CPU as everything else a list request does. Background jobs (sweeps,
reminders, pushes, readiness probes, live events' leases) keep one SQLAlchemy connection of their own, the
maintenance engine, which must never take a request's connection nor open more.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable
from datetime import UTC, datetime

import psycopg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from taskapi.db.pool import ConnectionPool, PoolTimeout, usable
from taskapi.settings import Settings

log = logging.getLogger(__name__)

# What an unreachable, restarting or overloaded database looks like from here: as psycopg raises it, or wrapped by
# SQLAlchemy (the maintenance engine).
DATABASE_OUTAGE = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    OSError,
)


class DatabaseUnavailable(Exception):
    """The database cannot serve this unit of work now (unreachable, overloaded, too slow); nothing was changed.
    The HTTP edge answers it with a 503 (taskapi/http/problems.py)."""


def sqlalchemy_url(database_url: str) -> sa.URL:
    """Take the URL as Neon prints it (postgresql://…?sslmode=require) and use the psycopg 3 driver."""
    return sa.make_url(database_url).set(drivername="postgresql+psycopg")


def libpq_conninfo(database_url: str) -> str:
    """The URL's parts as libpq keywords, query parameters (sslmode, channel_binding, …) included."""
    url = sa.make_url(database_url)
    parts = {"host": url.host, "port": url.port, "user": url.username, "password": url.password, "dbname": url.database}
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in {**parts, **url.query}.items() if v is not None})


def _patient(settings: Settings):
    """Connect, retrying with backoff while DB_CONNECT_BUDGET lasts: a cold Neon compute can refuse or time out the
    first attempts. Only connecting is retried, never a statement, so no write is ever sent twice."""

    async def connect(conninfo: str = "", **options) -> psycopg.AsyncConnection:
        deadline = time.monotonic() + settings.db_connect_budget
        delay = 0.1
        while True:
            remaining = deadline - time.monotonic()
            try:
                return await psycopg.AsyncConnection.connect(
                    conninfo, **options, connect_timeout=max(2, min(settings.db_connect_timeout, int(remaining)))
                )
            except psycopg.OperationalError as error:
                if deadline - time.monotonic() < delay:
                    raise
                log.warning("database connection attempt failed (%s); retrying in %.1f s", type(error).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    return connect


def _closed_while_idle(dbapi_connection, _record, _proxy) -> None:
    """The maintenance engine's check at checkout: a connection the server ended while idle is replaced."""
    if not usable(dbapi_connection.driver_connection):
        raise sa.exc.DisconnectionError("the server ended the idle connection")


def make_engine(settings: Settings, **options) -> AsyncEngine:
    """A SQLAlchemy engine, for the maintenance connection and the command line."""
    engine = create_async_engine(
        sqlalchemy_url(settings.database_url),
        **options,
        async_creator=lambda: _patient(settings)(
            libpq_conninfo(settings.database_url),
            prepare_threshold=None,
            application_name=settings.db_application_name,
        ),
        pool_recycle=300,
        # Error messages and logs never carry statement parameters: titles and descriptions are the users'.
        hide_parameters=True,
    )
    sa.event.listen(engine.sync_engine.pool, "checkout", _closed_while_idle)
    return engine


# Readiness probes a worker's database at most this often; probes arriving meanwhile share the last answer.
PROBE_EVERY_SECONDS = 1.0
PROBE_TIMEOUT_SECONDS = 3
_PROBE = sa.text("SELECT 1")


class Database:
    """One per worker: the requests' pool, and one maintenance connection.

    A worker's connection budget is DB_POOL_SIZE (every request and the rate limiter's sync wait for one, first
    come first served, up to DB_POOL_TIMEOUT: taskapi/db/pool.py), plus live events' two (the LISTEN connection,
    taskapi/sync/hub.py, and one that announces and reads changes, taskapi/sync/announcer.py and delivery.py),
    plus the maintenance connection.
    """

    def __init__(self, settings: Settings) -> None:
        connect, conninfo = _patient(settings), libpq_conninfo(settings.database_url)

        def pooled() -> Awaitable[psycopg.AsyncConnection]:
            return connect(
                conninfo,
                # Most requests are one statement: the connections stay in autocommit; a transaction says BEGIN.
                autocommit=True,
                # Neon's pooled endpoint is PgBouncer in transaction mode: no server-side prepared statements.
                prepare_threshold=None,
                application_name=settings.db_application_name,
            )

        self.pool = ConnectionPool(pooled, size=settings.db_pool_size, wait_seconds=settings.db_pool_timeout)
        # Live events' own connection (announcing changes, reading them for streams): never queued behind requests.
        self.live_pool = ConnectionPool(pooled, size=1, wait_seconds=settings.db_pool_timeout)
        # Units of work begun: background jobs that need not wake an idle database (the sweep) run after use.
        self.uses = 0
        self.maintenance_engine = make_engine(settings, pool_size=1, max_overflow=0, pool_timeout=PROBE_TIMEOUT_SECONDS)
        self._probe: asyncio.Future[str] | None = None
        self._probed_at = float("-inf")

    async def probe(self) -> str:
        """ "ok" if the database answers, else why not; sent at most once a second, whoever asks."""
        if self._probe is None or (self._probe.done() and time.monotonic() - self._probed_at >= PROBE_EVERY_SECONDS):
            self._probed_at = time.monotonic()
            self._probe = asyncio.ensure_future(self._select_one())
        # Shielded: a prober that gives up does not cancel the answer others are waiting for.
        return await asyncio.shield(self._probe)

    async def _select_one(self) -> str:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS), self.maintenance_engine.connect() as connection:
                await connection.execute(_PROBE)
        except Exception as error:
            return f"unreachable ({type(error).__name__})"
        return "ok"

    async def dispose(self) -> None:
        await self.pool.close()
        await self.live_pool.close()
        await self.maintenance_engine.dispose()


class Work:
    """A unit of work: one pooled connection, for one statement in autocommit or for a transaction's statements
    (taskapi/db/statements.py runs them); and what its writes leave for once they are committed: the pending
    reminders they set, for the worker's reminder clock (taskapi/sync/after_request.py)."""

    __slots__ = ("connection", "reminders")

    def __init__(self, connection: psycopg.AsyncConnection, reminders: list[datetime]) -> None:
        self.connection = connection
        self.reminders = reminders

    def remind(self, remind_at: datetime) -> None:
        """A pending reminder this unit's writes set (or made pending again)."""
        self.reminders.append(remind_at)

    def remind_many(self) -> None:
        """Many reminders made pending at once (a list restored with its tasks): the clock reads the earliest anew."""
        self.reminders.append(datetime.min.replace(tzinfo=UTC))


def _unavailable(error: BaseException) -> DatabaseUnavailable | None:
    """The database's failure as the one exception the HTTP edge answers (a 503); None for any other error."""
    if isinstance(error, PoolTimeout):
        log.warning("no database connection free within DB_POOL_TIMEOUT: overloaded")
        return DatabaseUnavailable("The service is overloaded right now; nothing was changed. Try again shortly.")
    if isinstance(error, psycopg.errors.QueryCanceled):
        # statement_timeout (migration 0003): a stuck query frees its worker instead of pinning it.
        log.warning("statement cancelled by statement_timeout")
        return DatabaseUnavailable("The database took too long to answer; nothing was changed. Try again shortly.")
    if isinstance(error, DATABASE_OUTAGE):
        log.warning("database unavailable: %s", type(error).__name__)
        return DatabaseUnavailable("The database cannot be reached right now. Try again shortly.")
    return None


class _UnitOfWork:
    """`async with`: a pooled connection as a Work, in a transaction if asked (committed if the block succeeds,
    rolled back if it raises), given back in the end; the database's failures as DatabaseUnavailable."""

    __slots__ = ("_database", "_in_transaction", "_live", "_reminders", "_taken", "_transaction")

    def __init__(
        self, database: Database, in_transaction: bool, live: bool = False, reminders: list | None = None
    ) -> None:
        self._database = database
        self._in_transaction = in_transaction
        self._live = live
        self._reminders = [] if reminders is None else reminders
        self._taken = None
        self._transaction = None

    @property
    def _pool(self) -> ConnectionPool:
        return self._database.live_pool if self._live else self._database.pool

    async def __aenter__(self) -> Work:
        self._database.uses += 1
        try:
            self._taken = await self._pool.acquire()
            if self._in_transaction:
                self._transaction = self._taken[0].transaction()
                await self._transaction.__aenter__()
        except BaseException as error:
            if self._taken is not None:
                self._pool.release(*self._taken)
                self._taken = None
            mapped = _unavailable(error)
            if mapped is not None:
                raise mapped from None
            raise
        return Work(self._taken[0], self._reminders)

    async def __aexit__(self, kind, error, traceback) -> bool:
        if self._taken is None:
            return False
        ending = None  # the commit's (or rollback's) own failure
        try:
            if self._transaction is not None:
                await self._transaction.__aexit__(kind, error, traceback)
        except BaseException as failure:
            ending = failure
        finally:
            self._pool.release(*self._taken)
        mapped = _unavailable(ending or error) if (ending or error) is not None else None
        if mapped is not None:
            raise mapped from None
        if ending is not None:
            raise ending
        return False


def transaction(database: Database, reminders: list | None = None) -> _UnitOfWork:
    """Several statements as one: commit if the block succeeds, roll back if anything raises."""
    return _UnitOfWork(database, in_transaction=True, reminders=reminders)


def statement(database: Database, live: bool = False, reminders: list | None = None) -> _UnitOfWork:
    """One statement, atomic by itself: sent in autocommit, without BEGIN and COMMIT round trips. Only for blocks
    whose writes are a single statement (reads that follow it, such as explaining a 404, are fine). `live`: on live
    events' own connection."""
    return _UnitOfWork(database, in_transaction=False, live=live, reminders=reminders)
