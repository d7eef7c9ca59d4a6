"""GET /{user_id}/events: Server-Sent Events telling a client, within a second, that its tasks changed.

An event names what changed (ids and ops); the change feed (taskapi/sync/feed.py) has the tasks themselves.
Each event's id is a feed position, so a client reconnecting with Last-Event-ID is told at once what it missed.
A stream holds no database connection: it only reads its inbox (taskapi/sync/hub.py). It ends when the token
does (the client reconnects with a fresh one), after EVENT_STREAM_MAX_SECONDS, and promptly on shutdown.
"""

import asyncio
import time
import weakref

import orjson
from connexion import request
from sse_starlette import EventSourceResponse, ServerSentEvent

from taskapi.auth.tokens import require_owner
from taskapi.db.units import Units
from taskapi.errors import DomainError
from taskapi.sync.announcements import Change, Reminder, Resync
from taskapi.sync.changes import KINDS, changes_since, position, settled_head, token
from taskapi.sync.hub import ChangeHub, Subscription
from taskapi.tasks.cursors import CursorCodec
from taskapi.tasks.etags import PRIVATE

# What the stream answers with: an intermediary must neither cache it nor buffer it (nginx reads this header).
_HEADERS = {**PRIVATE, "X-Accel-Buffering": "no"}
# Comment lines that keep proxies from closing an idle stream.
KEEPALIVE_SECONDS = 15
# A client reconnecting is told what it missed in one event, up to this many changes; beyond, to resync.
CATCH_UP_LIMIT = 500


def _changes_event(codec: CursorCodec, user_id: str, changes: list[Change]) -> ServerSentEvent:
    """One event for a batch of changes: each task or list once, with its latest op and its kind; the id is the
    last position."""
    latest = {(change.kind, change.id): change.op for change in changes}
    data = {"changes": [{"id": changed_id, "op": op, "kind": kind} for (kind, changed_id), op in latest.items()]}
    return ServerSentEvent(orjson.dumps(data).decode(), event="changes", id=token(codec, user_id, changes[-1].seq))


def _reminder_event(reminder: Reminder) -> ServerSentEvent:
    data = {"id": reminder.id, "title": reminder.title, "due_at": reminder.due_at, "remind_at": reminder.remind_at}
    return ServerSentEvent(orjson.dumps(data).decode(), event="reminder")


def _resync_event(reason: str) -> ServerSentEvent:
    return ServerSentEvent(orjson.dumps({"reason": reason}).decode(), event="resync")


async def _first_events(
    units: Units, codec: CursorCodec, user_id: str, last_event_id: str | None
) -> tuple[list[ServerSentEvent], int]:
    """What the stream starts with, and the position it has reported up to: for a client coming back with
    Last-Event-ID, what it missed (or `resync`); then `ready`, whose id is where this stream starts.

    Where the user stands is read first, once every write that has taken a number has ended, and what was missed
    after: so every change up to the starting position is among what was missed (a write that takes its number
    after that read is delivered live), never passed over."""
    events, now = [], await settled_head(units, user_id)
    if last_event_id is not None:
        try:
            since = position(codec, user_id, last_event_id, parameter="Last-Event-ID")
            missed, read_up_to, more = await changes_since(units, user_id, since, CATCH_UP_LIMIT, KINDS)
        except DomainError as problem:
            if problem.status != 410:
                raise
            events.append(_resync_event("position-expired"))
        else:
            if missed:
                missed_changes = [Change(row["seq"], str(row["changed_id"]), row["op"], row["kind"]) for row in missed]
                events.append(_changes_event(codec, user_id, missed_changes))
            if more:
                events.append(_resync_event("too-far-behind"))
            else:  # it read up to its own snapshot's head: committed since the first read, and told
                now = max(now, read_up_to)
    events.append(ServerSentEvent("{}", event="ready", id=token(codec, user_id, now)))
    return events, now


async def stream_events(user_id: str, user: str, token_info: dict) -> EventSourceResponse:
    require_owner(user_id, user)
    hub: ChangeHub = request.state.hub
    settings, codec = request.state.settings, request.state.cursors
    last_event_id = request.headers.get("last-event-id")
    # Subscribed (and the lease registered) before reading where the user stands: a change committed in between is
    # announced after its commit (the lease is seen), or counted in that position, or both, never neither.
    subscription = await hub.subscribe(user_id)
    try:
        first, reported = await _first_events(request.state.units, codec, user_id, last_event_id)
        await hub.started(user_id, reported)
    except BaseException:
        hub.unsubscribe(subscription)
        raise
    ends_at = min(token_info["exp"], time.time() + settings.event_stream_max_seconds)
    stream = _stream(hub, codec, subscription, first, reported, ends_at)
    # The stream unsubscribes when it ends; this covers one that never starts (the client left first).
    weakref.finalize(stream, hub.unsubscribe, subscription)
    return EventSourceResponse(stream, headers=_HEADERS, ping=KEEPALIVE_SECONDS)


async def _stream(
    hub: ChangeHub, codec: CursorCodec, subscription: Subscription, first: list, reported: int, ends_at: float
):
    user_id = subscription.user_id
    try:
        for event in first:
            yield event
        while (remaining := ends_at - time.time()) > 0:
            try:
                async with asyncio.timeout(remaining):
                    items = [await subscription.inbox.get(), *subscription.waiting()]
            except TimeoutError:
                return
            changes = [item for item in items if isinstance(item, Change) and item.seq > reported]
            if changes:
                reported = changes[-1].seq
                yield _changes_event(codec, user_id, changes)
            for item in items:
                if isinstance(item, Resync):
                    yield _resync_event(item.reason)
                elif isinstance(item, Reminder):
                    yield _reminder_event(item)
    finally:
        hub.unsubscribe(subscription)
