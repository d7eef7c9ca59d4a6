"""The engine, and a request's unit of work: one statement in autocommit, or a transaction, in one place."""

import asyncio
import logging
import select
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar

import psycopg
import sqlalchemy as sa
from connexion import request
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from taskapi.settings import Settings

log = logging.getLogger(__name__)

# What an unreachable, restarting or overloaded database looks like from here: wrapped by SQLAlchemy, or as psycopg
# raises it for the statements sent on the session's connection directly (taskapi/db/statements.py).
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


def _connector(settings: Settings):
    """Connect, retrying with backoff while the budget lasts: a cold Neon compute can refuse or time out
    the first attempts. Only connecting is retried, never a statement, so no write is ever sent twice."""
    conninfo = libpq_conninfo(settings.database_url)

    async def connect() -> psycopg.AsyncConnection:
        deadline = time.monotonic() + settings.db_connect_budget
        delay = 0.1
        while True:
            remaining = deadline - time.monotonic()
            try:
                return await psycopg.AsyncConnection.connect(
                    conninfo,
                    # Neon's pooled endpoint is PgBouncer in transaction mode: no server-side prepared statements.
                    prepare_threshold=None,
                    connect_timeout=max(2, min(settings.db_connect_timeout, int(remaining))),
                    application_name=settings.db_application_name,
                )
            except psycopg.OperationalError as error:
                if deadline - time.monotonic() < delay:
                    raise
                log.warning("database connection attempt failed (%s); retrying in %.1f s", type(error).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    return connect


def _closed_while_idle(dbapi_connection, _record, _proxy) -> None:
    """Checkout's liveness check, instead of a `SELECT 1` round trip (pool_pre_ping) on every request.

    A pooled connection waits idle with nothing to read. When the server ends it (a restart, a killed
    backend, Neon scaling to zero, a pooler closing it) the socket becomes readable: a FATAL error, then
    end of file. One non-blocking poll of the socket sees that, and the pool replaces the connection.
    """
    connection: psycopg.AsyncConnection = dbapi_connection.driver_connection
    if connection.closed or connection.pgconn.status != psycopg.pq.ConnStatus.OK:
        raise sa.exc.DisconnectionError("connection closed")
    poller = select.poll()  # not select.select(): it fails on descriptors above 1023
    poller.register(connection.pgconn.socket, select.POLLIN)
    if poller.poll(0):
        raise sa.exc.DisconnectionError("the server ended the idle connection")


def make_engine(settings: Settings, **options) -> AsyncEngine:
    options = {
        "pool_size": settings.db_pool_size,
        # No limit of its own: `Database.slots` keeps checkouts within pool_size, and checkouts skip the timed
        # wait (a task per checkout) a bounded overflow would make.
        "max_overflow": -1,
        **options,
    }
    engine = create_async_engine(
        sqlalchemy_url(settings.database_url),
        **options,
        async_creator=_connector(settings),
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
    """One per worker: the engine, the same pool lent in autocommit, a fair queue in front of the pool, and one
    maintenance connection.

    A worker's connection budget is DB_POOL_SIZE (every request and the rate limiter's sync wait for one of
    `slots`), plus the LISTEN connection of live events (taskapi/sync/hub.py), plus the maintenance connection
    (sweeps, readiness probes, live events' lease renewals and heartbeats, which must never take a request's
    connection nor open more).
    """

    def __init__(self, settings: Settings) -> None:
        # The pool's connections stay in autocommit, which most requests use. Switching a connection's mode costs
        # CPU on every checkout and again on its return (about 0.08 ms a request), so only transactions pay it.
        self.autocommit_engine = make_engine(settings, isolation_level="AUTOCOMMIT")
        self.engine = self.autocommit_engine.execution_options(isolation_level="READ COMMITTED")
        # Requests wait for a connection here, first come first served (asyncio.Semaphore is fair). The pool's
        # own queue is not: a request arriving just as a connection comes back takes the one a waiter was
        # woken for, and that waiter goes back to the end; under load some requests starved for a second.
        self.slots = asyncio.Semaphore(settings.db_pool_size)
        self.wait_seconds = settings.db_pool_timeout
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
        await self.engine.dispose()
        await self.maintenance_engine.dispose()


# The transaction of a batch (taskapi/batch), in which every operation's statements run.
_ENCLOSING: ContextVar[AsyncSession | None] = ContextVar("enclosing_transaction", default=None)


@contextmanager
def enclosed_in(session: AsyncSession):
    """Within this block, `transaction()` and `statement()` run in `session`'s transaction: the operations of a
    batch commit together, or not at all."""
    token = _ENCLOSING.set(session)
    try:
        yield
    finally:
        _ENCLOSING.reset(token)


@asynccontextmanager
async def transaction() -> AsyncIterator[AsyncSession]:
    """Several statements as one: commit if the block succeeds, roll back if anything raises."""
    if (enclosing := _ENCLOSING.get()) is not None:
        yield enclosing
        return
    database: Database = request.state.db
    async with _unit_of_work(database, database.engine) as session, session.begin():
        yield session


@asynccontextmanager
async def statement() -> AsyncIterator[AsyncSession]:
    """One statement, atomic by itself: sent in autocommit, without BEGIN and COMMIT round trips. Only for
    blocks whose writes are a single statement (reads that follow it, such as explaining a 404, are fine)."""
    if (enclosing := _ENCLOSING.get()) is not None:
        yield enclosing
        return
    database: Database = request.state.db
    async with _unit_of_work(database, database.autocommit_engine) as session:
        yield session


@asynccontextmanager
async def _unit_of_work(database: Database, engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session on `engine` once a connection is free, and the database's failures as one exception
    (DatabaseUnavailable), in one place."""
    if database.slots.locked():
        try:
            async with asyncio.timeout(database.wait_seconds):
                await database.slots.acquire()
        except TimeoutError:
            log.warning("no database connection free within DB_POOL_TIMEOUT: overloaded")
            raise DatabaseUnavailable(
                "The service is overloaded right now; nothing was changed. Try again shortly."
            ) from None
    else:
        await database.slots.acquire()  # at once
    database.uses += 1
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            yield session
    except DATABASE_OUTAGE as error:
        cause = getattr(error, "orig", error)
        if isinstance(cause, psycopg.errors.QueryCanceled):
            # statement_timeout (migration 0003): a stuck query frees its worker instead of pinning it.
            log.warning("statement cancelled by statement_timeout")
            raise DatabaseUnavailable(
                "The database took too long to answer; nothing was changed. Try again shortly."
            ) from None
        log.warning("database unavailable: %s", type(cause).__name__)
        raise DatabaseUnavailable("The database cannot be reached right now. Try again shortly.") from None
    finally:
        database.slots.release()
