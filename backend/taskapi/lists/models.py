"""A list's response shape (its tables are in taskapi/tables/lists.py)."""

from datetime import UTC

from taskapi.tables.lists import PUBLIC_LIST_FIELDS


def public_list(row) -> dict:
    found = {name: row[name] for name in PUBLIC_LIST_FIELDS}
    for name in ("created_at", "updated_at"):
        found[name] = found[name].astimezone(UTC)
    return found
