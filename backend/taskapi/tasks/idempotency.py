"""Idempotency-Key on create: one task per (user, key) for 24 hours, however many retries, however concurrent."""

import hashlib
import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from taskapi.http.problems import Problem
from taskapi.tasks.models import USER_ID_MAX

KEY_LIFETIME = sa.text("interval '24 hours'")


class IdempotencyKey(SQLModel, table=True):
    """A create already done for (user, key): its request's hash and the answer to replay."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.Index("ix_idempotency_keys_created_at", "created_at"),)

    user_id: str = Field(max_length=USER_ID_MAX, primary_key=True)
    key: str = Field(max_length=255, primary_key=True)
    request_hash: str = Field(max_length=64)
    response: dict | None = Field(default=None, sa_type=postgresql.JSONB)
    created_at: datetime = Field(
        sa_type=sa.DateTime(timezone=True), nullable=False, sa_column_kwargs={"server_default": sa.func.now()}
    )


def request_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


async def claim(session: AsyncSession, user_id: str, key: str, body_hash: str) -> dict | None:
    """Claim the key for this request, or return the answer already given for it.

    The insert takes the key's row lock: a concurrent retry blocks on it until the first request commits,
    then finds its answer. A key older than 24 hours is taken over as if new.
    """
    table = IdempotencyKey.__table__
    statement = (
        insert(table)
        .values(user_id=user_id, key=key, request_hash=body_hash)
        .on_conflict_do_update(
            index_elements=[table.c.user_id, table.c.key],
            set_={"request_hash": body_hash, "response": None, "created_at": sa.func.now()},
            where=table.c.created_at < sa.func.now() - KEY_LIFETIME,
        )
        .returning(table.c.key)
    )
    if (await session.exec(statement)).first() is not None:
        return None
    stored = (
        await session.exec(
            sa.select(table.c.request_hash, table.c.response).where(table.c.user_id == user_id, table.c.key == key)
        )
    ).one()
    if stored.request_hash != body_hash:
        raise Problem(
            422,
            "This Idempotency-Key was already used with a different body; use a new key for a new task.",
            kind="idempotency-key-reused",
        )
    return stored.response


async def remember(session: AsyncSession, user_id: str, key: str, response: dict) -> None:
    table = IdempotencyKey.__table__
    await session.exec(sa.update(table).where(table.c.user_id == user_id, table.c.key == key).values(response=response))
