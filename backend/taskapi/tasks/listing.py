"""GET /{user_id}/tasks: filters, sort orders and keyset pages that cost the same at any list size."""

import functools
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from pydantic import AwareDatetime, TypeAdapter, ValidationError
from sqlalchemy.dialects import postgresql

from taskapi.errors import field_error, invalid
from taskapi.http.validation import RFC3339_MESSAGE
from taskapi.tables.tasks import DUE_NEVER, DUE_SORT_KEY, PUBLIC_COLUMNS, REMIND_DESC_SORT_KEY, REMIND_SORT_KEY, TASKS

# Each sort key is served by an index on (user_id, key, id); see migrations 0001, 0002 and 0004.
SORT_KEYS: dict[str, sa.ColumnElement] = {
    "created": TASKS.c.created_at,
    "updated": TASKS.c.updated_at,
    "title": TASKS.c.title,
    "due": DUE_SORT_KEY,
    "remind": REMIND_SORT_KEY,
    # Manual order (taskapi/ordering/positions.py), served by (user_id, list_id, position, id) within a list or the
    # Inbox (a top-level task and a subtask may share a position: their siblings differ), by (user_id, position,
    # id) across them, and by (parent_id, position) for one task's subtasks.
    "position": TASKS.c.position,
}
# Where descending order needs a key of its own (tasks without a reminder still last).
DESCENDING_SORT_KEYS = {"remind": REMIND_DESC_SORT_KEY}
# The expression the tag index holds (migration 0004): each tag prefixed with its owner, "alice/work".
TAG_KEYS = sa.func.task_tag_keys(TASKS.c.user_id, TASKS.c.tags, type_=postgresql.ARRAY(sa.Text))
# Filters on a time column: (parameter, column, comparison).
_TIME_FILTERS = (
    ("due_before", TASKS.c.due_at, "<"),
    ("due_after", TASKS.c.due_at, ">="),
    ("remind_before", TASKS.c.remind_at, "<"),
    ("remind_after", TASKS.c.remind_at, ">="),
)
_INSTANT = TypeAdapter(AwareDatetime)


def _instant(value: str, name: str) -> datetime:
    """A filter bound; one beyond what Python represents is clamped, since it filters the same way."""
    try:
        parsed = _INSTANT.validate_python(value)
    except ValidationError:
        raise invalid([field_error("query", name, RFC3339_MESSAGE)]) from None
    try:
        return min(parsed.astimezone(UTC), DUE_NEVER)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC) if parsed.year == 1 else DUE_NEVER


# What a page's rows carry besides a task's answer (PUBLIC_COLUMNS' version, and the key the page is sorted by).
LISTED_OTHERS = ("version", "sort_key")


@functools.lru_cache(maxsize=1024)
def _statement(sort: str, filters: frozenset[str], after: bool) -> sa.Select:
    """One statement per shape of query, built once: requests only bind their values."""
    name, descending = sort.lstrip("-"), sort.startswith("-")
    key = DESCENDING_SORT_KEYS.get(name, SORT_KEYS[name]) if descending else SORT_KEYS[name]
    conditions = [TASKS.c.user_id == sa.bindparam("user_id")]
    if "completed" in filters:
        conditions.append(TASKS.c.completed == sa.bindparam("completed"))
    if "priority" in filters:
        conditions.append(TASKS.c.priority == sa.bindparam("priority"))
    if "list_id" in filters:
        conditions.append(TASKS.c.list_id == sa.bindparam("list_id", type_=sa.Uuid))
    if "inbox" in filters:
        conditions.append(TASKS.c.list_id.is_(None))
    if "parent_id" in filters:
        conditions.append(TASKS.c.parent_id == sa.bindparam("parent_id", type_=sa.Uuid))
    if "top_level" in filters:
        conditions.append(TASKS.c.parent_id.is_(None))
    for name, column, comparison in _TIME_FILTERS:
        if name in filters:
            conditions.append(column.op(comparison)(sa.bindparam(name, type_=sa.DateTime(timezone=True))))
    if "tag_keys" in filters:
        conditions.append(TAG_KEYS.contains(sa.bindparam("tag_keys", type_=postgresql.ARRAY(sa.Text))))
    if "q" in filters:
        query = sa.func.websearch_to_tsquery(
            sa.literal_column("'simple'::regconfig"), sa.bindparam("q", type_=sa.String)
        )
        conditions.append(TASKS.c.search.op("@@")(query))
    if after:
        row = sa.tuple_(key, TASKS.c.id)
        last = sa.tuple_(sa.bindparam("after_key", type_=key.type), sa.bindparam("after_id", type_=sa.Uuid))
        conditions.append(row < last if descending else row > last)
    order = [key.desc(), TASKS.c.id.desc()] if descending else [key.asc(), TASKS.c.id.asc()]
    return (
        sa.select(*PUBLIC_COLUMNS, key.label("sort_key"))
        .where(*conditions)
        .order_by(*order)
        .limit(sa.bindparam("page_size"))
    )


@dataclass(frozen=True)
class TaskListing:
    user_id: str
    status: str = "all"
    sort: str = "-created"
    q: str | None = None
    priority: str | None = None
    due_before: str | None = None
    due_after: str | None = None
    limit: int = 50
    tags: tuple[str, ...] = ()  # normalised (taskapi.tasks.tags)
    remind_before: str | None = None
    remind_after: str | None = None
    list_id: str | None = None  # a list's id, or "inbox"
    parent_id: str | None = None  # a task's id, or "none" (top-level tasks only)

    @property
    def scope(self) -> str:
        """What a cursor is bound to: this user, this sort and these filters (never the page size)."""
        query = [
            self.user_id,
            self.status,
            self.sort,
            self.q,
            self.priority,
            self.due_before,
            self.due_after,
            list(self.tags),
            self.remind_before,
            self.remind_after,
            self.list_id,
            *([self.parent_id] if self.parent_id else []),
        ]
        return hashlib.sha256(json.dumps(query).encode()).hexdigest()[:24]

    def statement(self, after: list | None) -> tuple[sa.Select, dict]:
        """The statement for this page and its parameters."""
        # One row more than the page tells whether there is a next page without a count(*).
        params: dict = {"user_id": self.user_id, "page_size": self.limit + 1}
        if self.status != "all":
            params["completed"] = self.status == "completed"
        if self.priority:
            params["priority"] = self.priority
        for name, _column, _comparison in _TIME_FILTERS:
            if getattr(self, name):
                params[name] = _instant(getattr(self, name), name)
        if self.tags:
            params["tag_keys"] = [f"{self.user_id}/{tag}" for tag in self.tags]
        if self.q:
            params["q"] = self.q
        if self.list_id not in (None, "inbox"):
            params["list_id"] = uuid.UUID(self.list_id)
        if self.parent_id not in (None, "none"):
            params["parent_id"] = uuid.UUID(self.parent_id)
        if after is not None:
            key, task_id = after
            params["after_key"] = key if self.sort.lstrip("-") in ("title", "position") else datetime.fromisoformat(key)
            params["after_id"] = uuid.UUID(task_id)
        filters = frozenset(params) - {"user_id", "page_size", "after_key", "after_id"}
        if self.list_id == "inbox":
            filters |= {"inbox"}
        if self.parent_id == "none":
            filters |= {"top_level"}
        return _statement(self.sort, filters, after is not None), params

    @staticmethod
    def position(row) -> list:
        key = row["sort_key"]
        return [key.isoformat() if isinstance(key, datetime) else key, str(row["id"])]
