"""When a worker's background job (firing reminders, sending pushes) is next due, and the sleep until then.

The time is what the job last read from the database, or an earlier one it was told of since: a write that set
an earlier reminder, once committed (`tell`). A time told while the job was reading is kept if earlier than what
the read found (the read may have started before that write committed); a time told before the read began is in
what the read found. No wake-up is lost, and nothing is polled.
"""

import asyncio
from datetime import UTC, datetime


def _earlier(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None or second is None:
        return first or second
    return min(first, second)


class Alarm:
    def __init__(self) -> None:
        self._at: datetime | None = None
        # The earliest time told since the job last began reading.
        self._told_at: datetime | None = None
        self._told = asyncio.Event()

    def tell(self, at: datetime | None) -> None:
        """Something committed is due at `at`: ring then at the latest."""
        if at is None:
            return
        self._told_at = _earlier(self._told_at, at)
        self._at = _earlier(self._at, at)
        self._told.set()

    def reading(self) -> None:
        """The job starts reading what is due: times told from now on are kept over what it reads."""
        self._told.clear()
        self._told_at = None

    def read(self, found: datetime | None) -> None:
        """What the read found due next."""
        self._at = _earlier(found, self._told_at)

    def due(self) -> bool:
        return self._at is not None and self._at <= datetime.now(UTC)

    async def wait(self) -> None:
        """Until the time comes; at once if it has."""
        while True:
            wait = None if self._at is None else (self._at - datetime.now(UTC)).total_seconds()
            if wait is not None and wait <= 0:
                return
            try:
                async with asyncio.timeout(wait):
                    await self._told.wait()
            except TimeoutError:
                return
            self._told.clear()
