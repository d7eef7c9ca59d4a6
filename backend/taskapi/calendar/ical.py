"""A user's tasks as an iCalendar feed (RFC 5545), written with the icalendar library.

Each task with a due date is an event: all-day (a DATE) when it is due at midnight in its zone, else at its time,
with no duration (RFC 5545 §3.6.1: it ends when it starts). Its zone is its recurrence's, or the feed's. A
recurring task carries its rule from its series' first occurrence, so the calendar shows the whole series as the
API computes it; its reminder is an alarm relative to each occurrence. The list and the tags are categories, the
priority is iCalendar's (1 high, 5 medium, 9 low), and the event links back to the app. Completed tasks (when the
feed shows them) are single events marked ✓ in their title, without rule or alarm.

Calendar apps fetch the whole feed again whenever anything in it changed, so each worker keeps the events it
wrote, by task version (and what else an event shows: its list's name, the feed's zone), and writes again only
the events that changed; a zone's VTIMEZONE is written once per worker. The handler writes a feed in a thread
(a large account's first feed takes most of a second), so the kept events are shared under a lock.
"""

import functools
import threading
from collections import OrderedDict
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone, vRecur

PRODUCT = "-//Task API//Calendar feed//EN"
_PRIORITY = {"high": 1, "medium": 5, "low": 9}
# Events kept per worker: a few 5,000-task feeds (each event some 300 bytes).
EVENTS_KEPT = 20_000
# VTIMEZONE rules from this day on: calendar apps need the rules of the days they show, not of 1970.
_ZONE_RULES_SINCE = date(2020, 1, 1)


def calendar(rows: list[dict], zone_name: str, app_url: str | None) -> bytes:
    feed = Calendar()
    feed.add("prodid", PRODUCT)
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", "Tasks")
    feed.add("x-wr-timezone", zone_name)
    feed.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    feed.add("x-published-ttl", "PT15M")
    head, end = feed.to_ical().rsplit(b"END:VCALENDAR", 1)
    zones = {zone_name} | {row["recurrence"]["timezone"] for row in rows if row["recurrence"] and not row["completed"]}
    parts = [head, *(_timezone(name) for name in sorted(zones))]
    parts += [_EVENTS.get(row, zone_name, app_url) for row in rows]
    return b"".join([*parts, b"END:VCALENDAR", end])


@functools.cache
def _timezone(name: str) -> bytes:
    until = date.today().replace(month=1, day=1) + timedelta(days=20 * 366)
    return Timezone.from_tzid(name, first_date=_ZONE_RULES_SINCE, last_date=until).to_ical()


class _Events:
    """The events this worker wrote, least recently used dropped first."""

    def __init__(self, most: int) -> None:
        self._kept: OrderedDict[tuple, bytes] = OrderedDict()
        self._most = most
        self._lock = threading.Lock()

    def get(self, row: dict, zone_name: str, app_url: str | None) -> bytes:
        key = (row["id"], row["version"], row["updated_at"], row["list_name"], zone_name, app_url)
        with self._lock:
            written = self._kept.get(key)
            if written is not None:
                self._kept.move_to_end(key)
                return written
        written = _event(row, ZoneInfo(zone_name), app_url).to_ical()  # outside the lock: other feeds go on
        with self._lock:
            self._kept[key] = written
            if len(self._kept) > self._most:
                self._kept.popitem(last=False)
        return written


_EVENTS = _Events(EVENTS_KEPT)


def _event(row: dict, feed_zone: ZoneInfo, app_url: str | None) -> Event:
    recurrence = row["recurrence"] if not row["completed"] else None
    zone = ZoneInfo(recurrence["timezone"]) if recurrence else feed_zone
    event = Event()
    event.add("uid", f"{row['id']}@taskapi")
    event.add("dtstamp", row["updated_at"])
    event.add("summary", f"✓ {row['title']}" if row["completed"] else row["title"])
    if row["description"]:
        event.add("description", row["description"])
    start = (row["series_start"] if recurrence and row["series_start"] else row["due_at"]).astimezone(zone)
    event.add("dtstart", start.date() if start.time() == time(0) else start)
    if recurrence:
        event.add("rrule", vRecur.from_ical(recurrence["rule"].strip().upper().removeprefix("RRULE:")))
    categories = [row["list_name"]] if row["list_name"] else []
    if categories or row["tags"]:
        event.add("categories", [*categories, *row["tags"]])
    event.add("priority", _PRIORITY[row["priority"]])
    event.add("transp", "TRANSPARENT")  # a task does not make its user busy
    if app_url:
        event.add("url", f"{app_url.rstrip('/')}/#task-{row['id']}")
    if row["remind_at"] and not row["completed"]:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", row["title"])
        alarm.add("trigger", row["remind_at"] - row["due_at"])
        event.add_component(alarm)
    return event
