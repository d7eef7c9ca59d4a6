"""Private calendar feeds (taskapi/calendar): one per user at most, found by its token's hash, never the token."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from taskapi.tables.tasks import USER_ID_MAX


class CalendarFeed(SQLModel, table=True):
    """A user's feed: the SHA-256 of its URL's token, the zone its all-day events are days of, and how many days
    of completed tasks it shows."""

    __tablename__ = "calendar_feeds"

    user_id: str = Field(max_length=USER_ID_MAX, primary_key=True)
    token_hash: bytes = Field(sa_type=sa.LargeBinary, nullable=False, unique=True)
    timezone: str = Field(max_length=64, nullable=False)
    completed_days: int = Field(default=0, nullable=False, sa_column_kwargs={"server_default": sa.text("0")})
    created_at: datetime = Field(
        sa_type=sa.DateTime(timezone=True), nullable=False, sa_column_kwargs={"server_default": sa.func.now()}
    )
