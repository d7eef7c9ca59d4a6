"""The engine, and one transaction per request, committed or rolled back in one place."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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


def make_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        sqlalchemy_url(settings.database_url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        # A connection that died while idle (Neon scaled to zero, a restart) is replaced, not used.
        pool_pre_ping=True,
        pool_recycle=300,
        connect_args={
            # Neon's pooled endpoint is PgBouncer in transaction mode: no server-side prepared statements.
            "prepare_threshold": None,
            "connect_timeout": settings.db_connect_timeout,
        },
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
        log.warning("database unavailable: %s", type(error).__name__)
        raise unavailable("The database cannot be reached right now. Try again shortly.") from None
