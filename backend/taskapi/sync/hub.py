"""Live events' fan-out in one worker: one LISTEN connection, however many event streams.

Writes announce their change on the `task_changes` channel from inside their transaction (migration 0009), so
an announcement is sent only for a committed change, by whichever replica or worker made it, and only for a
user some worker holds a lease for in `event_listeners` (migration 0010 says why and how no change slips
between). Each worker that serves event streams listens on one connection of its own, to DATABASE_URL_DIRECT:
Neon's pooled endpoint is PgBouncer in transaction mode, which cannot LISTEN. The connection is opened with
the first stream and kept, and renews this worker's leases every 30 s; when it drops, it is opened again with
backoff, and every stream is told to resync (changes made meanwhile were announced to nobody; the change feed
has them).
"""

import asyncio
import logging
from dataclasses import dataclass

import orjson
import psycopg
import sqlalchemy as sa
from prometheus_client import Counter, Gauge

from taskapi.db.session import libpq_conninfo, statement
from taskapi.http.problems import Problem, unavailable
from taskapi.settings import Settings

log = logging.getLogger(__name__)

STREAMS = Gauge("taskapi_event_streams", "Open live-event streams", multiprocess_mode="livesum")
LISTENER_DROPS = Counter("taskapi_change_listener_drops_total", "Times a worker's LISTEN connection was lost")
FOREIGN_NOTIFICATIONS = Counter(
    "taskapi_foreign_notifications_total", "Notifications on the change channel that were not task changes"
)

CHANNEL = "task_changes"
# A stream that falls this far behind (a client not reading) is told to resync instead of queueing more.
QUEUE_LIMIT = 1000
# How long a new stream waits for the listening connection before a 503.
LISTEN_WAIT_SECONDS = 5
# Leases last this long and are renewed this often, which also checks an idle listening connection.
LEASE_SECONDS = 90
RENEW_SECONDS = 30
_LEASES = """
INSERT INTO event_listeners AS l (user_id, until) SELECT user_id, now() + make_interval(secs => %s)
FROM unnest(%s::text[]) AS user_id
ON CONFLICT (user_id) DO UPDATE SET until = greatest(l.until, EXCLUDED.until)
"""
# A new stream's lease, committed before the stream reads where its user stands. The counter row is made if
# missing, so that reading it FOR SHARE then waits for a first write in flight too.
_REGISTER = sa.text("""
WITH lease AS (
  INSERT INTO event_listeners AS l (user_id, until) VALUES (:user_id, now() + make_interval(secs => :seconds))
  ON CONFLICT (user_id) DO UPDATE SET until = greatest(l.until, EXCLUDED.until))
INSERT INTO task_counts (user_id) VALUES (:user_id) ON CONFLICT (user_id) DO NOTHING
""")


@dataclass(frozen=True)
class Change:
    seq: int
    id: str
    op: str


@dataclass(frozen=True)
class Resync:
    reason: str


class Subscription:
    """One event stream's inbox."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.inbox: asyncio.Queue[Change | Resync] = asyncio.Queue(maxsize=QUEUE_LIMIT)

    def deliver(self, item: Change | Resync) -> None:
        try:
            self.inbox.put_nowait(item)
        except asyncio.QueueFull:
            while not self.inbox.empty():
                self.inbox.get_nowait()
            self.inbox.put_nowait(Resync("too-far-behind"))

    def waiting(self) -> list[Change | Resync]:
        """Everything already in the inbox, without waiting."""
        items = []
        while not self.inbox.empty():
            items.append(self.inbox.get_nowait())
        return items


class ChangeHub:
    """One per worker: its event streams by user, and the listening connection that feeds them."""

    def __init__(self, settings: Settings) -> None:
        self._conninfo = libpq_conninfo(settings.database_url_direct or settings.database_url)
        self._application_name = settings.db_application_name
        self._streams_per_user = settings.event_streams_per_user
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._listening = asyncio.Event()
        self._listener: asyncio.Task | None = None

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
            async with statement() as session:
                await session.exec(_REGISTER, params={"user_id": user_id, "seconds": LEASE_SECONDS})
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

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)

    async def _renew(self, connection: psycopg.AsyncConnection) -> None:
        """Renew the leases of the users this worker holds streams for (or just check the connection)."""
        if self._subscriptions:
            await connection.execute(_LEASES, (LEASE_SECONDS, list(self._subscriptions)))
        else:
            await connection.execute("SELECT 1")

    def _tell_everyone(self, item: Resync) -> None:
        for streams in self._subscriptions.values():
            for subscription in streams:
                subscription.deliver(item)

    def _dispatch(self, payload: str) -> None:
        """Deliver one announcement; anything else on the channel (anyone with the database's password can
        NOTIFY it) is logged and ignored, never allowed to end the listener."""
        try:
            change = orjson.loads(payload)
            user_id, seq, task_id, op = change["user_id"], change["seq"], change["id"], change["op"]
            if not (isinstance(user_id, str) and isinstance(seq, int) and isinstance(task_id, str)):
                raise TypeError
        except (orjson.JSONDecodeError, KeyError, TypeError):
            FOREIGN_NOTIFICATIONS.inc()
            log.warning("ignored a notification on %s that is not a task change", CHANNEL)
            return
        for subscription in self._subscriptions.get(user_id, ()):
            subscription.deliver(Change(seq, task_id, op))

    async def _listen(self) -> None:
        delay, dropped = 0.1, False
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, connect_timeout=5, application_name=self._application_name
                ) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    await self._renew(connection)
                    self._listening.set()
                    if dropped:
                        log.info("listening for changes again")
                        self._tell_everyone(Resync("gap"))
                    delay, dropped = 0.1, False
                    while True:
                        async for notify in connection.notifies(timeout=RENEW_SECONDS):
                            self._dispatch(notify.payload)
                        await self._renew(connection)  # raises if the connection died quietly
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
