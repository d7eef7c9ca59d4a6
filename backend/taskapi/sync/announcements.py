"""What the change channel carries (taskapi/sync/announcer.py), and what the hub hands event streams: a change, a
reminder that fired, or a resync the hub itself decides.

An announcement names users whose tasks or lists changed (and the earliest pending reminder those writes set, for
other workers' reminder clocks); the hub reads what changed from the feed. So an announcement carries no task
contents, and one NOTIFY serves many writes.
"""

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Change:
    seq: int
    id: str
    op: str
    kind: str = "task"  # or "list" (migration 0012)


@dataclass(frozen=True)
class Resync:
    reason: str


@dataclass(frozen=True)
class Reminder:
    """A reminder that fired (taskapi/sync/reminders.py): what `event: reminder` carries."""

    id: str
    title: str
    due_at: str | None
    remind_at: str


def instant(value: str | datetime) -> str:
    """An instant as the API writes them: RFC 3339 in UTC, ending in Z (from Postgres' JSON `…+00:00`, or a row's
    datetime)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Announcement:
    users: tuple[str, ...]
    remind_at: datetime | None


def parsed(announcement: dict) -> Announcement:
    """An announcement (taskapi/sync/announcer.py); KeyError, TypeError or ValueError if it is none."""
    users, remind_at = announcement["users"], announcement.get("remind_at")
    if not isinstance(users, list) or not all(isinstance(user, str) for user in users):
        raise TypeError
    if remind_at is not None and not isinstance(remind_at, str):
        raise TypeError
    return Announcement(tuple(users), datetime.fromisoformat(remind_at) if remind_at else None)
