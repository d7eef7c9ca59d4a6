"""No route makes a worker hold more connections than its budget: pool + live events' two + one maintenance (issue 18,
item 2)."""

import asyncio
import threading
import time
import uuid

import httpx

from tests.support.issuer import SHARED_SECRET, hs256_token
from tests.support.service_process import start_service

POOL_SIZE = 4
BUDGET = POOL_SIZE + 3  # the pool, live events' two (LISTEN, announcing and reading changes), one maintenance


def _most_connections(db, application_name: str, stop: threading.Event, seen: list[int]) -> None:
    while not stop.is_set():
        (count,) = db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application_name,)
        ).fetchone()
        seen.append(count)
        time.sleep(0.005)


async def _flood(base: str, user: str, token: str) -> tuple[list[int], list[int]]:
    limits = httpx.Limits(max_connections=600)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        probes = [client.get("/readyz") for _ in range(500)]
        headers = {"Authorization": f"Bearer {token}"}
        tasks = [client.get(f"/{user}/tasks", headers=headers) for _ in range(20)]
        answers = await asyncio.gather(*probes, *tasks)
    return [a.status_code for a in answers[:500]], [a.status_code for a in answers[500:]]


def test_500_concurrent_readiness_probes_stay_within_the_workers_budget(database_url, direct_database_url, db):
    name = "budget-" + uuid.uuid4().hex[:8]
    user = "cb" + uuid.uuid4().hex
    env = {
        "BETTER_AUTH_SECRET": SHARED_SECRET,
        "DB_POOL_SIZE": str(POOL_SIZE),
        "DB_APPLICATION_NAME": name,
        "DATABASE_URL_DIRECT": direct_database_url,
        "RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE": "0",
    }
    process, base = start_service(database_url, **env)
    stop, seen = threading.Event(), []
    watcher = threading.Thread(target=_most_connections, args=(db, name, stop, seen))
    watcher.start()
    try:
        probes, tasks = asyncio.run(_flood(base, user, hs256_token(user)))
    finally:
        stop.set()
        watcher.join()
        process.terminate()
        process.wait(timeout=30)
    assert set(probes) == {200}, {status: probes.count(status) for status in set(probes)}
    assert tasks == [200] * 20
    # The pool was in use (the count is of the right connections), and never beyond the budget.
    assert 1 <= max(seen) <= BUDGET, max(seen)
