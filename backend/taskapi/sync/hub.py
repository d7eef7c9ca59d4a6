"""Live events' fan-out in one worker: one LISTEN connection, however many event streams.

Writers announce after their commit, many users in one NOTIFY (taskapi/sync/announcer.py), naming only users some
worker holds a lease for in `event_listeners`; what changed is then read from the feed for this worker's streams
(taskapi/sync/delivery.py), which also looks at its users' change numbers every second, so that a change whose
announcement never came (its writer died, a listening connection dropped) is delivered all the same. Each worker
that serves event streams listens on one connection of its own, to DATABASE_URL_DIRECT: Neon's pooled endpoint is
PgBouncer in transaction mode, which cannot LISTEN. The connection is opened with the first stream and kept while
the worker has streams; after EVENT_LISTEN_IDLE_SECONDS without one it is closed, so that an idle service lets Neon
scale to zero. Every 30 s (or half EVENT_LISTEN_TIMEOUT_SECONDS) the worker renews its leases and sends a heartbeat
to a channel of its own, both on its maintenance connection; the heartbeat must come back on the listening
connection within the next period. When that connection drops, or goes silent without closing (a NAT or proxy
dropped it), it is opened again with backoff, and every stream's user is read again from the feed.
"""

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from datetime import datetime

import orjson
import psycopg
import sqlalchemy as sa
from prometheus_client import Counter, Gauge

from taskapi.db.session import Database, libpq_conninfo, statement
from taskapi.db.statements import execute
from taskapi.http.problems import Problem, unavailable
from taskapi.settings import Settings
from taskapi.sync.announcements import Change, Reminder, Resync, parsed
from taskapi.sync.announcer import CHANNEL
from taskapi.sync.delivery import Deliveries

log = logging.getLogger(__name__)

STREAMS = Gauge("taskapi_event_streams", "Open live-event streams", multiprocess_mode="livesum")
LISTENER_DROPS = Counter("taskapi_change_listener_drops_total", "Times a worker's LISTEN connection was lost")
FOREIGN_NOTIFICATIONS = Counter(
    "taskapi_foreign_notifications_total", "Notifications on the change channel that were not task changes"
)


# A stream that falls this far behind (a client not reading) is told to resync instead of queueing more.
QUEUE_LIMIT = 1000
# How long a new stream waits for the listening connection before a 503.
LISTEN_WAIT_SECONDS = 5
# Leases last this long and are renewed at least this often, with the heartbeat.
LEASE_SECONDS = 90
RENEW_SECONDS = 30
# TCP keepalives on the listening connection: a peer that is gone (not a proxy that only stopped forwarding,
# which the heartbeat catches) is noticed within idle + interval x count seconds.
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}
# Every check: the leases of the users this worker holds streams for renewed, and a heartbeat sent to this
# worker's own channel, which must come back on the listening connection before the next check.
_HEARTBEAT = sa.text("""
WITH renewed AS (
  INSERT INTO event_listeners AS l (user_id, until)
  SELECT user_id, now() + make_interval(secs => :seconds) FROM unnest(CAST(:users AS text[])) AS user_id
  ON CONFLICT (user_id) DO UPDATE SET until = greatest(l.until, EXCLUDED.until))
SELECT pg_notify(:channel, '')
""")
# A new stream's lease, committed before the stream reads where its user stands. The counter row is made if
# missing, so that reading it FOR SHARE then waits for a first write in flight too.
_REGISTER = sa.text("""
WITH lease AS (
  INSERT INTO event_listeners AS l (user_id, until) VALUES (:user_id, now() + make_interval(secs => :seconds))
  ON CONFLICT (user_id) DO UPDATE SET until = greatest(l.until, EXCLUDED.until))
INSERT INTO task_counts (user_id) VALUES (:user_id) ON CONFLICT (user_id) DO NOTHING
""")


class Subscription:
    """One event stream's inbox."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.inbox: asyncio.Queue[Change | Resync | Reminder] = asyncio.Queue(maxsize=QUEUE_LIMIT)

    def deliver(self, item: Change | Resync | Reminder) -> None:
        try:
            self.inbox.put_nowait(item)
        except asyncio.QueueFull:
            while not self.inbox.empty():
                self.inbox.get_nowait()
            self.inbox.put_nowait(Resync("too-far-behind"))

    def waiting(self) -> list[Change | Resync | Reminder]:
        """Everything already in the inbox, without waiting."""
        items = []
        while not self.inbox.empty():
            items.append(self.inbox.get_nowait())
        return items


class ChangeHub:
    """One per worker: its event streams by user, and the listening connection that feeds them."""

    def __init__(
        self, settings: Settings, database: Database, on_reminder_set: Callable[[datetime], None] = lambda _: None
    ) -> None:
        self._database = database
        # Told of each pending reminder another worker's write set (taskapi/sync/reminders.py: consider).
        self._on_reminder_set = on_reminder_set
        self._alive_channel = f"taskapi_alive_{secrets.token_hex(8)}"
        self._conninfo = libpq_conninfo(settings.database_url_direct or settings.database_url)
        self._application_name = settings.db_application_name
        # A heartbeat each period must come back within that period: a connection gone silent just after one came
        # back is replaced two periods later, within EVENT_LISTEN_TIMEOUT_SECONDS.
        self._check_seconds = min(RENEW_SECONDS, settings.event_listen_timeout_seconds / 2)
        self._idle_seconds = settings.event_listen_idle_seconds
        self._idle_since = time.monotonic()
        self._streams_per_user = settings.event_streams_per_user
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._listening = asyncio.Event()
        self._listener: asyncio.Task | None = None
        self._deliveries = Deliveries(database, self._deliver)

    def start(self) -> None:
        self._deliveries.start()

    async def started(self, user_id: str, head: int) -> None:
        """A stream of the user has reported up to `head`: what changes after it reaches the stream."""
        await self._deliveries.track(user_id, head)

    async def subscribe(self, user_id: str) -> Subscription:
        """A new stream's inbox, once this worker is listening; 429 over the per-user cap, 503 if the database
        cannot be listened to."""
        streams = self._subscriptions.setdefault(user_id, set())
        if len(streams) >= self._streams_per_user:
            raise Problem(
                429,
                f"You already have {self._streams_per_user} event streams open here, the most one user may; "
                "close one (one per app or tab is enough) before opening another.",
                kind="too-many-event-streams",
                headers={"Retry-After": "5"},
                extra={"limit": self._streams_per_user},
            )
        subscription = Subscription(user_id)
        streams.add(subscription)
        STREAMS.inc()
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="change-listener")
        try:
            async with asyncio.timeout(LISTEN_WAIT_SECONDS):
                await self._listening.wait()
            async with statement(self._database) as session:
                await execute(session, _REGISTER, {"user_id": user_id, "seconds": LEASE_SECONDS})
        except TimeoutError:
            self.unsubscribe(subscription)
            raise unavailable("Live events are unavailable right now: the database cannot be reached.") from None
        except BaseException:
            self.unsubscribe(subscription)
            raise
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        streams = self._subscriptions.get(subscription.user_id)
        if streams is not None and subscription in streams:
            streams.remove(subscription)
            STREAMS.dec()
            if not streams:
                del self._subscriptions[subscription.user_id]
                self._deliveries.forget(subscription.user_id)
                if not self._subscriptions:
                    self._idle_since = time.monotonic()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self._deliveries.stop()

    async def _heartbeat(self) -> None:
        """Renew the leases and send the heartbeat, on the worker's maintenance connection: nothing but LISTEN ever
        runs on the listening connection, so abandoning it never has to interrupt a query there."""
        params = {"seconds": LEASE_SECONDS, "users": list(self._subscriptions), "channel": self._alive_channel}
        async with asyncio.timeout(self._check_seconds), self._database.maintenance_engine.begin() as connection:
            await connection.execute(_HEARTBEAT, params)

    async def _heard_heartbeat(self, connection: psycopg.AsyncConnection) -> bool:
        """Deliver what arrives for one check period; whether this worker's heartbeat came back meanwhile."""
        heard = False
        async for notify in connection.notifies(timeout=self._check_seconds):
            if notify.channel == self._alive_channel:
                heard = True
            else:
                self._dispatch(notify.payload)
        return heard

    def _deliver(self, user_id: str, item: Change | Resync | Reminder) -> None:
        for subscription in self._subscriptions.get(user_id, ()):
            subscription.deliver(item)

    def _dispatch(self, payload: str) -> None:
        """Act on one announcement; anything else on the channel (anyone with the database's password can NOTIFY
        it) is logged and ignored, never allowed to end the listener."""
        try:
            announcement = parsed(orjson.loads(payload))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            FOREIGN_NOTIFICATIONS.inc()
            log.warning("ignored a notification on %s that is not an announcement", CHANNEL)
            return
        if announcement.remind_at is not None:
            self._on_reminder_set(announcement.remind_at)
        self._deliveries.changed(announcement.users)

    async def _listen(self) -> None:
        delay, dropped = 0.1, False
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo,
                    autocommit=True,
                    connect_timeout=5,
                    application_name=self._application_name,
                    **_KEEPALIVES,
                ) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    await connection.execute(f"LISTEN {self._alive_channel}")
                    await self._heartbeat()
                    self._listening.set()
                    if dropped:  # what was announced meanwhile was heard by nobody here: read the feed again
                        log.info("listening for changes again")
                        self._deliveries.changed(list(self._subscriptions))
                    delay, dropped = 0.1, False
                    while await self._heard_heartbeat(connection):
                        if not self._subscriptions and time.monotonic() - self._idle_since >= self._idle_seconds:
                            # Idle: stop listening, so that Postgres hears nothing from this worker (Neon can
                            # scale to zero). A stream subscribing from now on starts a new listener.
                            self._listening.clear()
                            self._listener = None
                            return
                        await self._heartbeat()
                    # Neither closed nor answering (a NAT or a proxy dropped it silently): replace it.
                    raise TimeoutError("the listening connection went silent")
            except Exception as error:  # whatever it was, listen again rather than leave every stream deaf
                if self._listening.is_set():
                    LISTENER_DROPS.inc()
                if self._listening.is_set() or not dropped:
                    unexpected = not isinstance(error, psycopg.Error | OSError)
                    log.log(
                        logging.ERROR if unexpected else logging.WARNING,
                        "listening for changes failed (%s); retrying with backoff",
                        type(error).__name__,
                        exc_info=error if unexpected else None,
                    )
            self._listening.clear()
            dropped = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
