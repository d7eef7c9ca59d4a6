"""SIGTERM in the middle of a burst of creates: in-flight requests finish, and what clients were told is true."""

import asyncio
import os
import signal
import time
import uuid

import httpx
import pytest

from tests.support.clusters import cluster
from tests.support.issuer import SHARED_SECRET, hs256_token
from tests.support.service_process import start_service


def test_sigterm_mid_burst_loses_nothing_acknowledged(database_url, db):
    user = "drain" + uuid.uuid4().hex
    process, base = start_service(
        database_url, BETTER_AUTH_SECRET=SHARED_SECRET, WEB_CONCURRENCY="2", RATE_LIMIT_PER_MINUTE="0"
    )
    created, refused, unknown, after_signal = set(), set(), set(), set()
    signalled_at: list[float] = []

    async def create(client: httpx.AsyncClient, title: str) -> None:
        try:
            response = await client.post(f"/{user}/tasks", json={"title": title})
        except httpx.HTTPError:
            unknown.add(title)  # no answer: the client was told nothing either way
            return
        if response.status_code == 201:
            created.add(title)
            if signalled_at:
                after_signal.add(title)
        else:
            refused.add(title)

    async def burst() -> None:
        headers = {"Authorization": f"Bearer {hs256_token(user)}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=20) as client:
            pending = set()
            for n in range(400):
                pending.add(asyncio.create_task(create(client, f"task {n}")))
                if n == 150:
                    process.send_signal(signal.SIGTERM)
                    signalled_at.append(time.monotonic())
                await asyncio.sleep(0.005)
            await asyncio.gather(*pending)

    asyncio.run(burst())
    assert process.wait(timeout=20) == 0, "a clean, drained shutdown"
    stored = {title for (title,) in db.execute("SELECT title FROM tasks WHERE user_id = %s", (user,))}
    assert created, f"the burst reached the service: {len(refused)} refused, {len(unknown)} unanswered"
    assert created <= stored, "every 201 the clients received is in the database"
    assert not (stored & refused), "no task exists that a client was told had failed"
    assert stored <= created | unknown
    assert after_signal, "requests in flight when SIGTERM arrived were finished, not dropped"


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_stops_the_embedded_postgres_that_make_run_started(workers):
    from taskapi.db.embedded import DATA_DIR

    process, _base = start_service(None, EMBEDDED_CLUSTER=cluster("sigterm"), WEB_CONCURRENCY=workers)
    postmaster = int((DATA_DIR / cluster("sigterm") / "postmaster.pid").read_text().split()[0])
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0, "a SIGTERM is a normal stop"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _running(postmaster):
        time.sleep(0.2)
    assert not _running(postmaster), "the embedded Postgres is still running"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
