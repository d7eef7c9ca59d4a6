"""Reminders pushed to the browsers of people whose tab is closed: Web Push (RFC 8030), the message encrypted
(RFC 8291, aes128gcm) and signed (RFC 8292, VAPID) by pywebpush.

The statement that fires a reminder queues its pushes, one per subscription (migration 0016). A worker claims
due pushes with a lease (FOR UPDATE SKIP LOCKED, then a later `next_attempt_at`), sends them concurrently, each
within PUSH_TIMEOUT_SECONDS, and records each outcome: sent (or refused for good): the push is dropped; 404 or
410: the subscription is gone, and is deleted; 429, 5xx, a timeout or a broken connection: tried again with
backoff (or after Retry-After) while the reminder is of use, then dropped. A push service that hangs holds
neither a request nor the reminders: the lease outlives the timeout. A worker that dies mid-send leaves the
lease to run out, and another sends it again; the push's Topic makes the push service replace an undelivered
copy rather than show it twice.

Like the reminder clock, the sender never polls: it sends when its worker fired reminders, and otherwise sleeps
until the earliest retry it knows of.
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import aiohttp
import sqlalchemy as sa
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async

from taskapi.db.session import Database
from taskapi.push import endpoints
from taskapi.settings import Settings
from taskapi.sync.alarm import Alarm

log = logging.getLogger(__name__)

BATCH = 50
# A claimed push is not claimed again for this long: longer than a send may take.
LEASE_SECONDS = 60
RETRY_SECONDS = 5.0
# The longest wait between attempts (doubling from 1 s).
MAX_BACKOFF_SECONDS = 300

_CLAIM = sa.text("""
WITH due AS (
  SELECT id FROM reminder_pushes WHERE next_attempt_at <= now() ORDER BY next_attempt_at LIMIT :batch
  FOR UPDATE SKIP LOCKED
)
UPDATE reminder_pushes AS p SET next_attempt_at = now() + make_interval(secs => :lease), attempts = p.attempts + 1
FROM due, push_subscriptions AS s
WHERE p.id = due.id AND s.id = p.subscription_id
RETURNING p.id, p.payload, p.topic, p.attempts, extract(epoch FROM p.expires_at - now())::float AS ttl,
          s.id AS subscription_id, s.endpoint, s.p256dh, s.auth
""")
_DONE = sa.text("DELETE FROM reminder_pushes WHERE id = ANY(CAST(:ids AS bigint[]))")
_GONE = sa.text("DELETE FROM push_subscriptions WHERE id = ANY(CAST(:ids AS uuid[]))")
_LATER = sa.text("""
UPDATE reminder_pushes AS p SET next_attempt_at = now() + make_interval(secs => u.wait)
FROM unnest(CAST(:ids AS bigint[]), CAST(:waits AS float8[])) AS u(id, wait) WHERE p.id = u.id
""")
_NEXT = sa.text("SELECT min(next_attempt_at) FROM reminder_pushes")


class Pusher:
    """One per worker: sends the queued pushes, when told of new ones and when a retry falls due."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self._database = database
        self.vapid = Vapid.from_string(settings.vapid_private_key) if settings.vapid_private_key else None
        self._subject = settings.vapid_subject
        self._allow_local = settings.push_allow_local_endpoints
        self._timeout = settings.push_timeout_seconds
        self._alarm = Alarm()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self.vapid is not None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="reminder-pusher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def wake(self) -> None:
        """Pushes were queued (and committed): send them now."""
        self._alarm.tell(datetime.now(UTC))

    async def _run(self) -> None:
        connector = aiohttp.TCPConnector(resolver=endpoints.PublicResolver(self._allow_local))
        async with aiohttp.ClientSession(connector=connector) as session:
            while True:
                self._alarm.reading()
                try:
                    while await self._send_due(session):
                        pass
                    async with self._database.maintenance_engine.connect() as connection:
                        self._alarm.read((await connection.execute(_NEXT)).scalar())
                except Exception as error:  # the database unreachable: look again a little later
                    log.warning("sending pushes failed (%s); retrying", type(error).__name__)
                    self._alarm.read(datetime.now(UTC) + timedelta(seconds=RETRY_SECONDS))
                await self._alarm.wait()

    async def _send_due(self, session: aiohttp.ClientSession) -> bool:
        """Send one batch of due pushes; whether there may be more."""
        async with self._database.maintenance_engine.begin() as connection:
            claimed = (await connection.execute(_CLAIM, {"batch": BATCH, "lease": LEASE_SECONDS})).mappings().all()
        if not claimed:
            return False
        outcomes = await asyncio.gather(*(self._send(session, push) for push in claimed))
        done = [push["id"] for push, outcome in zip(claimed, outcomes, strict=True) if outcome == "done"]
        gone = [push["subscription_id"] for push, outcome in zip(claimed, outcomes, strict=True) if outcome == "gone"]
        later = [
            (push["id"], outcome) for push, outcome in zip(claimed, outcomes, strict=True) if isinstance(outcome, float)
        ]
        async with self._database.maintenance_engine.begin() as connection:
            if done:
                await connection.execute(_DONE, {"ids": done})
            if gone:
                await connection.execute(_GONE, {"ids": gone})
            if later:
                await connection.execute(_LATER, {"ids": [i for i, _ in later], "waits": [w for _, w in later]})
        return len(claimed) == BATCH

    async def _send(self, session: aiohttp.ClientSession, push) -> str | float:
        """ "done" (sent, refused for good, or of no use any more), "gone" (the subscription), or the seconds to
        wait before trying again."""
        if push["ttl"] <= 0:
            return "done"
        try:
            await endpoints.check(push["endpoint"], self._allow_local)
        except endpoints.Refused:
            return "gone"
        retry_after = None
        try:
            async with asyncio.timeout(self._timeout):
                await webpush_async(
                    subscription_info={
                        "endpoint": push["endpoint"],
                        "keys": {"p256dh": push["p256dh"], "auth": push["auth"]},
                    },
                    data=push["payload"],
                    vapid_private_key=self.vapid,
                    vapid_claims={"sub": self._subject},
                    ttl=max(1, int(push["ttl"])),
                    headers={"Urgency": "high", "Topic": push["topic"]},
                    timeout=self._timeout,
                    aiohttp_session=session,
                )
            return "done"
        except WebPushException as error:
            status = error.status_code or 0
            if status in (404, 410):
                return "gone"
            if status != 429 and status < 500:
                log.warning("a push service refused a push (%d); dropped", status)
                return "done"
            retry_after = error.retry_after
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            log.info("a push failed (%s); trying again later", type(error).__name__)
        wait = float(min(2 ** (push["attempts"] - 1), MAX_BACKOFF_SECONDS))
        if retry_after is not None and retry_after.isdigit():
            wait = max(wait, float(retry_after))
        return wait if wait < push["ttl"] else "done"
