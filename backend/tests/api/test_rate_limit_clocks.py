"""The limiter exchanges durations with Postgres, never instants: a worker whose clock differs from the
database's limits exactly as one that agrees (issue 18, item 9)."""

import asyncio
import time
import uuid

import pytest

from taskapi.db.session import Database
from taskapi.http.limiter import Limiter, Policy

POLICY = Policy("user", per_minute=60, burst=5)  # one a second, bursts of five


@pytest.mark.parametrize("skew_seconds", [-30.0, -5.0, 0.0, 5.0, 30.0])
def test_a_skewed_worker_clock_neither_shrinks_nor_hides_the_burst(make_settings, skew_seconds):
    async def scenario() -> list[int]:
        database = Database(make_settings())
        limiter = Limiter(database, clock=lambda: time.time() + skew_seconds)
        key = "user:clock-" + uuid.uuid4().hex
        try:
            spent = [limiter.take(key, POLICY).allowed for _ in range(2)]
            await limiter.sync()  # the shared state now holds two requests' worth
            # A second worker, whose clock agrees with the database's, learns of them when it syncs its own use.
            other = Limiter(database, clock=time.time)
            spent.append(other.take(key, POLICY).allowed)
            await other.sync()
            spent.append(limiter.take(key, POLICY).allowed)
            await limiter.sync()
            return [
                *spent,
                limiter.take(key, POLICY, spend=False).remaining,
                other.take(key, POLICY, spend=False).remaining,
            ]
        finally:
            await database.dispose()

    *allowed, left_here, left_there = asyncio.run(scenario())
    assert allowed == [True] * 4
    # Four requests spent of a burst of five (the skewed worker has seen all four, the other the first three),
    # as with agreeing clocks; the test takes well under the second in which one request's worth comes back.
    assert (left_here, left_there) == (1, 2)
