"""The service's own tables: the answers remembered for Idempotency-Keys, the rate limiter's shared state, and the
leases of users some worker streams live events to."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from taskapi.tables.tasks import USER_ID_MAX


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


class RateLimit(SQLModel, table=True):
    """A rate-limit key's theoretical arrival time, shared by every worker and replica (taskapi/http/limiter.py)."""

    __tablename__ = "rate_limits"

    key: str = Field(primary_key=True)
    tat: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)


class EventListener(SQLModel, table=True):
    """A user some worker holds a live-event stream for, until `until` unless renewed: announcers name that user's
    writes only (taskapi/sync/announcer.py)."""

    __tablename__ = "event_listeners"

    user_id: str = Field(max_length=USER_ID_MAX, primary_key=True)
    until: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)
