"""The hot statements, sent straight on the connection their SQLModel session holds.

Each request of the task operations starts with one statement that SQLAlchemy built once from the SQLModel
tables (a few, such as completing a recurring task, send more through `session.exec`).
Executing it through the session costs about 0.1 ms of CPU a time on top of psycopg's own work: an execution
context, result metadata, row objects and a greenlet hop for every call into the driver. Here SQLAlchemy
compiles the statement once, and each request sends the SQL with psycopg on the session's connection, in the
session's transaction (or autocommit), and reads dict rows. The values go through each column type's bind
processor, as SQLAlchemy would send them.

Only statements whose SQL is complete once compiled qualify: no values SQLAlchemy computes in Python at
execution time (column defaults: let the server's defaults apply) and no lists expanded per execution (`IN`:
use `= ANY(array)`). `compiled()` refuses the others when first used.

psycopg's own exceptions come out of here, not SQLAlchemy's wrappers (taskapi/db/session.py maps both).
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from psycopg.rows import dict_row
from sqlmodel.ext.asyncio.session import AsyncSession


@dataclass(frozen=True)
class Compiled:
    sql: str
    compiled: sa.engine.Compiled
    processors: dict[str, Callable[[Any], Any]]

    def parameters(self, values: dict) -> dict:
        """Every parameter of the SQL (the statement's own literals included), as the driver takes them."""
        params = self.compiled.construct_params(values)
        for name, process in self.processors.items():
            params[name] = process(params[name])
        return params


# Keyed by the statement object itself: the hot statements are built once (module constants, or cached per shape).
@functools.lru_cache(maxsize=2048)
def compiled(statement: sa.Executable, dialect: sa.Dialect) -> Compiled:
    made = statement.compile(dialect=dialect)
    if made.insert_prefetch or made.update_prefetch:
        raise TypeError("a column default computed in Python: give the column a server default instead")
    if made.post_compile_params or made.literal_execute_params:
        raise TypeError("a parameter expanded at execution (IN): compare with = ANY(array) instead")
    processors = {}
    for bind, name in made.bind_names.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[name] = process
    return Compiled(str(made), made, processors)


async def fetch_all(session: AsyncSession, statement: sa.Executable, values: dict) -> list[dict]:
    """The statement's rows, each a dict of its columns by name."""
    connection = await session.connection()
    sql = compiled(statement, connection.dialect)
    driver = connection.sync_connection.connection.driver_connection
    async with driver.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(sql.sql, sql.parameters(values))
        return await cursor.fetchall()


async def fetch_first(session: AsyncSession, statement: sa.Executable, values: dict) -> dict | None:
    """The statement's first row (a dict), or None."""
    rows = await fetch_all(session, statement, values)
    return rows[0] if rows else None
