"""`make bench`: the service under load over loopback with wrk, next to pgbench running the same SQL.

For each operation (create, create by one user, list of 20, get, update, complete, delete, a 70/20/10
read/update/create mix, and a batch of 100 creates) and each connection count, wrk drives the service for BENCH_SECONDS, and the CPU
time its processes used is divided by the requests answered. Three reference stacks (bench/reference) then serve the
same list at 64 connections: a bare Starlette route and a minimal Connexion app, both over a psycopg pool (what this
design can reach on the machine at hand), and FastAPI with a sync SQLModel Session per request and PyJWT decoding
each token (the stack a team would otherwise pick). pgbench last runs the list and insert statements the
service sends, on the same database, so service/pgbench is comparable across machines.
Writes bench/results/load.{json,md,png}. `--quick` (make bench-quick): list and create (or BENCH_OPS) at 64
connections and the minimal-Connexion row only, printed, nothing written: about 30 s for checking a change.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg

from harness import RESULTS, fresh_database, reference, service, token
from pgbench import PGBENCH_MAX_CLIENTS, PGBENCH_SCRIPTS, run_pgbench

HERE = Path(__file__).resolve().parent
OPERATIONS = os.environ.get("BENCH_OPS", "create,create_one_user,list,get,update,complete,delete,mix,batch").split(",")
# Operations a `batch` request holds (bench/wrk/operations.lua): 100 creates.
BATCH_SIZE = 100
CONNECTIONS = [int(c) for c in os.environ.get("BENCH_CONNECTIONS", "1,16,64,256").split(",")]
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
# The stacks of bench/reference, by the module that serves each; compared at the target's 64 connections.
REFERENCES = {
    "bare Starlette + psycopg pool": "bare_starlette",
    "minimal Connexion + psycopg pool": "minimal_connexion",
    # What a team would otherwise pick: FastAPI, a sync SQLModel Session per request, PyJWT on every request.
    "FastAPI + SQLModel Session + PyJWT": "fastapi_sqlmodel",
}
REFERENCE_CONNECTIONS = 64
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
USERS, TASKS_PER_USER, DELETABLE_PER_RUN = 500, 20, 30_000


def seed(
    database_url: str, deletable_runs: int | None = None
) -> tuple[list[tuple[str, str, list[str]]], list[list[tuple[str, str, str]]]]:
    """USERS users of TASKS_PER_USER tasks each, with their tokens; and, for each delete run (one per connection
    count unless `deletable_runs` says), tasks to delete."""
    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute(
            "INSERT INTO tasks (user_id, title, priority) SELECT 'bench' || u, 'seed ' || n, 'medium' "
            "FROM generate_series(1, %s) AS u, generate_series(1, %s) AS n",
            (USERS, TASKS_PER_USER),
        )
        tasks: dict[str, list[str]] = {}
        for user_id, task_id in db.execute("SELECT user_id, id::text FROM tasks"):
            tasks.setdefault(user_id, []).append(task_id)
        runs = deletable_runs if deletable_runs is not None else len(CONNECTIONS) if "delete" in OPERATIONS else 0
        deletable = []
        for _ in range(runs):
            rows = db.execute(
                "INSERT INTO tasks (user_id, title) SELECT 'bench' || (1 + n %% %s), 'to delete' "
                "FROM generate_series(1, %s) AS n RETURNING user_id, id::text",
                (USERS, DELETABLE_PER_RUN),
            ).fetchall()
            deletable.append(rows)
        db.execute("VACUUM ANALYZE tasks")
    users = [(user_id, token(user_id, lifetime=24 * 3600), ids) for user_id, ids in tasks.items()]
    tokens = {user_id: user_token for user_id, user_token, _ in users}
    return users, [[(user_id, tokens[user_id], task_id) for user_id, task_id in rows] for rows in deletable]


def write_data(path: Path, users, deletable=()) -> None:
    with path.open("w") as out:
        for user_id, user_token, ids in users:
            out.write(f"{user_id} {user_token} {' '.join(ids)}\n")
        for user_id, user_token, task_id in deletable:
            out.write(f"delete {user_id} {user_token} {task_id}\n")


def run_wrk(server, operation: str, connections: int, data: Path, stack: str = "service") -> dict:
    threads = min(2, connections)
    cpu_before = server.cpu_seconds()
    environment = {**os.environ, "BENCH_OP": operation, "BENCH_DATA": str(data), "BENCH_THREADS": str(threads)}
    completed = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{SECONDS}s",
            "--timeout",
            "10s",
            "-s",
            str(HERE / "wrk" / "operations.lua"),
            server.base,
        ],
        capture_output=True,
        text=True,
        env=environment,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed: {completed.stderr or completed.stdout}")
    cpu = server.cpu_seconds() - cpu_before
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    seconds = result["duration_us"] / 1e6
    errors = sum(value for name, value in result.items() if name.startswith("errors_"))
    return {
        "stack": stack,
        "operation": operation,
        "connections": connections,
        "rps": result["requests"] / seconds,
        "cpu_ms": 1000 * cpu / max(result["requests"], 1),
        "p50_ms": result["p50_us"] / 1000,
        "p95_ms": result["p95_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "errors": errors,
        "timeouts": result["errors_timeout"],
        "requests": result["requests"],
    }


def markdown(rows: list[dict], references: list[dict], pgbench: dict) -> str:
    lines = [
        f"Service: {WORKERS} worker(s); wrk over loopback, {SECONDS} s per cell; pgbench runs the same SQL. "
        "CPU ms: the server processes' CPU time divided by the requests answered.",
        "",
        "| Operation | Connections | Requests/s | CPU ms/request | p50 ms | p95 ms | p99 ms | Errors | vs pgbench |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        reference = pgbench.get((row["operation"], min(row["connections"], PGBENCH_MAX_CLIENTS)))
        share = f"{row['rps'] / reference:.0%} of {reference:,.0f}/s" if reference else ""
        lines.append(
            f"| {row['operation']} | {row['connections']} | {row['rps']:,.0f} | {row['cpu_ms']:.2f} | "
            f"{row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['p99_ms']:.1f} | {row['errors']} | {share} |"
        )
    ours = next(
        (row for row in rows if (row["operation"], row["connections"]) == ("list", REFERENCE_CONNECTIONS)), None
    )
    lines += _batch_table(rows)
    if references and ours:
        lines += [
            "",
            f"The same list of 20 at {REFERENCE_CONNECTIONS} connections, {WORKERS} worker(s), by stack:",
            "",
            "| Stack | Requests/s | CPU ms/request | p99 ms | the service's share |",
            "|---|---|---|---|---|",
        ]
        for row in [*references, ours]:
            lines.append(
                f"| {row['stack']} | {row['rps']:,.0f} | {row['cpu_ms']:.2f} | {row['p99_ms']:.1f} | "
                f"{ours['rps'] / row['rps']:.0%} |"
            )
    return "\n".join(lines) + "\n"


def _batch_table(rows: list[dict]) -> list[str]:
    """100 creates as 100 requests, and as one batch: tasks made per second, and CPU per task."""
    batches = {row["connections"]: row for row in rows if row["operation"] == "batch"}
    creates = {row["connections"]: row for row in rows if row["operation"] == "create"}
    if not batches or not creates:
        return []
    lines = [
        "",
        f"{BATCH_SIZE} creates, one request each or one `POST /batch` of {BATCH_SIZE}:",
        "",
        "| Connections | Tasks/s, one by one | Tasks/s, batched | CPU ms/task, one by one | CPU ms/task, batched |",
        "|---|---|---|---|---|",
    ]
    for connections in sorted(batches.keys() & creates.keys()):
        one, many = creates[connections], batches[connections]
        lines.append(
            f"| {connections} | {one['rps']:,.0f} | {many['rps'] * BATCH_SIZE:,.0f} | {one['cpu_ms']:.2f} | "
            f"{many['cpu_ms'] / BATCH_SIZE:.3f} |"
        )
    return lines


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    figure, (throughput, tail) = plt.subplots(1, 2, figsize=(12, 4.5))
    for operation in dict.fromkeys(row["operation"] for row in rows):
        mine = [row for row in rows if row["operation"] == operation]
        x = [row["connections"] for row in mine]
        throughput.plot(x, [row["rps"] for row in mine], marker="o", label=operation)
        tail.plot(x, [row["p99_ms"] for row in mine], marker="o", label=operation)
    for axis, title, unit in ((throughput, "Throughput", "requests/s"), (tail, "p99 latency", "ms")):
        axis.set_xscale("log", base=2)
        axis.set_xticks(CONNECTIONS, [str(c) for c in CONNECTIONS])
        axis.set_xlabel("connections")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(alpha=0.3)
    tail.set_yscale("log")
    tail.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    throughput.legend(fontsize=8)
    figure.suptitle(f"Task API, {WORKERS} workers, loopback")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="list and create at 64 connections; nothing written")
    quick = parser.parse_args().quick
    global OPERATIONS, CONNECTIONS, REFERENCES
    if quick:
        OPERATIONS = OPERATIONS if "BENCH_OPS" in os.environ else ["list", "create"]
        CONNECTIONS = [REFERENCE_CONNECTIONS]
        REFERENCES = {name: module for name, module in REFERENCES.items() if module == "minimal_connexion"}
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: `make bench` installs it with apt-get (Debian package wrk)")
    RESULTS.mkdir(exist_ok=True)
    database_url = fresh_database()
    users, deletable = seed(database_url)
    workdir = RESULTS / "raw"
    workdir.mkdir(exist_ok=True)
    data = workdir / "users.txt"
    write_data(data, users)
    rows, references = [], []
    # One user's creates at every connection count add up beyond the default quota.
    with service(database_url, workers=WORKERS, MAX_TASKS_PER_USER=1_000_000) as server:
        for operation in OPERATIONS:
            for index, connections in enumerate(CONNECTIONS):
                run_data = data
                if operation == "delete":
                    run_data = workdir / f"delete-{connections}.txt"
                    write_data(run_data, users, deletable[index])
                rows.append(run_wrk(server, operation, connections, run_data))
                print(json.dumps(rows[-1]), flush=True)
    for name, module in REFERENCES.items():
        with reference(module, database_url, workers=WORKERS) as server:
            references.append(run_wrk(server, "list", REFERENCE_CONNECTIONS, data, stack=name))
            print(json.dumps(references[-1]), flush=True)
    if quick:
        print(markdown(rows, references, {}))
        return
    pgbench = {}
    for statement in PGBENCH_SCRIPTS:
        for connections in sorted({min(c, PGBENCH_MAX_CLIENTS) for c in CONNECTIONS}):
            tps = run_pgbench(database_url, statement, connections, workdir, USERS, SECONDS)
            pgbench[(statement, connections)] = tps
            print(f"pgbench {statement} c={connections}: {pgbench[(statement, connections)]:,.0f} tps", flush=True)
    (RESULTS / "load.json").write_text(
        json.dumps(
            {
                "workers": WORKERS,
                "seconds": SECONDS,
                "service": rows,
                "references": references,
                "pgbench": [{"statement": s, "connections": c, "tps": tps} for (s, c), tps in pgbench.items()],
            },
            indent=2,
        )
    )
    table = markdown(rows, references, pgbench)
    (RESULTS / "load.md").write_text(table)
    plot(rows, RESULTS / "load.png")
    print(table)


if __name__ == "__main__":
    main()
