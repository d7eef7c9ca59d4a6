"""Reminders pushed to the browsers of people whose tab is closed: Web Push (RFC 8030), the message encrypted
(RFC 8291, aes128gcm) and signed (RFC 8292, VAPID) by pywebpush.

The statement that fires a reminder queues its pushes, one per subscription (migration 0016). A worker claims
due pushes with a lease (FOR UPDATE SKIP LOCKED, then a later `next_attempt_at`) and sends each on its own, within
PUSH_TIMEOUT_SECONDS; each outcome is recorded as it comes (many at once when they come together): sent (or
refused for good): the push is dropped; 404 or 410: the subscription is gone, and is deleted; 429, 5xx, a timeout,
a broken connection or a name that does not resolve: tried again with backoff (or after Retry-After) while the
reminder is of use, then dropped. A redirect is a failed delivery, never followed: its Location was judged by no
rule (taskapi/push/endpoints.py). One push's failure, whatever it is, is that push's outcome only.

Bounds: a worker sends at most MAX_IN_FLIGHT pushes at once, and at most PER_ORIGIN to one push service (its
scheme, host and port). A claim takes only what fits, so a push service that hangs holds PER_ORIGIN of the
worker's sends until they time out, and pushes to every other service go out meanwhile; a reminder fanned out to
thousands of subscriptions (a batch of 100 tasks with past reminders, 20 browsers each) waits its turn in the
queue instead of opening thousands of connections. A worker that dies mid-send leaves the lease to run out, and
another sends it again; the push's Topic makes the push service replace an undelivered copy rather than show it
twice.

Like the reminder clock, the sender never polls: it sends when its worker fired reminders, when one of its sends
ends while pushes wait for room, and otherwise sleeps until the earliest retry it knows of.
"""

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import aiohttp
import orjson
import sqlalchemy as sa
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async

from taskapi.db.session import Database
from taskapi.push import endpoints
from taskapi.settings import Settings
from taskapi.sync.alarm import Alarm
from taskapi.sync.announcements import instant

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 64
PER_ORIGIN = 16
# How many due pushes a claim looks at to find ones whose push service has room.
SCAN = 2000
# A claimed push is not claimed again for this long past its timeout: the send has ended by then.
LEASE_MARGIN_SECONDS = 30
RETRY_SECONDS = 5.0
# The longest wait between attempts (doubling from 1 s).
MAX_BACKOFF_SECONDS = 300

# A push service's origin (`substring`) is the endpoint up to its path, as `origin()` reads it in Python.
_CLAIM = sa.text("""
WITH due AS (
  SELECT p.id, p.next_attempt_at, substring(s.endpoint from '^[^/]*//[^/]*') AS origin
  FROM reminder_pushes AS p JOIN push_subscriptions AS s ON s.id = p.subscription_id
  WHERE p.next_attempt_at <= now() ORDER BY p.next_attempt_at LIMIT :scan
), placed AS (
  SELECT id, next_attempt_at, origin, row_number() OVER (PARTITION BY origin ORDER BY next_attempt_at) AS place
  FROM due
), fitting AS (
  SELECT p.id FROM reminder_pushes AS p JOIN placed ON placed.id = p.id
  LEFT JOIN unnest(CAST(:busy_origins AS text[]), CAST(:busy_counts AS int[])) AS busy(origin, sending)
    ON busy.origin = placed.origin
  WHERE placed.place <= :per_origin - coalesce(busy.sending, 0)
  ORDER BY placed.next_attempt_at LIMIT :room
  FOR UPDATE OF p SKIP LOCKED
)
UPDATE reminder_pushes AS p SET next_attempt_at = now() + make_interval(secs => :lease), attempts = p.attempts + 1
FROM fitting, push_subscriptions AS s
WHERE p.id = fitting.id AND s.id = p.subscription_id
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


def origin(endpoint: str) -> str:
    """The push service an endpoint belongs to: `scheme://host[:port]`."""
    return "/".join(endpoint.split("/", 3)[:3])


def payload(stored: str) -> str:
    """The push's message, its instants written as the API writes them (the same text as `event: reminder`)."""
    message = orjson.loads(stored)
    for name in ("due_at", "remind_at"):
        if message.get(name) is not None:
            message[name] = instant(message[name])
    return orjson.dumps(message).decode()


class _NoRedirects:
    """The session pywebpush posts through, with redirects refused: a push service's 3xx comes back as the answer."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def post(self, url: str, **options) -> aiohttp.ClientResponse:
        return await self._session.post(url, allow_redirects=False, **options)


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
        self._sending: dict[asyncio.Task, str] = {}  # each send in flight, and its push service
        self._outcomes: list[tuple[dict, str | float]] = []
        self._outcome_came = asyncio.Event()
        # Pushes were due that no claim took for want of room: the end of a send rings the alarm.
        self._room_wanted = False

    def start(self) -> None:
        if self.vapid is not None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="reminder-pusher")

    async def stop(self) -> None:
        tasks = [task for task in (self._task, *self._sending) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def wake(self) -> None:
        """Pushes were queued (and committed): send them now."""
        self._alarm.tell(datetime.now(UTC))

    async def _run(self) -> None:
        connector = aiohttp.TCPConnector(resolver=endpoints.PublicResolver(self._allow_local))
        async with aiohttp.ClientSession(connector=connector) as session:
            recorder = asyncio.get_running_loop().create_task(self._record(), name="reminder-push-outcomes")
            try:
                await self._claim_and_send(_NoRedirects(session))
            finally:
                recorder.cancel()
                await asyncio.gather(recorder, return_exceptions=True)

    async def _claim_and_send(self, session: _NoRedirects) -> None:
        while True:
            self._alarm.reading()
            try:
                while await self._claim(session):
                    pass
                async with self._database.maintenance_engine.connect() as connection:
                    following = (await connection.execute(_NEXT)).scalar()
                self._room_wanted = following is not None and following <= datetime.now(UTC)
                # Due already but no room: the end of a send rings; else the earliest retry.
                self._alarm.read(None if self._room_wanted else following)
            except Exception as error:  # the database unreachable: look again a little later
                log.warning("sending pushes failed (%s); retrying", type(error).__name__)
                self._alarm.read(datetime.now(UTC) + timedelta(seconds=RETRY_SECONDS))
            await self._alarm.wait()

    async def _claim(self, session: _NoRedirects) -> bool:
        """Claim the due pushes there is room for and start sending each; whether there was room for all."""
        room = MAX_IN_FLIGHT - len(self._sending)
        if room <= 0:
            return False
        busy = Counter(self._sending.values())
        params = {
            "scan": SCAN,
            "room": room,
            "per_origin": PER_ORIGIN,
            "busy_origins": list(busy),
            "busy_counts": list(busy.values()),
            "lease": self._timeout + LEASE_MARGIN_SECONDS,
        }
        async with self._database.maintenance_engine.begin() as connection:
            claimed = (await connection.execute(_CLAIM, params)).mappings().all()
        for push in claimed:
            task = asyncio.get_running_loop().create_task(self._deliver(session, dict(push)))
            self._sending[task] = origin(push["endpoint"])
            task.add_done_callback(self._sending.pop)
        return len(claimed) == room

    async def _deliver(self, session: _NoRedirects, push: dict) -> None:
        try:
            outcome = await self._send(session, push)
        except Exception:  # no failure of one push may touch another's outcome
            log.exception("a push failed unexpectedly; trying again later")
            outcome = self._backoff(push, None)
        self._outcomes.append((push, outcome))
        self._outcome_came.set()

    async def _record(self) -> None:
        """Write the outcomes of the sends that ended, many in one transaction."""
        while True:
            await self._outcome_came.wait()
            self._outcome_came.clear()
            outcomes, self._outcomes = self._outcomes, []
            done = [push["id"] for push, outcome in outcomes if outcome == "done"]
            gone = [push["subscription_id"] for push, outcome in outcomes if outcome == "gone"]
            later = [(push["id"], outcome) for push, outcome in outcomes if isinstance(outcome, float)]
            try:
                async with self._database.maintenance_engine.begin() as connection:
                    if done:
                        await connection.execute(_DONE, {"ids": done})
                    if gone:
                        await connection.execute(_GONE, {"ids": gone})
                    if later:
                        await connection.execute(_LATER, {"ids": [i for i, _ in later], "waits": [w for _, w in later]})
            except Exception as error:  # unrecorded: their leases run out, and they are sent again
                log.warning("recording push outcomes failed (%s)", type(error).__name__)
            if later:  # the earliest retry: the claim loop read its lease's end, not this
                self._alarm.tell(datetime.now(UTC) + timedelta(seconds=min(wait for _, wait in later)))
            if self._room_wanted:
                self._alarm.tell(datetime.now(UTC))

    async def _send(self, session: _NoRedirects, push: dict) -> str | float:
        """ "done" (sent, refused for good, or of no use any more), "gone" (the subscription), or the seconds to
        wait before trying again."""
        if push["ttl"] <= 0:
            return "done"
        try:
            await endpoints.check(push["endpoint"], self._allow_local)
        except endpoints.Unresolved:  # perhaps the resolver's passing failure: like a 5xx
            log.info("a push service's name did not resolve; trying again later")
            return self._backoff(push, None)
        except endpoints.Refused:
            return "gone"
        try:
            async with asyncio.timeout(self._timeout):
                await webpush_async(
                    subscription_info={
                        "endpoint": push["endpoint"],
                        "keys": {"p256dh": push["p256dh"], "auth": push["auth"]},
                    },
                    data=payload(push["payload"]),
                    vapid_private_key=self.vapid,
                    vapid_claims={"sub": self._subject},
                    ttl=max(1, int(push["ttl"])),
                    headers={"Urgency": "high", "Topic": push["topic"]},
                    timeout=self._timeout,
                    aiohttp_session=session,
                )
            return "done"
        except WebPushException as error:
            status = error.status_code
            if status is None:  # raised before sending: keys no push can be encrypted for
                log.warning("a push subscription's keys cannot be used; removed")
                return "gone"
            if status in (404, 410):
                return "gone"
            if status != 429 and status < 500:
                log.warning("a push service refused a push (%d); dropped", status)
                return "done"
            return self._backoff(push, error.retry_after)
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            log.info("a push failed (%s); trying again later", type(error).__name__)
            return self._backoff(push, None)
        except ValueError:  # the subscription's key is no point of the curve (stored before keys were checked)
            log.warning("a push subscription's key is not a P-256 point; removed")
            return "gone"

    @staticmethod
    def _backoff(push: dict, retry_after: str | None) -> str | float:
        wait = float(min(2 ** (push["attempts"] - 1), MAX_BACKOFF_SECONDS))
        if retry_after is not None and retry_after.isdigit():
            wait = max(wait, float(retry_after))
        return wait if wait < push["ttl"] else "done"
