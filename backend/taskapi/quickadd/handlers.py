"""POST /{user_id}/tasks/quick: a task from plain words (taskapi/quickadd/words.py reads them), made through the
same door as any create (taskapi/tasks/operations.py), or only parsed with `dry_run`."""

from dataclasses import asdict
from datetime import datetime

from connexion import request
from starlette.responses import Response

from taskapi.auth.tokens import require_owner
from taskapi.db.statements import fetch_all
from taskapi.errors import field_error, invalid
from taskapi.lists import store as lists
from taskapi.quickadd import words
from taskapi.tables.tasks import TITLE_MAX
from taskapi.tasks import idempotency, operations
from taskapi.tasks.answers import private_json
from taskapi.tasks.etags import etag
from taskapi.tasks.models import TaskCreate, public_task
from taskapi.tasks.recurrence import rules


async def quick_add_task(user_id: str, body: dict, user: str, dry_run: bool = False) -> Response:
    require_owner(user_id, user)
    zone = rules.zone(body.get("timezone", "UTC"), field_name="timezone")
    units = request.state.units
    named = {}
    if "#" in body["text"]:
        rows = await units.read(user_id, lambda work: fetch_all(work, lists.ALL, {"owner_id": user_id}))
        named = {row["name"].lower(): (str(row["id"]), row["name"]) for row in rows}
    parsed = words.parse(body["text"], datetime.now(zone), zone, named)
    if not parsed.title:
        raise invalid([field_error("body", "text", "has no words left for a title once its dates and marks are read")])
    if len(parsed.title) > TITLE_MAX:
        raise invalid([field_error("body", "text", f"leaves a title of over {TITLE_MAX} characters")])
    fields = {"title": parsed.title, **parsed.fields}
    if "list_id" not in fields and body.get("list_id") is not None:
        fields["list_id"] = body["list_id"]
    new = TaskCreate.from_body(fields)
    answer = {
        "parsed": {
            "title": new.title,
            "due_at": new.due_at,
            "recurrence": new.recurrence,
            "tags": new.tags,
            "priority": new.priority,
            "list_id": fields.get("list_id"),
        },
        "spans": [asdict(span) for span in parsed.spans],
    }
    if dry_run:
        return private_json({"task": None, **answer})
    key = request.headers.get("idempotency-key")
    retry = operations.Retry(key, idempotency.request_hash({"quickAddTask": body})) if key is not None else None
    row = await operations.create(units, user_id, new, request.state.settings.max_tasks_per_user, retry)
    made = private_json({"task": public_task(row), **answer})
    made.status_code = 201
    made.headers.update({"Location": f"/api/{user_id}/tasks/{row['id']}", "ETag": etag(row["id"], row["version"])})
    return made
