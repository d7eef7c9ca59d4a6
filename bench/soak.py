"""`make soak`: does anything grow without bound? Ten minutes (SOAK_SECONDS) of mixed load on the service as
`make run` starts it (BENCH_WORKERS, default 2), with a new token every few requests and tasks created and
deleted all along, sampling each worker's memory every SOAK_SAMPLE_SECONDS. Writes
bench/results/soak.{json,md,png}; the memory of every worker must level off.
"""

import asyncio
import json
import os
import random
import time
import uuid
from pathlib import Path

import httpx
import jwt

from harness import RESULTS, SECRET, Running, fresh_database, service

SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
SAMPLE_SECONDS = int(os.environ.get("SOAK_SAMPLE_SECONDS", "15"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
CLIENTS = 32  # concurrent connections
USERS = 300
REQUESTS_PER_TOKEN = 5  # then the client signs in again: a token the service has never seen


def fresh_token(user_id: str) -> str:
    now = int(time.time())
    claims = {"sub": user_id, "iat": now, "exp": now + 900, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, SECRET, algorithm="HS256")


class Tally:
    def __init__(self) -> None:
        self.requests = self.errors = self.tokens = 0
        self.statuses: dict[int, int] = {}


async def client_loop(base: str, tally: Tally, deadline: float) -> None:
    owned: dict[str, list[str]] = {}
    async with httpx.AsyncClient(base_url=base + "/api", timeout=30) as http:
        while time.monotonic() < deadline:
            user = f"soak{random.randrange(USERS)}"
            headers = {"Authorization": f"Bearer {fresh_token(user)}"}
            tally.tokens += 1
            for _ in range(REQUESTS_PER_TOKEN):
                tasks = owned.setdefault(user, [])
                roll = random.random()
                try:
                    if roll < 0.3 or not tasks:
                        title = f"soak {uuid.uuid4().hex[:8]}"
                        answer = await http.post(
                            f"/{user}/tasks",
                            json={"title": title, "tags": ["soak"]},
                            headers=headers,
                        )
                        if answer.status_code == 201:
                            tasks.append(answer.json()["id"])
                    elif roll < 0.55:
                        answer = await http.get(f"/{user}/tasks", params={"limit": 20}, headers=headers)
                    elif roll < 0.7:
                        answer = await http.get(f"/{user}/tasks/{random.choice(tasks)}", headers=headers)
                    elif roll < 0.8:
                        answer = await http.patch(
                            f"/{user}/tasks/{random.choice(tasks)}/complete",
                            headers=headers,
                        )
                    elif roll < 0.85:
                        answer = await http.get(f"/{user}/summary", headers=headers)
                    else:  # churn: what is created is deleted again
                        answer = await http.delete(
                            f"/{user}/tasks/{tasks.pop(random.randrange(len(tasks)))}",
                            headers=headers,
                        )
                except httpx.HTTPError:
                    tally.errors += 1
                    continue
                tally.requests += 1
                tally.statuses[answer.status_code] = tally.statuses.get(answer.status_code, 0) + 1
                if answer.status_code >= 500:
                    tally.errors += 1


def worker_memory_mb(server: Running) -> dict[int, float]:
    """Resident memory of each uvicorn worker (the processes that serve requests)."""
    memory = {}
    for pid in server.workers():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue
        rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        memory[pid] = rss_kb / 1024
    return memory


async def soak(server: Running) -> list[dict]:
    tally, samples = Tally(), []
    started = time.monotonic()
    deadline = started + SECONDS
    clients = [asyncio.create_task(client_loop(server.base, tally, deadline)) for _ in range(CLIENTS)]
    last_requests = 0
    while time.monotonic() < deadline:
        await asyncio.sleep(SAMPLE_SECONDS)
        elapsed = time.monotonic() - started
        samples.append(
            {
                "seconds": round(elapsed),
                "requests": tally.requests,
                "rps": (tally.requests - last_requests) / SAMPLE_SECONDS,
                "errors": tally.errors,
                "tokens": tally.tokens,
                "memory_mb": worker_memory_mb(server),
            }
        )
        last_requests = tally.requests
        print(json.dumps(samples[-1]), flush=True)
    await asyncio.gather(*clients)
    samples[-1]["statuses"] = tally.statuses
    return samples


def markdown(samples: list[dict]) -> str:
    pids = sorted({pid for sample in samples for pid in sample["memory_mb"]})
    lines = [
        f"{WORKERS} worker(s), {CLIENTS} connections, {SECONDS} s, a new token every {REQUESTS_PER_TOKEN} requests; "
        f"answers by status: {samples[-1]['statuses']}.",
        "",
        "| Seconds | Requests | Requests/s | Errors | Tokens | "
        + " | ".join(f"worker {n + 1} MB" for n in range(len(pids)))
        + " |",
        "|---" * (5 + len(pids)) + "|",
    ]
    for sample in samples:
        memory = " | ".join(f"{sample['memory_mb'].get(pid, 0):.1f}" for pid in pids)
        lines.append(
            f"| {sample['seconds']} | {sample['requests']:,} | {sample['rps']:,.0f} | {sample['errors']} | "
            f"{sample['tokens']:,} | {memory} |"
        )
    return "\n".join(lines) + "\n"


def plot(samples: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (memory, rate) = plt.subplots(1, 2, figsize=(12, 4.5))
    pids = sorted({pid for sample in samples for pid in sample["memory_mb"]})
    seconds = [sample["seconds"] for sample in samples]
    for n, pid in enumerate(pids):
        memory.plot(
            seconds,
            [sample["memory_mb"].get(pid) for sample in samples],
            marker=".",
            label=f"worker {n + 1}",
        )
    rate.plot(seconds, [sample["rps"] for sample in samples], marker=".")
    for axis, title, unit in (
        (memory, "Resident memory per worker", "MB"),
        (rate, "Throughput", "requests/s"),
    ):
        axis.set_xlabel("seconds")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
    memory.legend(fontsize=8)
    figure.suptitle("Task API soak: mixed load, a new token every few requests, tasks churned")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    database_url = fresh_database()
    with service(database_url, workers=WORKERS) as server:
        samples = asyncio.run(soak(server))
    (RESULTS / "soak.json").write_text(json.dumps(samples, indent=2))
    table = markdown(samples)
    (RESULTS / "soak.md").write_text(table)
    plot(samples, RESULTS / "soak.png")
    print(table)


if __name__ == "__main__":
    main()
