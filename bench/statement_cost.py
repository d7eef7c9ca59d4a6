"""What psycopg alone costs per statement: the service's list of 20 on one connection, with uvloop and nothing else.

    .venv/bin/python bench/statement_cost.py [--statements 2000] [--rounds 3]

Seeds the database as `make bench` does and sends the very statement a list sends (taskapi/tasks/listing.py),
reading its 21 rows as tuples, as dicts (what the service reads), or as one `json_agg` value that Postgres makes.
Prints the process CPU time per statement, the minimum of the rounds: the floor under any list the service serves.
"""

import argparse
import time

import psycopg
import uvloop
from psycopg.rows import dict_row, tuple_row

from harness import fresh_database
from load import seed


async def cost(url: str, sql: str, params: dict, row_factory, statements: int, rounds: int) -> float:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True, prepare_threshold=None) as connection:
        figures = []
        for _ in range(rounds + 1):  # the first warms up
            started = time.process_time()
            for _ in range(statements):
                async with connection.cursor(row_factory=row_factory) as cursor:
                    await cursor.execute(sql, params)
                    await cursor.fetchall()
            figures.append(1000 * (time.process_time() - started) / statements)
        return min(figures[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = fresh_database()
    users, _ = seed(url)
    from taskapi.db.statements import DIALECT, compiled
    from taskapi.tasks.listing import TaskListing

    listing = TaskListing(user_id=users[0][0], limit=20)
    statement, values = listing.statement(None)
    made = compiled(statement, DIALECT)
    sql, params = made.sql, made.parameters(values)
    shapes = {
        "21 rows as tuples": (sql, tuple_row),
        "21 rows as dicts": (sql, dict_row),
        "one json_agg value": (f"SELECT json_agg(page)::text FROM ({sql}) AS page", tuple_row),
    }
    for name, (text, row_factory) in shapes.items():
        figure = uvloop.run(cost(url, text, params, row_factory, args.statements, args.rounds))
        print(f"{name}: CPU ms per statement, minimum of {args.rounds} rounds: {figure:.3f}")


if __name__ == "__main__":
    main()
