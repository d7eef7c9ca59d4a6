"""Statements built once with SQLAlchemy Core (from the SQLModel tables), sent compiled with psycopg.

SQLAlchemy compiles a statement once; each request sends its SQL with psycopg on the unit of work's connection
(taskapi/db/session.py), in its transaction or in autocommit, and reads dict rows. The values go through each
column type's bind processor, as SQLAlchemy would send them.

Only statements whose SQL is complete once compiled qualify: no values SQLAlchemy computes in Python at
execution time (column defaults: let the server's defaults apply) and no lists expanded per execution (`IN`:
use `= ANY(array)`). `compiled()` refuses the others when first used. A statement is cached by identity: build
each once (a module constant, or cached per shape), never per request.

psycopg's own exceptions come out of here (taskapi/db/session.py maps the database's failures).
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from psycopg.rows import dict_row
from sqlalchemy.dialects import postgresql

from taskapi.db.session import Work


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


# The dialect the statements are compiled for: Postgres through psycopg 3.
DIALECT = postgresql.psycopg.dialect()


async def _execute(cursor, statement: sa.Executable, values: dict | None) -> None:
    sql = compiled(statement, DIALECT)
    await cursor.execute(sql.sql, sql.parameters(values or {}))


async def fetch_all(work: Work, statement: sa.Executable, values: dict | None = None) -> list[dict]:
    """The statement's rows, each a dict of its columns by name."""
    async with work.connection.cursor(row_factory=dict_row) as cursor:
        await _execute(cursor, statement, values)
        return await cursor.fetchall()


async def fetch_first(work: Work, statement: sa.Executable, values: dict | None = None) -> dict | None:
    """The statement's first row (a dict), or None."""
    async with work.connection.cursor(row_factory=dict_row) as cursor:
        await _execute(cursor, statement, values)
        return await cursor.fetchone()


async def fetch_value(work: Work, statement: sa.Executable, values: dict | None = None):
    """The first column of the statement's first row, or None."""
    async with work.connection.cursor() as cursor:
        await _execute(cursor, statement, values)
        row = await cursor.fetchone()
        return row[0] if row else None


async def execute(work: Work, statement: sa.Executable, values: dict | None = None) -> None:
    """Run the statement; its rows, if any, are not read."""
    async with work.connection.cursor() as cursor:
        await _execute(cursor, statement, values)
