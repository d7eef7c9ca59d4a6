"""Idempotency-Key on create: one task per (user, key) for 24 hours, however many retries, however concurrent."""

import hashlib
import json

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from taskapi.db.session import Work
from taskapi.db.statements import execute, fetch_first
from taskapi.errors import Unprocessable
from taskapi.tables.service import IdempotencyKey

KEY_LIFETIME = sa.text("interval '24 hours'")


def request_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


_TABLE = IdempotencyKey.__table__
_KEY = (_TABLE.c.user_id == sa.bindparam("owner_id"), _TABLE.c.key == sa.bindparam("key"))
# The key claimed by this request: a new row, or one older than 24 hours taken over as if new.
_CLAIM = (
    insert(_TABLE)
    .values(user_id=sa.bindparam("owner_id"), key=sa.bindparam("key"), request_hash=sa.bindparam("hash"))
    .on_conflict_do_update(
        index_elements=[_TABLE.c.user_id, _TABLE.c.key],
        set_={"request_hash": sa.bindparam("hash"), "response": None, "created_at": sa.func.now()},
        where=_TABLE.c.created_at < sa.func.now() - KEY_LIFETIME,
    )
    .returning(_TABLE.c.key)
)
_STORED = sa.select(_TABLE.c.request_hash, _TABLE.c.response).where(*_KEY)
_REMEMBER = sa.update(_TABLE).where(*_KEY).values(response=sa.bindparam("answer", type_=_TABLE.c.response.type))


async def claim(session: Work, user_id: str, key: str, body_hash: str) -> dict | None:
    """Claim the key for this request, or return the answer already given for it.

    The insert takes the key's row lock: a concurrent retry blocks on it until the first request commits,
    then finds its answer. A key older than 24 hours is taken over as if new.
    """
    params = {"owner_id": user_id, "key": key, "hash": body_hash}
    if await fetch_first(session, _CLAIM, params) is not None:
        return None
    stored = await fetch_first(session, _STORED, params)
    if stored["request_hash"] != body_hash:
        raise Unprocessable(
            "This Idempotency-Key was already used with a different body; use a new key for a new task.",
            kind="idempotency-key-reused",
        )
    return stored["response"]


async def remember(session: Work, user_id: str, key: str, response: dict) -> None:
    await execute(session, _REMEMBER, {"owner_id": user_id, "key": key, "answer": response})
