"""GET /{user_id}/changes: the change feed (taskapi/sync/changes.py says how it never misses a change)."""

from connexion import request
from starlette.responses import Response

from taskapi.auth.tokens import require_owner
from taskapi.sync.changes import changes_since, position, token
from taskapi.tasks.answers import private_json
from taskapi.tasks.models import public_task


async def list_changes(user_id: str, user: str, since: str | None = None, limit: int = 100) -> Response:
    require_owner(user_id, user)
    codec = request.state.cursors
    changes, next_seq, more = await changes_since(
        user_id, position(codec, user_id, since) if since is not None else None, limit
    )
    items = [
        {"id": row["changed_id"], "op": row["op"], "task": public_task(row) if row["op"] == "upsert" else None}
        for row in changes
    ]
    body = {"items": items, "next_since": token(codec, user_id, next_seq), "has_more": more}
    return private_json(body)
