"""The requests' connections: at most DB_POOL_SIZE, taken first come first served, made by the request that needs
one, replaced when the server has ended them.

Why not psycopg_pool: it makes connections in background workers, so a request waiting for one while the database
cannot be reached waits its whole DB_POOL_TIMEOUT and learns only that it timed out. Here the request that needs a
new connection makes it, and a database that cannot be reached is that request's error at once (a 503 saying so).
"""

import asyncio
import select
import time
from collections import deque
from collections.abc import Awaitable, Callable

import psycopg

# A connection older than this is closed when it comes back, not reused (a pooler or Neon may end old ones).
MAX_LIFETIME_SECONDS = 300


class PoolTimeout(Exception):
    """No connection came free within the wait allowed."""


def usable(connection: psycopg.AsyncConnection) -> bool:
    """Whether an idle connection is still open at the server: cheaper than a `SELECT 1` round trip.

    A pooled connection waits idle with nothing to read. When the server ends it (a restart, a killed backend,
    Neon scaling to zero, a pooler closing it) the socket becomes readable: a FATAL error, then end of file. One
    non-blocking poll of the socket sees that.
    """
    if connection.closed or connection.pgconn.status != psycopg.pq.ConnStatus.OK:
        return False
    poller = select.poll()  # not select.select(): it fails on descriptors above 1023
    poller.register(connection.pgconn.socket, select.POLLIN)
    return not poller.poll(0)


class ConnectionPool:
    def __init__(
        self, connect: Callable[[], Awaitable[psycopg.AsyncConnection]], size: int, wait_seconds: float
    ) -> None:
        self._connect = connect
        self._size = size
        self._wait_seconds = wait_seconds
        # Requests wait for a connection here, first come first served (asyncio.Semaphore is fair, when a request
        # arriving while others wait queues behind them instead of taking the one just given back).
        self._slots = asyncio.Semaphore(size)
        self._idle: deque[tuple[psycopg.AsyncConnection, float]] = deque()
        self._in_use = 0
        self._closing: set[asyncio.Task] = set()

    async def acquire(self) -> tuple[psycopg.AsyncConnection, float]:
        """A connection (in autocommit, outside any transaction) and when it was made; PoolTimeout, or the error
        that made connecting fail. Give it back with `release`."""
        if self._slots.locked():
            try:
                async with asyncio.timeout(self._wait_seconds):
                    await self._slots.acquire()
            except TimeoutError:
                raise PoolTimeout from None
        else:
            await self._slots.acquire()  # at once
        self._in_use += 1
        try:
            return await self._take()
        except BaseException:
            self._in_use -= 1
            self._slots.release()
            raise

    def release(self, connection: psycopg.AsyncConnection, made_at: float) -> None:
        self._give_back(connection, made_at)
        self._in_use -= 1
        self._slots.release()

    async def _take(self) -> tuple[psycopg.AsyncConnection, float]:
        while self._idle:
            connection, made_at = self._idle.pop()  # the most recently used: the others may grow old and go
            if usable(connection):
                return connection, made_at
            await connection.close()
        return await self._connect(), time.monotonic()

    def _give_back(self, connection: psycopg.AsyncConnection, made_at: float) -> None:
        idle = connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        if idle and not connection.closed and time.monotonic() - made_at < MAX_LIFETIME_SECONDS:
            self._idle.append((connection, made_at))
        else:  # broken, left in a transaction, or old
            closing = asyncio.get_running_loop().create_task(connection.close())
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    def stats(self) -> tuple[int, int]:
        """Connections in use, and idle."""
        return self._in_use, len(self._idle)

    async def close(self) -> None:
        await asyncio.gather(*self._closing, return_exceptions=True)
        while self._idle:
            connection, _ = self._idle.pop()
            await connection.close()
