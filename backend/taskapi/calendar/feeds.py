"""A user's private calendar feed: /{user_id}/calendar-feed makes (or replaces), shows and revokes it, and
/calendar/{token}.ics serves it to calendar apps, which cannot send a bearer token: the URL's token is the
credential.

The token is 32 random bytes (256 bits), shown once, when made; only its SHA-256 is stored, so a copy of the
database reveals no working URL, and a feed is found by the hash in one index lookup. What the lookup compares is
the hash of what the client sent, which the client cannot steer byte by byte; the row found is compared again in
constant time (hmac.compare_digest) before anything is served. A wrong or revoked token is a 404 that says nothing
about any user, and counts against the client's address like a refused bearer token (taskapi/http/ratelimit.py);
each token's own requests count against it as a user's do. Neither the token nor its URL is ever logged: the
request log names the operation, never the path.

Calendar apps poll every few minutes: the feed's ETag is the user's change number (every change of their tasks or
lists moves it), and the day when completed tasks are shown, so an `If-None-Match` that matches costs one index
lookup and answers 304.
"""

import asyncio
import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from connexion import request
from starlette.responses import Response

from taskapi.auth.tokens import require_owner
from taskapi.calendar.ical import calendar
from taskapi.db.statements import execute, fetch_all, fetch_first
from taskapi.errors import NotFound
from taskapi.http.ratelimit import count_against_address, count_for
from taskapi.tasks.answers import private_json
from taskapi.tasks.etags import Condition
from taskapi.tasks.recurrence import rules

TOKEN_BYTES = 32
# What a token looks like (unpadded base64url of TOKEN_BYTES); anything else is no feed, without a lookup.
TOKEN_LENGTH = 43
# A feed shows at most this many tasks (the quota's default); the soonest due first.
MOST_TASKS = 10_000

_MAKE = sa.text("""
INSERT INTO calendar_feeds AS f (user_id, token_hash, timezone, completed_days)
VALUES (:user_id, :token_hash, :timezone, :completed_days)
ON CONFLICT (user_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, timezone = EXCLUDED.timezone,
  completed_days = EXCLUDED.completed_days, created_at = now()
RETURNING timezone, completed_days, created_at
""")
_SHOW = sa.text("SELECT timezone, completed_days, created_at FROM calendar_feeds WHERE user_id = :user_id")
_REVOKE = sa.text("DELETE FROM calendar_feeds WHERE user_id = :user_id")
# The feed a token opens, with what its ETag is made of.
_OPEN = sa.text("""
SELECT f.user_id, f.token_hash, f.timezone, f.completed_days, f.created_at,
       coalesce((SELECT c.change_seq FROM task_counts AS c WHERE c.user_id = f.user_id), 0) AS head
FROM calendar_feeds AS f WHERE f.token_hash = :token_hash
""")
_TASKS = sa.text("""
SELECT t.id, t.title, t.description, t.due_at, t.remind_at, t.recurrence, t.series_start, t.tags, t.priority,
       t.completed, t.version, t.updated_at, l.name AS list_name
FROM tasks AS t LEFT JOIN task_lists AS l ON l.id = t.list_id
WHERE t.user_id = :user_id AND t.due_at IS NOT NULL
  AND (NOT t.completed OR t.completed_at >= :completed_since)
ORDER BY t.due_at, t.id
LIMIT :most
""")

_NEVER = datetime.max.replace(tzinfo=UTC)
NO_FEED = "There is no calendar feed at this address: it was revoked or replaced, or never existed."


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _feed_url(token: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/api/calendar/{token}.ics"


def _settings(row) -> dict:
    return {"timezone": row["timezone"], "completed_days": row["completed_days"], "created_at": row["created_at"]}


async def create_calendar_feed(user_id: str, user: str, body: dict | None = None) -> Response:
    require_owner(user_id, user)
    body = body or {}
    timezone = body.get("timezone", "UTC")
    rules.zone(timezone, field_name="timezone")
    token = base64.urlsafe_b64encode(secrets.token_bytes(TOKEN_BYTES)).rstrip(b"=").decode()
    params = {
        "user_id": user_id,
        "token_hash": _hash(token),
        "timezone": timezone,
        "completed_days": body.get("completed_days", 0),
    }
    async with request.state.units.statement() as work:
        row = await fetch_first(work, _MAKE, params)
    answer = private_json({"url": _feed_url(token), **_settings(row)})
    answer.status_code = 201
    answer.headers["Cache-Control"] = "no-store"  # the URL is a credential
    return answer


async def get_calendar_feed(user_id: str, user: str) -> Response:
    require_owner(user_id, user)
    async with request.state.units.statement() as work:
        row = await fetch_first(work, _SHOW, {"user_id": user_id})
    if row is None:
        return private_json({"active": False, "timezone": None, "completed_days": None, "created_at": None})
    return private_json({"active": True, **_settings(row)})


async def delete_calendar_feed(user_id: str, user: str) -> Response:
    require_owner(user_id, user)
    async with request.state.units.statement() as work:
        await execute(work, _REVOKE, {"user_id": user_id})
    return Response(status_code=204)


async def get_calendar(token: str) -> Response:
    feed, digest = None, _hash(token)
    if len(token) == TOKEN_LENGTH:
        async with request.state.units.statement() as work:
            feed = await fetch_first(work, _OPEN, {"token_hash": digest})
    if feed is None or not hmac.compare_digest(bytes(feed["token_hash"]), digest):
        count_against_address(request.scope)
        raise NotFound(NO_FEED, kind="not-found")
    count_for(request.scope, "calendar:" + digest.hex()[:32])
    today = datetime.now(UTC).date()
    made = int(feed["created_at"].timestamp())
    etag = f'"{feed["head"]}.{made}.{today.isoformat() if feed["completed_days"] else ""}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and Condition(if_none_match).matches(etag):
        return Response(status_code=304, headers=headers)
    # Completed tasks from the start of the day `completed_days` ago (UTC): the feed changes at most once a day.
    since = datetime.combine(today - timedelta(days=feed["completed_days"]), datetime.min.time(), UTC)
    since = since if feed["completed_days"] else _NEVER
    params = {"user_id": feed["user_id"], "most": MOST_TASKS, "completed_since": since}
    rows = await request.state.units.read(feed["user_id"], lambda work: fetch_all(work, _TASKS, params))
    # In a thread: a large account's first feed takes most of a second, and the worker has other requests to serve.
    body = await asyncio.to_thread(calendar, rows, feed["timezone"], request.state.settings.better_auth_url)
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)
