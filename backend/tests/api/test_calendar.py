"""The private calendar feed (issue 31): made, shown, replaced and revoked by its user; served to calendar apps by
its URL's token alone; read back with the icalendar library and with vobject, a parser of its own."""

import itertools
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
import vobject

from tests.conftest import User
from tests.support.live_server import LiveServer

PARIS = ZoneInfo("Europe/Paris")


def days_ahead(days: int, hour: int = 0, minute: int = 0, zone: ZoneInfo = PARIS) -> datetime:
    """A wall time `days` from today in `zone`: dates relative to now, never the day the test was written."""
    day = datetime.now(zone).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def make_feed(user: User, **settings) -> str:
    made = user.client.post(f"/{user.id}/calendar-feed", json=settings)
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    return made.json()["url"]


def fetch(url: str, **headers) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=10)


def events(body: bytes) -> dict[str, icalendar.Event]:
    parsed = icalendar.Calendar.from_ical(body)
    return {str(event["summary"]): event for event in parsed.walk("VEVENT")}


def test_a_users_dated_tasks_are_events_that_two_parsers_read_alike(alice, bob):
    errands = alice.client.post(f"/{alice.id}/lists", json={"name": "Errands"}).json()
    timed = alice.create(
        "Dentist",
        due_at=days_ahead(3, 14, 30).isoformat(),
        remind_at=days_ahead(3, 14, 0).isoformat(),
        tags=["health"],
        list_id=errands["id"],
        priority="high",
    )
    alice.create("Bin day", due_at=days_ahead(2).isoformat())  # midnight in Paris: all day
    weekly = alice.create(
        "Call mum",
        due_at=days_ahead(1, 17).isoformat(),
        recurrence={"rule": "FREQ=WEEKLY", "timezone": "America/New_York"},
    )
    alice.create("Someday, no date")
    done = alice.create("Already done", due_at=days_ahead(-1, 9).isoformat())
    alice.client.patch(f"/{alice.id}/tasks/{done['id']}/complete", json={"completed": True})
    bob.create("Bob's secret", due_at=days_ahead(1, 9).isoformat())

    url = make_feed(alice, timezone="Europe/Paris")
    assert "/api/calendar/" in url and url.endswith(".ics")
    answer = fetch(url)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    found = events(answer.content)
    assert set(found) == {"Dentist", "Bin day", "Call mum"}

    dentist = found["Dentist"]
    assert dentist["uid"] == f"{timed['id']}@taskapi"
    assert dentist.decoded("dtstart") == days_ahead(3, 14, 30)
    assert dentist["dtstart"].params["TZID"] == "Europe/Paris"
    assert [str(name) for name in dentist.get("categories").cats] == ["Errands", "health"]
    assert dentist["priority"] == 1
    (alarm,) = dentist.walk("VALARM")
    assert alarm.decoded("trigger") == timedelta(minutes=-30)
    assert found["Bin day"].decoded("dtstart") == days_ahead(2).date()
    call = found["Call mum"]
    assert call["rrule"]["FREQ"] == ["WEEKLY"]
    assert call["dtstart"].params["TZID"] == "America/New_York"
    assert call.decoded("dtstart") == datetime.fromisoformat(weekly["due_at"]).astimezone(ZoneInfo("America/New_York"))

    # An independent parser reads the same events, and expands the rule from the time zone it was given.
    other = vobject.readOne(answer.text)
    by_summary = {event.summary.value: event for event in other.vevent_list}
    assert set(by_summary) == {"Dentist", "Bin day", "Call mum"}
    assert by_summary["Dentist"].dtstart.value == days_ahead(3, 14, 30)
    assert by_summary["Bin day"].dtstart.value == days_ahead(2).date()
    occurrences = list(by_summary["Call mum"].getrruleset())[:3]
    assert [later - earlier for earlier, later in itertools.pairwise(occurrences)] == [timedelta(days=7)] * 2
    new_york = ZoneInfo("America/New_York")
    assert len({moment.astimezone(new_york).time() for moment in occurrences}) == 1  # the same wall time each week
    assert "Bob's secret" not in answer.text


def test_completed_tasks_of_the_last_days_are_shown_when_asked(alice):
    done = alice.create("Filed taxes", due_at=days_ahead(-2, 9).isoformat())
    alice.client.patch(f"/{alice.id}/tasks/{done['id']}/complete", json={"completed": True})
    found = events(fetch(make_feed(alice, completed_days=7)).content)
    assert set(found) == {"✓ Filed taxes"}
    assert not found["✓ Filed taxes"].walk("VALARM")
    state = alice.client.get(f"/{alice.id}/calendar-feed").json()
    assert state["active"] is True and state["completed_days"] == 7 and state["timezone"] == "UTC"


def test_polling_costs_a_304_until_something_changes(alice):
    task = alice.create("Water plants", due_at=days_ahead(1, 8).isoformat())
    url = make_feed(alice)
    first = fetch(url)
    etag = first.headers["etag"]
    unchanged = fetch(url, **{"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    alice.client.put(f"/{alice.id}/tasks/{task['id']}", json={"title": "Water the plants"})
    changed = fetch(url, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert set(events(changed.content)) == {"Water the plants"}


def test_a_revoked_replaced_or_wrong_token_is_a_404_that_reveals_nothing(alice):
    alice.create("Private", due_at=days_ahead(1, 8).isoformat())
    old = make_feed(alice)
    new = make_feed(alice)
    assert fetch(old).status_code == 404
    assert fetch(new).status_code == 200
    wrong = new.rsplit("/", 1)[0] + "/" + "A" * 43 + ".ics"
    answers = [fetch(url) for url in (old, wrong, new.rsplit("/", 1)[0] + "/short.ics")]
    assert {answer.status_code for answer in answers} == {404}
    assert len({answer.json()["detail"] for answer in answers}) == 1
    assert all("Private" not in answer.text and alice.id not in answer.text for answer in answers)
    assert alice.client.delete(f"/{alice.id}/calendar-feed").status_code == 204
    assert fetch(new).status_code == 404
    assert alice.client.get(f"/{alice.id}/calendar-feed").json() == {
        "active": False,
        "timezone": None,
        "completed_days": None,
        "created_at": None,
    }
    assert alice.client.delete(f"/{alice.id}/calendar-feed").status_code == 204


def test_only_its_owner_manages_a_feed_and_bad_settings_are_400s(alice, bob):
    assert bob.client.post(f"/{alice.id}/calendar-feed", json={}).status_code == 403
    assert bob.client.get(f"/{alice.id}/calendar-feed").status_code == 403
    zone = alice.client.post(f"/{alice.id}/calendar-feed", json={"timezone": "Mars/Olympus"})
    assert zone.status_code == 400 and "timezone" in zone.text
    assert alice.client.post(f"/{alice.id}/calendar-feed", json={"completed_days": 91}).status_code == 400
    assert alice.client.post(f"/{alice.id}/calendar-feed", json={"colour": "red"}).status_code == 400


def test_wrong_tokens_count_against_the_address_and_the_token_is_never_logged(make_settings, issuer, caplog):
    settings = make_settings(rate_limit_unauthenticated_per_minute=60, rate_limit_unauthenticated_burst=5)
    with LiveServer(settings) as server, caplog.at_level(logging.INFO):
        user = User(server, issuer)
        url = make_feed(user)
        token = url.rsplit("/", 1)[1].removesuffix(".ics")
        assert fetch(url).status_code == 200
        statuses = [fetch(url.replace(token, f"{n:043d}")).status_code for n in range(8)]
        assert statuses[:5] == [404] * 5 and 429 in statuses
        user.client.close()
    # The service's own log lines (the test's HTTP client logs the URLs it fetches itself).
    assert not [
        record for record in caplog.records if not record.name.startswith("httpx") and token in record.getMessage()
    ]
    assert any(record.name == "taskapi.request" for record in caplog.records)


@pytest.mark.parametrize("path", ["/calendar/.ics", "/calendar/x"])
def test_feed_paths_without_a_token_are_a_problem_404(server, path):
    answer = httpx.get(server.url + "/api" + path)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_a_feed_is_never_cached_by_a_shared_cache(alice):
    alice.create("Soon", due_at=days_ahead(1).isoformat())
    answer = fetch(make_feed(alice))
    assert answer.headers["cache-control"] == "private, no-cache"
