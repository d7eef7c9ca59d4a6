"""The engine, and one transaction per request, committed or rolled back in one place."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import sqlalchemy as sa
from connexion import request
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from taskapi.problems import unavailable
from taskapi.settings import Settings

log = logging.getLogger(__name__)

# What an unreachable, restarting or overloaded database looks like from here.
DATABASE_OUTAGE = (sa.exc.OperationalError, sa.exc.InterfaceError, OSError)


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
                )
            except psycopg.OperationalError as error:
                if deadline - time.monotonic() < delay:
                    raise
                log.warning("database connection attempt failed (%s); retrying in %.1f s", type(error).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    return connect


def make_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        sqlalchemy_url(settings.database_url),
        async_creator=_connector(settings),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        # A connection that died while idle (Neon scaled to zero, a restart) is replaced, not used.
        pool_pre_ping=True,
        pool_recycle=300,
        # Error messages and logs never carry statement parameters: titles and descriptions are the users'.
        hide_parameters=True,
    )


@asynccontextmanager
async def transaction() -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commit if the block succeeds, roll back if anything raises."""
    engine: AsyncEngine = request.state.engine
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            yield session
    except sa.exc.TimeoutError:
        log.warning("no database connection free within DB_POOL_TIMEOUT: overloaded")
        raise unavailable("The service is overloaded right now; nothing was changed. Try again shortly.") from None
    except DATABASE_OUTAGE as error:
        cause = getattr(error, "orig", error)
        if isinstance(cause, psycopg.errors.QueryCanceled):
            # statement_timeout (migration 0003): a stuck query frees its worker instead of pinning it.
            log.warning("statement cancelled by statement_timeout")
            raise unavailable("The database took too long to answer; nothing was changed. Try again shortly.") from None
        log.warning("database unavailable: %s", type(cause).__name__)
        raise unavailable("The database cannot be reached right now. Try again shortly.") from None
