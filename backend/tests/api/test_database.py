"""The pool's connections live in autocommit and lend themselves to transactions (taskapi/db/session.py), and
statements go compiled straight to psycopg (taskapi/db/statements.py)."""

import asyncio
import uuid

import psycopg
import pytest
import sqlalchemy as sa

from taskapi.db.session import Database, statement, transaction
from taskapi.db.statements import compiled, fetch_all, fetch_first, fetch_value
from taskapi.tables.tasks import TASKS

# now() is the start of the current transaction: two statements agree on it only inside one transaction.
_TWO_CLOCK_READS = sa.text("SELECT now() AS started, clock_timestamp() AS read_at")


async def _transaction_starts(unit_of_work, database: Database, statements: int = 2) -> int:
    async with unit_of_work(database) as work:
        starts = set()
        for _ in range(statements):
            starts.add((await fetch_first(work, _TWO_CLOCK_READS))["started"])
            await asyncio.sleep(0.01)
        return len(starts)


def test_one_connection_serves_autocommit_and_transactions_alike_in_any_order(make_settings):
    async def run() -> list[int]:
        database = Database(make_settings(db_pool_size=1))
        try:
            # With one connection in the pool, each block below reuses the one before it.
            return [await _transaction_starts(made, database) for made in (statement, transaction) * 2]
        finally:
            await database.dispose()

    # Autocommit: each statement its own transaction. A transaction: both statements in one.
    assert asyncio.run(run()) == [2, 1, 2, 1]


def test_a_transaction_left_by_an_error_is_rolled_back_before_the_connection_serves_again(make_settings, alice, db):
    task = alice.create("kept as it is")
    lose = (
        sa.update(TASKS)
        .where(TASKS.c.id == sa.bindparam("id", type_=sa.Uuid))
        .values(title="lost")
        .returning(TASKS.c.id)
    )

    async def run():
        database = Database(make_settings(db_pool_size=1))
        try:
            with pytest.raises(RuntimeError):
                async with transaction(database) as work:
                    await fetch_all(work, lose, {"id": uuid.UUID(task["id"])})
                    raise RuntimeError("the request failed after its first statement")
            async with statement(database) as work:
                return await fetch_value(work, sa.text("SELECT pg_current_xact_id_if_assigned() IS NULL"))
        finally:
            await database.dispose()

    assert asyncio.run(run()) is True, "the connection came back still inside the failed transaction"
    assert db.execute("SELECT title FROM tasks WHERE id = %s", (task["id"],)).fetchone() == ("kept as it is",)


def test_statements_send_values_as_sqlalchemy_would_and_read_rows_as_dicts(make_settings, alice, db):
    task = alice.create("typed values")
    change = (
        sa.update(TASKS)
        .where(TASKS.c.id == sa.bindparam("id", type_=sa.Uuid))
        .values(
            recurrence=sa.bindparam("rule", type_=TASKS.c.recurrence.type),
            tags=sa.bindparam("tags", type_=TASKS.c.tags.type),
            version=TASKS.c.version + 1,
            due_at=sa.func.now(),
            series_start=sa.func.now(),
        )
        .returning(TASKS.c.id, TASKS.c.recurrence, TASKS.c.tags, TASKS.c.version)
    )

    async def run():
        database = Database(make_settings())
        try:
            async with statement(database) as work:
                rule = {"rule": "FREQ=DAILY", "timezone": "UTC"}
                values = {"id": uuid.UUID(task["id"]), "rule": rule, "tags": ["a", "b"]}
                return await fetch_first(work, change, values), await fetch_first(
                    work, change, {**values, "id": uuid.uuid4()}
                )
        finally:
            await database.dispose()

    changed, missing = asyncio.run(run())

    # The JSONB value went through its type's bind processor; the statement's own literal (version + 1) was sent.
    assert changed == {
        "id": uuid.UUID(task["id"]),
        "recurrence": {"rule": "FREQ=DAILY", "timezone": "UTC"},
        "tags": ["a", "b"],
        "version": 2,
    }
    assert missing is None
    stored = db.execute("SELECT recurrence->>'rule', jsonb_typeof(recurrence) FROM tasks WHERE id = %s", (task["id"],))
    assert stored.fetchone() == ("FREQ=DAILY", "object")


def test_errors_come_out_as_psycopg_raises_them(make_settings):
    async def run():
        database = Database(make_settings())
        try:
            async with statement(database) as work:
                await fetch_all(
                    work, sa.select(sa.literal_column("1") / sa.bindparam("zero", type_=sa.Integer)), {"zero": 0}
                )
        finally:
            await database.dispose()

    with pytest.raises(psycopg.errors.DivisionByZero):
        asyncio.run(run())


def test_statements_that_would_not_send_as_compiled_are_refused():
    dialect = sa.dialects.postgresql.psycopg.dialect()
    with_python_default = sa.insert(TASKS).values(user_id=sa.bindparam("u"), title=sa.bindparam("t"))
    expanding = sa.select(TASKS.c.id).where(TASKS.c.version.in_([1, 2]))

    with pytest.raises(TypeError, match="server default"):
        compiled(with_python_default, dialect)
    with pytest.raises(TypeError, match="ANY"):
        compiled(expanding, dialect)
