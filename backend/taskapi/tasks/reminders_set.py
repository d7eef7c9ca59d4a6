"""The pending reminders a request's writes set, collected while it runs: once the request is over (its writes
committed), the worker's reminder clock is told of the earliest (taskapi/sync/after_request.py)."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_SET: ContextVar[list[datetime] | None] = ContextVar("reminders_set", default=None)
# Many reminders at once (a list restored): the clock reads the earliest again at once.
AT_ONCE = datetime.min.replace(tzinfo=UTC)


def remind_after_commit(remind_at: datetime) -> None:
    """A pending reminder this request's write set."""
    told = _SET.get()
    if told is not None:
        told.append(remind_at)


@contextmanager
def collected() -> Iterator[list[datetime]]:
    """The reminders set within this block (a request)."""
    told: list[datetime] = []
    token = _SET.set(told)
    try:
        yield told
    finally:
        _SET.reset(token)
