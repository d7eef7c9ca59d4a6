"""GET /{user_id}/tasks: filters, sort orders and keyset pages that cost the same at any list size."""

import functools
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from pydantic import AwareDatetime, TypeAdapter, ValidationError

from taskapi.cursors import CursorCodec
from taskapi.models import DUE_NEVER, DUE_SORT_KEY, PUBLIC_COLUMNS, TASKS
from taskapi.problems import field_error, invalid
from taskapi.validation import RFC3339_MESSAGE

# Each sort key is served by an index on (user_id, key, id); see migrations 0001 and 0002.
SORT_KEYS: dict[str, sa.ColumnElement] = {
    "created": TASKS.c.created_at,
    "updated": TASKS.c.updated_at,
    "title": TASKS.c.title,
    "due": DUE_SORT_KEY,
}
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


@functools.lru_cache(maxsize=1024)
def _statement(sort: str, filters: frozenset[str], after: bool) -> sa.Select:
    """One statement per shape of query, built once: requests only bind their values."""
    name, descending = sort.lstrip("-"), sort.startswith("-")
    key = SORT_KEYS[name]
    conditions = [TASKS.c.user_id == sa.bindparam("user_id")]
    if "completed" in filters:
        conditions.append(TASKS.c.completed == sa.bindparam("completed"))
    if "priority" in filters:
        conditions.append(TASKS.c.priority == sa.bindparam("priority"))
    if "due_before" in filters:
        conditions.append(TASKS.c.due_at < sa.bindparam("due_before", type_=sa.DateTime(timezone=True)))
    if "due_after" in filters:
        conditions.append(TASKS.c.due_at >= sa.bindparam("due_after", type_=sa.DateTime(timezone=True)))
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

    @property
    def scope(self) -> str:
        """What a cursor is bound to: this user, this sort and these filters (never the page size)."""
        query = [self.user_id, self.status, self.sort, self.q, self.priority, self.due_before, self.due_after]
        return hashlib.sha256(json.dumps(query).encode()).hexdigest()[:24]

    def statement(self, after: list | None) -> tuple[sa.Select, dict]:
        """The statement for this page and its parameters."""
        # One row more than the page tells whether there is a next page without a count(*).
        params: dict = {"user_id": self.user_id, "page_size": self.limit + 1}
        if self.status != "all":
            params["completed"] = self.status == "completed"
        if self.priority:
            params["priority"] = self.priority
        if self.due_before:
            params["due_before"] = _instant(self.due_before, "due_before")
        if self.due_after:
            params["due_after"] = _instant(self.due_after, "due_after")
        if self.q:
            params["q"] = self.q
        if after is not None:
            key, task_id = after
            params["after_key"] = key if self.sort.lstrip("-") == "title" else datetime.fromisoformat(key)
            params["after_id"] = uuid.UUID(task_id)
        filters = frozenset(params) - {"user_id", "page_size", "after_key", "after_id"}
        return _statement(self.sort, filters, after is not None), params

    @staticmethod
    def position(row) -> list:
        key = row["sort_key"]
        return [key.isoformat() if isinstance(key, datetime) else key, str(row["id"])]


def page(listing: TaskListing, rows: list, codec: CursorCodec) -> tuple[list, str | None]:
    """The page's rows and the cursor for the next one (None on the last page)."""
    if len(rows) <= listing.limit:
        return rows, None
    rows = rows[: listing.limit]
    return rows, codec.encode(listing.scope, listing.position(rows[-1]))
