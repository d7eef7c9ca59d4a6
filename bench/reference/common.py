"""What both reference stacks share: the list statement the service sends, a pool, and token checks."""

import os
from contextlib import asynccontextmanager

import jwt
import orjson
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

# The service's statement for a first page of 20, newest first (taskapi/tasks/listing.py), as pgbench runs it too.
LIST_SQL = """SELECT id, user_id, title, description, completed, completed_at, priority, due_at, tags, remind_at,
       recurrence, next_occurrence_id, created_at, updated_at, version, created_at AS sort_key
FROM tasks WHERE user_id = %(user_id)s ORDER BY created_at DESC, id DESC LIMIT %(page_size)s"""

_verified: dict[str, str] = {}


def make_pool() -> AsyncConnectionPool:
    """A fixed pool of autocommit connections: one round trip per single-statement read."""
    return AsyncConnectionPool(
        os.environ["DATABASE_URL"],
        min_size=10,
        max_size=10,
        open=False,
        kwargs={"autocommit": True, "prepare_threshold": None, "row_factory": dict_row},
    )


def lifespan_of(pool: AsyncConnectionPool):
    """The app's lifespan: the pool is opened when a worker starts and closed when it stops."""

    @asynccontextmanager
    async def lifespan(_app):
        await pool.open()
        yield
        await pool.close()

    return lifespan


def user_of(token: str) -> str:
    """The token's `sub`, its signature checked once per token (as the service caches it)."""
    if token not in _verified:
        _verified[token] = jwt.decode(
            token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"], options={"require": ["exp", "sub"]}
        )["sub"]
    return _verified[token]


async def list_page(pool: AsyncConnectionPool, user_id: str, page_size: int) -> bytes:
    async with pool.connection() as connection:
        rows = await (await connection.execute(LIST_SQL, {"user_id": user_id, "page_size": page_size + 1})).fetchall()
    for row in rows:
        del row["sort_key"], row["version"]
    return orjson.dumps({"items": rows[:page_size], "next_cursor": None}, option=orjson.OPT_UTC_Z)
