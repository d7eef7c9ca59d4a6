"""Changes announced after their commit, many at once: one NOTIFY names every user whose tasks or lists this
worker changed since its last one (migration 0020 says why no write's transaction notifies any more).

After each request that wrote (and each firing of reminders), the worker's Announcer is told the user (and the
earliest pending reminder the write set). One NOTIFY at a time is on its way; what is told meanwhile goes in the
next, so a worker sends at most one per round trip however many writes it serves. Only users some worker holds a
live-event lease for are named (migration 0010's `event_listeners`), as the worker last looked: it looks at the
leases of the users it writes for at most once a second, so with no stream open anywhere a worker sends one
statement a second while it writes, not one per round trip. A lease taken since the last look is covered by the
listeners' once-a-second look at change numbers (taskapi/sync/delivery.py): its first changes arrive within that.
A worker that dies between a commit and its announcement leaves the change to the listeners' once-a-second look
(taskapi/sync/hub.py). An idle worker sends nothing.
"""

import asyncio
import logging
import time
from datetime import datetime

import orjson
import sqlalchemy as sa

from taskapi.db.session import Database, statement
from taskapi.db.statements import execute, fetch_all

log = logging.getLogger(__name__)

CHANNEL = "task_changes"
# Users per NOTIFY: a payload must stay under Postgres' 8000 bytes, and user ids are up to 128 characters.
USERS_PER_NOTIFY = 40

_ANNOUNCE = sa.text("""
SELECT pg_notify(:channel, json_build_object('users', json_agg(user_id), 'remind_at', CAST(:remind_at AS text))::text)
FROM event_listeners WHERE user_id = ANY(CAST(:users AS text[])) AND until > now()
HAVING count(*) > 0
""")


# The users, of those named, some worker holds a lease for.
_LEASED = sa.text("SELECT user_id FROM event_listeners WHERE user_id = ANY(CAST(:users AS text[])) AND until > now()")
# How often the worker looks at the leases of the users it writes for; what it knows of users it no longer writes
# for is dropped once it holds many more of them than a look covers.
LOOK_AT_LEASES_SECONDS = 1.0
FORGET_AFTER_LOOKS = 60


class Announcer:
    """One per worker."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._users: set[str] = set()
        self._remind_at: datetime | None = None
        self._told = asyncio.Event()
        self._task: asyncio.Task | None = None
        # Users written for since the last look at leases, and what the looks found: user → leased?
        self._recent: set[str] = set()
        self._leased: dict[str, bool] = {}
        self._looked_at = float("-inf")

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="change-announcer")

    async def stop(self) -> None:
        """Announce what is left, then stop."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            await self._announce()

    def tell(self, user_id: str, remind_at: datetime | None = None) -> None:
        """The user's write (which set a pending reminder at `remind_at`, if any) has committed."""
        self._users.add(user_id)
        if remind_at is not None and (self._remind_at is None or remind_at < self._remind_at):
            self._remind_at = remind_at
        self._told.set()

    async def _run(self) -> None:
        while True:
            await self._told.wait()
            self._told.clear()
            await self._announce()

    async def _announce(self) -> None:
        users, remind_at = sorted(self._users), self._remind_at
        self._users, self._remind_at = set(), None
        try:
            async with statement(self._database, live=True) as work:
                users = await self._worth_naming(work, users)
                for start in range(0, len(users), USERS_PER_NOTIFY):
                    params = {
                        "channel": CHANNEL,
                        "users": users[start : start + USERS_PER_NOTIFY],
                        "remind_at": remind_at.isoformat() if remind_at else None,
                    }
                    await execute(work, _ANNOUNCE, params)
        except Exception as error:  # the listeners' look at change numbers delivers these within a second
            log.warning("announcing changes failed (%s)", type(error).__name__)

    async def _worth_naming(self, work, users: list[str]) -> list[str]:
        """The users some worker held a lease for at the last look that covered them, and those no look has
        covered (the NOTIFY checks their leases itself). Once a second, the users written for since are looked at
        again; all that is known is forgotten once it far outgrows what a look covers (users no longer writing)."""
        self._recent.update(users)
        if time.monotonic() - self._looked_at >= LOOK_AT_LEASES_SECONDS:
            looked = sorted(self._recent)
            leased = {row["user_id"] for row in await fetch_all(work, _LEASED, {"users": looked})}
            if len(self._leased) > FORGET_AFTER_LOOKS * len(looked) + 1000:
                self._leased = {}
            self._leased.update((user, user in leased) for user in looked)
            self._recent, self._looked_at = set(), time.monotonic()
        return [user for user in users if self._leased.get(user, True)]


def payload(users: list[str], remind_at: datetime | None = None) -> str:
    """An announcement as the channel carries it (for tests and tools)."""
    return orjson.dumps({"users": users, "remind_at": remind_at.isoformat() if remind_at else None}).decode()
