"""Set-up for subtask tests: many subtasks at once, written straight to the database (the triggers count them)."""

import psycopg


def add_subtasks(db: psycopg.Connection, user_id: str, parent_id: str, count: int) -> None:
    db.execute(
        "INSERT INTO tasks (user_id, title, parent_id) SELECT %s, 'step ' || n, %s FROM generate_series(1, %s) AS n",
        (user_id, parent_id, count),
    )
    db.commit()
