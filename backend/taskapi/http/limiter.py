"""The rate limiter: GCRA per key, shared by every replica and worker through Postgres, decided in process
(the middlewares that apply it: taskapi/http/ratelimit.py).

Each key (a user, or the client address of requests without a known-good token) has a theoretical arrival
time (TAT), as in GCRA: a request is let through if it leaves the TAT no further ahead of now than the
burst allows, and then moves it on by one emission interval (60 s / the per-minute limit).

Every worker decides from its own copy of each TAT, so a request never waits for the database. Every
SYNC_SECONDS a background task adds what the worker let through to the shared TAT in Postgres, in one
statement for the keys that need it, and takes back the sum of every worker's use:

- a key near its limit (its TAT, as this worker sees it, more than half a burst ahead): every sync, so the
  limit holds for all workers and replicas together, give or take what they let through within one sync;
- any other key only once this worker has let through an eighth of its burst within the time a burst takes to
  come back (QUIET_SHARE); use older than that, never written, is forgotten. So a user far from the limit (a
  tenth of it, say) costs no row write at all, however long they stay. What a worker keeps to itself is less
  than an eighth of a burst per key at any time: eight workers and replicas serving one user evenly could let
  through about one burst more than the limit before they count.

If the database cannot be reached the limiter fails open: every worker goes on limiting on its own, and a
log line and `taskapi_rate_limit_sync_failures_total` say so.
"""

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from prometheus_client import Counter

from taskapi.db.session import Database, statement
from taskapi.db.statements import execute, fetch_all

log = logging.getLogger(__name__)


SYNC_SECONDS = 0.1
# A key is near its limit, and synced every time, when its TAT is more than this share of a burst ahead.
NEAR_SHARE = 0.5
# Otherwise, when this worker's unwritten use reaches this share of a burst (within the time a burst takes to
# come back).
QUIET_SHARE = 1 / 8
# A key idle this long is dropped from a worker's memory (its TAT is in the past: nothing to remember).
FORGET_AFTER_SECONDS = 120
SYNC_FAILURES = Counter("taskapi_rate_limit_sync_failures_total", "Rate-limit syncs with Postgres that failed")

# Adds each key's use to its shared TAT, in key order (so that two workers never lock rows in opposite
# orders), and answers how far each key's TAT lies ahead of now after all workers' use. Instants stay on the
# database's clock; a worker only ever sends counts and reads durations, so a worker whose clock differs from
# the database's (by seconds, say) limits exactly as one whose clock agrees.
SPEND = sa.text("""
INSERT INTO rate_limits AS r (key, tat)
SELECT key, now() + make_interval(secs => used * interval_seconds)
FROM unnest(CAST(:keys AS text[]), CAST(:used AS int[]), CAST(:intervals AS float8[])) AS u(key, used, interval_seconds)
ORDER BY key
ON CONFLICT (key) DO UPDATE SET tat = greatest(r.tat, now()) + (EXCLUDED.tat - now())
RETURNING key, greatest(extract(epoch FROM tat - now()), 0)::float8 AS ahead
""")


# Keys whose TAT is long past are removed now and then, by whichever worker gets there (the table stays
# the size of the recently active keys).
CLEAN = sa.text("DELETE FROM rate_limits WHERE tat < now() - interval '10 minutes'")
CLEAN_EVERY_SECONDS = 60


@dataclass(frozen=True)
class Policy:
    name: str
    per_minute: int
    burst: int

    @property
    def interval(self) -> float:
        return 60.0 / self.per_minute

    @property
    def header(self) -> str:
        """RateLimit-Policy (draft-ietf-httpapi-ratelimit-headers): quota and window in seconds."""
        return f'"{self.name}";q={self.per_minute};w=60'


def policies(settings) -> tuple[Policy | None, Policy | None]:
    """The per-user and the unauthenticated policy, None where turned off."""
    per_user = Policy("user", settings.rate_limit_per_minute, settings.rate_limit_burst)
    unauthenticated = Policy(
        "unauthenticated", settings.rate_limit_unauthenticated_per_minute, settings.rate_limit_unauthenticated_burst
    )
    return (per_user if per_user.per_minute else None), (unauthenticated if unauthenticated.per_minute else None)


@dataclass
class _Key:
    tat: float  # this worker's view, on this worker's clock (epoch seconds)
    policy: Policy
    # When each request this worker let through and has not written yet came (epoch seconds, oldest first).
    unsynced: deque[float] = field(default_factory=deque)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    reset_seconds: int
    retry_after: int

    def headers(self, policy: Policy) -> dict[str, str]:
        return {
            "RateLimit-Policy": policy.header,
            "RateLimit": f'"{policy.name}";r={self.remaining};t={self.reset_seconds}',
        }


class Limiter:
    def __init__(self, database: Database, clock: Callable[[], float] = time.time) -> None:
        self._database = database
        self._clock = clock
        self._keys: dict[str, _Key] = {}
        self._task: asyncio.Task | None = None
        self._cleaned = time.monotonic()

    def take(self, key: str, policy: Policy, spend: bool = True) -> Decision:
        """Whether one more request fits, and (if `spend`) count it."""
        now = self._clock()
        state = self._state(key, policy, now)
        capacity = policy.burst * policy.interval
        after = max(state.tat, now) + policy.interval
        allowed = after - now <= capacity
        if allowed and spend:
            state.tat = after
            state.unsynced.append(now)
        ahead = max(state.tat, now) - now
        return Decision(
            allowed=allowed,
            remaining=max(0, math.floor((capacity - ahead) / policy.interval)),
            reset_seconds=math.ceil(ahead),
            retry_after=0 if allowed else math.ceil(after - now - capacity),
        )

    def spend(self, key: str, policy: Policy, count: int) -> None:
        """Count `count` more requests, whether or not they fit: the key's next requests wait for them."""
        now = self._clock()
        state = self._state(key, policy, now)
        state.tat = max(state.tat, now) + count * policy.interval
        state.unsynced.extend([now] * count)

    def _state(self, key: str, policy: Policy, now: float) -> _Key:
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _Key(tat=now, policy=policy)
        return state

    async def run(self) -> None:
        """The background sync, until cancelled."""
        while True:
            await asyncio.sleep(SYNC_SECONDS)
            await self.sync()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _to_write(self) -> dict[str, int]:
        """The keys whose unwritten use must be written now, and how much (taken out of `unsynced`)."""
        now, chosen = self._clock(), {}
        for key, state in self._keys.items():
            if not state.unsynced:
                continue
            burst_seconds = state.policy.burst * state.policy.interval
            while state.unsynced and state.unsynced[0] < now - burst_seconds:
                state.unsynced.popleft()  # older than a burst's return: it holds nobody back any more
            near = state.tat - now > NEAR_SHARE * burst_seconds
            if state.unsynced and (near or len(state.unsynced) >= max(1, state.policy.burst * QUIET_SHARE)):
                chosen[key] = len(state.unsynced)
                state.unsynced.clear()
        return chosen

    async def sync(self) -> None:
        self._forget_idle()
        used = self._to_write()
        if not used:
            return
        intervals = [self._keys[key].policy.interval for key in used]
        params = {"keys": list(used), "used": list(used.values()), "intervals": intervals}
        try:
            # A pooled connection like any request's, waiting its turn: the pool never grows for the limiter.
            async with statement(self._database) as work:
                rows = await fetch_all(work, SPEND, params)
                if time.monotonic() - self._cleaned > CLEAN_EVERY_SECONDS:
                    self._cleaned = time.monotonic()
                    await execute(work, CLEAN)
        except Exception as error:  # fail open: keep deciding locally, and count the use again next time
            SYNC_FAILURES.inc()
            log.warning("rate-limit sync failed (%s); limiting per worker until it works again", type(error).__name__)
            now = self._clock()
            for key, count in used.items():
                if key in self._keys:
                    self._keys[key].unsynced.extend([now] * count)
            return
        now = self._clock()
        for row in rows:
            state = self._keys.get(row["key"])
            if state is not None:  # what was let through during the sync comes on top of the shared TAT
                unwritten = len(state.unsynced) * state.policy.interval
                state.tat = max(state.tat, now + row["ahead"] + unwritten)

    def _forget_idle(self) -> None:
        horizon = self._clock() - FORGET_AFTER_SECONDS
        for key in [key for key, state in self._keys.items() if state.tat < horizon and not state.unsynced]:
            del self._keys[key]
