"""POST /{user_id}/batch: up to 100 task operations applied in order, in one transaction, all or nothing; an
offline client's queue sent as one request (taskapi/batch/apply.py)."""

from connexion import request
from starlette.responses import Response

from taskapi.auth.tokens import require_owner
from taskapi.batch.apply import apply_all
from taskapi.http.ratelimit import count_more
from taskapi.tasks import idempotency
from taskapi.tasks.answers import private_json


async def apply_batch(user_id: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    operations = body["operations"]
    count_more(request.scope.get("state", {}), user_id, len(operations) - 1)
    key = request.headers.get("idempotency-key")
    quota = request.state.settings.max_tasks_per_user
    async with request.state.units.transaction() as session:
        if key is not None:
            replay = await idempotency.claim(session, user_id, key, idempotency.request_hash(body))
            if replay is not None:
                return private_json(replay)
        answer = await apply_all(session, user_id, operations, quota)
        if key is not None:
            await idempotency.remember(session, user_id, key, answer)
    return private_json(answer)
