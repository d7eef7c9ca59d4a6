"""Reference row of `make bench`: the stack a team would otherwise pick for this job, written as its tutorials
write it. FastAPI, a SQLModel table, a sync `Session` per request from a dependency, PyJWT decoding the bearer
token on every request, the page returned as response models. Same list, same database, same server.
"""

import os
import uuid
from datetime import datetime

import jwt
from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel
from sqlalchemy import Column, DateTime
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy import Text as SqlText
from sqlmodel import Field, Session, SQLModel, create_engine, select


class Task(SQLModel, table=True):
    __tablename__ = "tasks"

    id: uuid.UUID = Field(primary_key=True)
    user_id: str
    title: str
    description: str | None = None
    completed: bool
    completed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    priority: str
    due_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    tags: list[str] = Field(sa_column=Column(ARRAY(SqlText)))
    remind_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    recurrence: dict | None = Field(default=None, sa_column=Column(JSONB))
    next_occurrence_id: uuid.UUID | None = None
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True)))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True)))


class TaskPublic(BaseModel):
    id: uuid.UUID
    user_id: str
    title: str
    description: str | None
    completed: bool
    completed_at: datetime | None
    priority: str
    due_at: datetime | None
    tags: list[str]
    remind_at: datetime | None
    recurrence: dict | None
    next_occurrence_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class TaskPage(BaseModel):
    items: list[TaskPublic]
    next_cursor: str | None


engine = create_engine(
    os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
    pool_size=10,
    connect_args={"prepare_threshold": None},
)
app = FastAPI()


def get_session():
    with Session(engine) as session:
        yield session


def current_user(authorization: str = Header()) -> str:
    scheme, _, token = authorization.partition(" ")
    try:
        claims = jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="invalid token") from None
    return claims["sub"]


@app.get("/api/{user_id}/tasks", response_model=TaskPage)
def list_tasks(
    user_id: str, limit: int = 50, session: Session = Depends(get_session), user: str = Depends(current_user)
) -> TaskPage:
    if user != user_id:
        raise HTTPException(status_code=403, detail="not yours")
    statement = (
        select(Task).where(Task.user_id == user_id).order_by(Task.created_at.desc(), Task.id.desc()).limit(limit)
    )
    return TaskPage(items=[TaskPublic.model_validate(task, from_attributes=True) for task in session.exec(statement)], next_cursor=None)
