"""What the list operations answer: a list with its ETag, and why a list was not found or changed."""

import uuid

import sqlalchemy as sa
from starlette.responses import Response

from taskapi.db.session import Work
from taskapi.db.statements import fetch_first
from taskapi.errors import Conflict, DomainError
from taskapi.lists.models import public_list
from taskapi.tables.lists import LISTS, TRASHED_LISTS
from taskapi.tasks.answers import JSON, explain_absence
from taskapi.tasks.etags import PRIVATE, etag
from taskapi.tasks.models import to_json

_WHOSE = sa.union_all(
    sa.select(LISTS.c.user_id, sa.literal(False).label("trashed"), LISTS.c.version).where(
        LISTS.c.id == sa.bindparam("list_id", type_=sa.Uuid)
    ),
    sa.select(TRASHED_LISTS.c.user_id, sa.literal(True).label("trashed"), TRASHED_LISTS.c.version).where(
        TRASHED_LISTS.c.id == sa.bindparam("list_id", type_=sa.Uuid)
    ),
)


def list_response(row, status: int = 200, headers: dict | None = None) -> Response:
    headers = {"ETag": etag(row["id"], row["version"]), **PRIVATE, **(headers or {})}
    return Response(to_json(public_list(row)), status_code=status, media_type=JSON, headers=headers)


async def whose(session: Work, list_id: uuid.UUID):
    """(owner, deleted?, version) of a list, live or deleted; None if it is neither."""
    return await fetch_first(session, _WHOSE, {"list_id": list_id})


async def list_absent(session: Work, user_id: str, list_id: uuid.UUID) -> DomainError:
    """Why the caller's list was not found or changed (taskapi/tasks/answers.py: explain_absence)."""
    found = await whose(session, list_id)
    return explain_absence(found, user_id, list_id, "list", f"/{user_id}/lists/{list_id}/restore")


def list_quota_exceeded(quota: int) -> Conflict:
    return Conflict(
        f"You already have {quota} lists, the most an account may hold; delete one before creating another.",
        kind="list-quota-exceeded",
        extra={"limit": quota},
    )


def name_taken(name: str) -> Conflict:
    return Conflict(
        f"You already have a list named {name!r} (names are compared ignoring case); choose another name.",
        kind="list-name-taken",
    )
