"""What the change channel carries (migrations 0010, 0012, 0015; taskapi/sync/reminders.py), as the hub hands it to
event streams: a change, a reminder that fired, or a resync the hub itself decides."""

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


def instant(value: str) -> str:
    """An instant Postgres wrote in JSON (`…+00:00`), as the API writes them: RFC 3339 in UTC, ending in Z."""
    return datetime.fromisoformat(value).astimezone(UTC).isoformat().replace("+00:00", "Z")


def parsed(announcement: dict) -> tuple[str, Change | Reminder, datetime | None]:
    """The user, what to deliver to the user's streams, and the pending reminder a change set (if any), from an
    announcement: a change (migrations 0010, 0012, 0015) or a reminder that fired (taskapi/sync/reminders.py).
    KeyError, TypeError or ValueError if it is neither."""
    user_id = announcement["user_id"]
    if not isinstance(user_id, str):
        raise TypeError
    if announcement.get("type") == "reminder":
        task_id, title, due_at = announcement["id"], announcement["title"], announcement.get("due_at")
        if not (isinstance(task_id, str) and isinstance(title, str)):
            raise TypeError
        due = instant(due_at) if due_at is not None else None
        return user_id, Reminder(task_id, title, due, instant(announcement["remind_at"])), None
    seq, task_id, op = announcement["seq"], announcement["id"], announcement["op"]
    kind = announcement.get("kind", "task")  # announcements from before migration 0012 name no kind
    if not (isinstance(seq, int) and isinstance(task_id, str)) or kind not in ("task", "list"):
        raise TypeError
    remind_at = announcement.get("remind_at")
    return user_id, Change(seq, task_id, op, kind), datetime.fromisoformat(remind_at) if remind_at else None
