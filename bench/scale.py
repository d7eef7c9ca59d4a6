"""`make bench-scale`: the load of a todo app in use, with every writer's live stream open on another replica.

SCALE_USERS users (200) each hold an event stream open on one replica (a single-worker service process) and send
their requests to the next one, as a person's phone follows what their laptop does: 70 % lists, 10 % creates, 15 %
updates and completions, 5 % deletes, from SCALE_CONNECTIONS (64) connections, for SCALE_SECONDS (20) per run, at
1, 2 and 4 replicas. Per run: requests/s and the service's CPU per request, p50/p99 latency, the p99 of event
latency (a write's answer to the event on the other replica), Postgres' transactions per request, and of them
those that wrote (transaction ids taken), WAL bytes per request (pg_stat_database, pg_stat_wal), NOTIFYs per
second (counted by a listener of the bench's own), and every write that never reached its stream. Beside each:
the same writes with no stream open; then lists only at 2 replicas (what reading costs Postgres in writes: the
rate limiter's), and pgbench running the service's INSERT with as many clients.

Then one run of SCALE_KILL_SECONDS (300) at 2 replicas in which one replica is killed (SIGKILL) halfway: its
streams reconnect to the other with Last-Event-ID, and every write answered 2xx must still reach its stream.

Every run starts on a fresh database seeded alike. BENCH_BACKEND benches another checkout (for base and HEAD in one
run). Writes bench/results/scale.{md,json,png}.
"""

import asyncio
import contextlib
import json
import os
import signal
import statistics
import time
from pathlib import Path

import aiohttp
import psycopg

from harness import RESULTS, fresh_database, percentile, service
from pgbench import PGBENCH_MAX_CLIENTS, run_pgbench
from scale_load import CONNECTIONS, Streams, count_notifies, load

USERS = int(os.environ.get("SCALE_USERS", "200"))
SECONDS = float(os.environ.get("SCALE_SECONDS", "20"))
KILL_SECONDS = float(os.environ.get("SCALE_KILL_SECONDS", "300"))
REPLICAS = [int(n) for n in os.environ.get("SCALE_REPLICAS", "1,2,4").split(",")]
TASKS_PER_USER = 20
# Seconds a write's event may take to arrive after the run before it counts as missed.
DRAIN_SECONDS = 5


def seed(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute(
            "INSERT INTO tasks (user_id, title) SELECT 'scale' || u, 'seed ' || n "
            "FROM generate_series(1, %s) AS u, generate_series(1, %s) AS n",
            (USERS, TASKS_PER_USER),
        )
        db.execute("VACUUM ANALYZE tasks")


def database_counters(database_url: str) -> dict:
    """Transactions, write transactions and WAL bytes so far (after every backend has reported: idle ones report
    within 10 s). A transaction takes a transaction id only when it writes, so the next id counts the writes."""
    with psycopg.connect(database_url, autocommit=True) as db:
        xacts = db.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()[0]
        writes = db.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").fetchone()[0]
        wal = db.execute("SELECT wal_bytes FROM pg_stat_wal").fetchone()[0]
    return {"transactions": int(xacts), "write_transactions": int(writes), "wal_bytes": int(wal)}


async def one_run(
    database_url: str, bases: list[str], servers, tasks, seconds: float, with_streams: bool, lists_only: bool, kill=None
):
    streams, stop = (Streams() if with_streams else None), asyncio.Event()
    followers = []
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    if streams is not None:
        for index, user in enumerate(sorted(tasks)):
            ring = bases[index % len(bases) :] + bases[: index % len(bases)]
            followers.append(asyncio.create_task(streams.follow(session, ring, user, stop)))
        await asyncio.sleep(3)  # every stream open
    notifies = asyncio.create_task(count_notifies(database_url, stop))
    await asyncio.sleep(11)  # every backend has reported its counts
    before, cpu_before = database_counters(database_url), sum(server.cpu_seconds() for server in servers)
    started = time.monotonic()
    latencies, failures, counts = await load(bases, tasks, seconds, streams, lists_only, kill)
    elapsed, cpu = time.monotonic() - started, sum(s.cpu_seconds() for s in servers) - cpu_before
    await asyncio.sleep(DRAIN_SECONDS)
    stop.set()
    notified = await notifies
    await asyncio.sleep(11)
    after = database_counters(database_url)
    for follower in followers:
        follower.cancel()
    await asyncio.gather(*followers, return_exceptions=True)
    await session.close()
    requests = len(latencies) - failures
    writes = requests - counts["list"]
    return {
        "replicas": len(bases),
        "streams": with_streams,
        "lists_only": lists_only,
        "seconds": round(elapsed, 1),
        "requests_per_s": requests / elapsed,
        "writes_per_s": writes / elapsed,
        "cpu_ms": 1000 * cpu / max(requests, 1),
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "failures": failures,
        "event_p99_ms": 1000 * percentile(streams.latencies, 0.99) if streams and streams.latencies else None,
        "events_missed": streams.missed() if streams else None,
        "writes": writes,
        "transactions_per_request": (after["transactions"] - before["transactions"]) / max(requests, 1),
        "write_transactions_per_request": (
            (after["write_transactions"] - before["write_transactions"]) / max(requests, 1)
        ),
        "wal_bytes_per_request": (after["wal_bytes"] - before["wal_bytes"]) / max(requests, 1),
        "notifies_per_s": notified / (elapsed + DRAIN_SECONDS),
    }


def live_tasks(database_url: str) -> dict[str, list[str]]:
    with psycopg.connect(database_url, autocommit=True) as db:
        tasks: dict[str, list[str]] = {}
        for user_id, task_id in db.execute("SELECT user_id, id::text FROM tasks WHERE user_id LIKE 'scale%'"):
            tasks.setdefault(user_id, []).append(task_id)
    return tasks


def run(replicas: int, seconds: float, streams: bool, kill: bool = False, lists_only: bool = False) -> dict:
    """One run, on a fresh database seeded alike: a run's creates must not lengthen the next run's lists."""
    database_url = fresh_database()
    seed(database_url)
    tasks = live_tasks(database_url)
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(service(database_url, workers=1)) for _ in range(replicas)]
        bases = [server.base for server in servers]

        def kill_one() -> None:
            os.kill(servers[-1].pid, signal.SIGKILL)
            bases[-1] = ""  # clients stop sending there; its streams move on by themselves

        result = asyncio.run(
            one_run(database_url, bases, servers, tasks, seconds, streams, lists_only, kill_one if kill else None)
        )
        result["killed"] = kill
        return result


def pgbench_inserts(database_url: str, clients: int) -> float:
    return run_pgbench(database_url, "create", min(clients, PGBENCH_MAX_CLIENTS), RESULTS / "raw")


def markdown(rows: list[dict], ceiling: float) -> str:
    lines = [
        f"{USERS} users, {CONNECTIONS} connections, 70 % lists, 10 % creates, 15 % updates and completions, 5 % "
        f"deletes; each replica one worker; every writer's stream on another replica. pgbench, the service's INSERT "
        f"with {min(CONNECTIONS, PGBENCH_MAX_CLIENTS)} clients: {ceiling:,.0f}/s.",
        "",
        "| Replicas | Streams | Requests/s | Writes/s | CPU ms/request | p50 / p99 ms | Event p99 ms | Missed | "
        "Transactions/request (writing) | WAL bytes/request | NOTIFY/s | Failures |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        streams = "open" + (", one killed" if row["killed"] else "") if row["streams"] else "none"
        if row["lists_only"]:
            streams += ", lists only"
        event = f"{row['event_p99_ms']:.0f}" if row["event_p99_ms"] is not None else ""
        missed = "" if row["events_missed"] is None else f"{row['events_missed']} of {row['writes']}"
        lines.append(
            f"| {row['replicas']} | {streams} | {row['requests_per_s']:,.0f} | {row['writes_per_s']:,.0f} | "
            f"{row['cpu_ms']:.2f} | {row['p50_ms']:.0f} / {row['p99_ms']:.0f} | {event} | {missed} | "
            f"{row['transactions_per_request']:.2f} ({row['write_transactions_per_request']:.3f}) | "
            f"{row['wal_bytes_per_request']:,.0f} | "
            f"{row['notifies_per_s']:.1f} | {row['failures']} |"
        )
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (writes, events) = plt.subplots(1, 2, figsize=(10, 4))
    for streams, label in ((True, "every writer's stream open"), (False, "no stream open")):
        chosen = [row for row in rows if row["streams"] == streams and not row["killed"] and not row["lists_only"]]
        writes.plot(
            [row["replicas"] for row in chosen], [row["writes_per_s"] for row in chosen], marker="o", label=label
        )
    writes.set_xlabel("replicas (one worker each)")
    writes.set_ylabel("writes/s")
    writes.legend()
    chosen = [row for row in rows if row["streams"] and not row["killed"] and not row["lists_only"]]
    events.bar([str(row["replicas"]) for row in chosen], [row["event_p99_ms"] for row in chosen])
    events.set_xlabel("replicas")
    events.set_ylabel("event latency p99, ms")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "raw").mkdir(exist_ok=True)
    rows = []
    for replicas in REPLICAS:
        for streams in (False, True):
            rows.append(run(replicas, SECONDS, streams))
            print(json.dumps(rows[-1]), flush=True)
    rows.append(run(2, SECONDS, False, lists_only=True))
    print(json.dumps(rows[-1]), flush=True)
    if KILL_SECONDS > 0:
        rows.append(run(2, KILL_SECONDS, True, kill=True))
        print(json.dumps(rows[-1]), flush=True)
    database_url = fresh_database()
    seed(database_url)
    ceiling = pgbench_inserts(database_url, CONNECTIONS)
    table = markdown(rows, ceiling)
    print(table)
    (RESULTS / "scale.json").write_text(json.dumps({"rows": rows, "pgbench_inserts_per_s": ceiling}, indent=2))
    (RESULTS / "scale.md").write_text(table)
    plot(rows, RESULTS / "scale.png")


if __name__ == "__main__":
    main()
