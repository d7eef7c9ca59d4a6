"""GET /{user_id}/tasks: filters, sort orders and keyset pages that cost the same at any list size."""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from pydantic import AwareDatetime, TypeAdapter, ValidationError

from taskapi.cursors import CursorCodec
from taskapi.models import DUE_NEVER, DUE_SORT_KEY, Task
from taskapi.problems import field_error, invalid

# Each sort key is served by an index on (user_id, key, id); see migrations 0001 and 0002.
SORT_KEYS: dict[str, sa.ColumnElement] = {
    "created": Task.created_at,
    "updated": Task.updated_at,
    "title": Task.title,
    "due": DUE_SORT_KEY,
}
_INSTANT = TypeAdapter(AwareDatetime)


def _instant(value: str, name: str) -> datetime:
    """A filter bound; one beyond what Python represents is clamped, since it filters the same way."""
    try:
        parsed = _INSTANT.validate_python(value)
    except ValidationError:
        raise invalid(
            [field_error("query", name, "must be an RFC 3339 date-time such as 2026-12-01T00:00:00Z")]
        ) from None
    try:
        return min(parsed.astimezone(UTC), DUE_NEVER)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC) if parsed.year == 1 else DUE_NEVER


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
    def _descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def _key(self) -> sa.ColumnElement:
        return SORT_KEYS[self.sort.lstrip("-")]

    @property
    def scope(self) -> str:
        """What a cursor is bound to: this user, this sort and these filters (never the page size)."""
        query = [self.user_id, self.status, self.sort, self.q, self.priority, self.due_before, self.due_after]
        return hashlib.sha256(json.dumps(query).encode()).hexdigest()[:24]

    def statement(self, columns: list, after: list | None) -> sa.Select:
        conditions = [Task.user_id == self.user_id]
        if self.status != "all":
            conditions.append(Task.completed.is_(self.status == "completed"))
        if self.priority:
            conditions.append(Task.priority == self.priority)
        if self.due_before:
            conditions.append(Task.due_at < _instant(self.due_before, "due_before"))
        if self.due_after:
            conditions.append(Task.due_at >= _instant(self.due_after, "due_after"))
        if self.q:
            query = sa.func.websearch_to_tsquery(sa.literal_column("'simple'::regconfig"), self.q)
            conditions.append(Task.search.op("@@")(query))
        if after is not None:
            row, last = sa.tuple_(self._key, Task.id), sa.tuple_(*self._decode_position(after))
            conditions.append(row < last if self._descending else row > last)
        order = [self._key.desc(), Task.id.desc()] if self._descending else [self._key.asc(), Task.id.asc()]
        # One row more than the page tells whether there is a next page without a count(*).
        return (
            sa.select(*columns, self._key.label("sort_key")).where(*conditions).order_by(*order).limit(self.limit + 1)
        )

    def position(self, row) -> list:
        key = row["sort_key"]
        return [key.isoformat() if isinstance(key, datetime) else key, str(row["id"])]

    def _decode_position(self, position: list) -> tuple:
        key, task_id = position
        if self.sort.lstrip("-") == "title":
            return sa.literal(key, sa.String), sa.literal(uuid.UUID(task_id), sa.Uuid)
        return sa.literal(datetime.fromisoformat(key), sa.DateTime(timezone=True)), sa.literal(
            uuid.UUID(task_id), sa.Uuid
        )


def page(listing: TaskListing, rows: list, codec: CursorCodec) -> tuple[list, str | None]:
    """The page's rows and the cursor for the next one (None on the last page)."""
    if len(rows) <= listing.limit:
        return rows, None
    rows = rows[: listing.limit]
    return rows, codec.encode(listing.scope, listing.position(rows[-1]))
