"""GET /{user_id}/changes: the change feed (taskapi/sync/changes.py says how it never misses a change)."""

from connexion import request
from starlette.responses import Response

from taskapi.auth.tokens import require_owner
from taskapi.lists.models import public_list
from taskapi.sync.changes import KINDS, LIST_PREFIX, changes_since, position, token
from taskapi.tables.lists import PUBLIC_LIST_FIELDS
from taskapi.tasks.answers import private_json
from taskapi.tasks.models import public_task


def _item(row) -> dict:
    """A task's change as 1.3 clients know it (and its kind); a list's, named by its kind, with `task` null as the
    1.3 schema requires (only for clients that ask for lists)."""
    upsert = row["op"] == "upsert"
    if row["kind"] == "list":
        found = public_list({name: row[LIST_PREFIX + name] for name in PUBLIC_LIST_FIELDS}) if upsert else None
        return {"kind": "list", "id": row["changed_id"], "op": row["op"], "task": None, "list": found}
    return {"kind": "task", "id": row["changed_id"], "op": row["op"], "task": public_task(row) if upsert else None}


async def list_changes(
    user_id: str, user: str, since: str | None = None, limit: int = 100, kinds: list[str] | None = None
) -> Response:
    require_owner(user_id, user)
    codec = request.state.cursors
    wanted = tuple(kind for kind in KINDS if kind in (kinds or ["task"]))
    changes, next_seq, more = await changes_since(
        request.state.units, user_id, position(codec, user_id, since) if since is not None else None, limit, wanted
    )
    items = [_item(row) for row in changes]
    body = {"items": items, "next_since": token(codec, user_id, next_seq), "has_more": more}
    return private_json(body)
