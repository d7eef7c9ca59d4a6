"""Recurring tasks through the API: the next occurrence appears on completion, once, in the rule's zone."""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

BERLIN = ZoneInfo("Europe/Berlin")
WEEKLY_MONDAY_BERLIN = {"rule": "FREQ=WEEKLY;BYDAY=MO", "timezone": "Europe/Berlin"}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _complete(user, task: dict, **kwargs) -> httpx.Response:
    return user.client.patch(f"/{user.id}/tasks/{task['id']}/complete", **kwargs)


def _monday_0900_berlin(weeks_from_now: int) -> datetime:
    today = datetime.now(BERLIN).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_from_now)
    return datetime(monday.year, monday.month, monday.day, 9, tzinfo=BERLIN)


def test_completing_a_weekly_task_creates_next_mondays_once(alice, db):
    first_due = _monday_0900_berlin(1)
    task = alice.create(
        "Team meeting",
        description="agenda",
        priority="high",
        tags=["work"],
        due_at=first_due.isoformat(),
        remind_at=(first_due - timedelta(minutes=15)).isoformat(),
        recurrence=WEEKLY_MONDAY_BERLIN,
    )
    assert task["recurrence"] == WEEKLY_MONDAY_BERLIN and task["next_occurrence_id"] is None
    done = _complete(alice, task, json={"completed": True}).json()
    assert done["completed"] is True and done["next_occurrence_id"]
    following = alice.client.get(f"/{alice.id}/tasks/{done['next_occurrence_id']}").json()
    due = _at(following["due_at"]).astimezone(BERLIN)
    assert (due.weekday(), due.hour, due.minute) == (0, 9, 0)
    assert due.date() == (first_due + timedelta(weeks=1)).date()
    assert _at(following["due_at"]) - _at(following["remind_at"]) == timedelta(minutes=15)
    copied = ("title", "description", "priority", "tags", "recurrence")
    assert {name: following[name] for name in copied} == {name: task[name] for name in copied}
    assert following["completed"] is False and following["next_occurrence_id"] is None

    # Completing again, reopening and completing, and PUT completed: the same single next occurrence.
    assert _complete(alice, task, json={"completed": True}).json()["next_occurrence_id"] == following["id"]
    reopened = _complete(alice, task).json()
    assert reopened["completed"] is False and reopened["next_occurrence_id"] == following["id"]
    redone = alice.client.put(f"/{alice.id}/tasks/{task['id']}", json={"completed": True}).json()
    assert redone["next_occurrence_id"] == following["id"]
    (count,) = db.execute("SELECT count(*) FROM tasks WHERE user_id = %s", (alice.id,)).fetchone()
    assert count == 2


def test_completing_an_overdue_task_skips_occurrences_already_past(alice):
    three_weeks_ago = _monday_0900_berlin(-3)
    task = alice.create("late", due_at=three_weeks_ago.isoformat(), recurrence=WEEKLY_MONDAY_BERLIN)
    done = _complete(alice, task).json()
    following = alice.client.get(f"/{alice.id}/tasks/{done['next_occurrence_id']}").json()
    due = _at(following["due_at"])
    assert datetime.now(UTC) < due <= datetime.now(UTC) + timedelta(weeks=1)
    assert due.astimezone(BERLIN).hour == 9


def test_daily_at_nine_stays_nine_across_daylight_saving(alice):
    # Berlin leaves summer time on 2026-10-25: 09:00 is 07:00 UTC before and 08:00 UTC after.
    task = alice.create(
        "daily", due_at="2026-10-24T07:00:00Z", recurrence={"rule": "FREQ=DAILY", "timezone": "Europe/Berlin"}
    )
    assert task["due_at"] == "2026-10-24T07:00:00Z"
    # Move it forward in time without changing the series: it was anchored at 2026-10-24 09:00 Berlin.
    later = alice.client.put(f"/{alice.id}/tasks/{task['id']}", json={"due_at": "2099-10-24T07:00:00Z"}).json()
    nxt = alice.client.get(f"/{alice.id}/tasks/{_complete(alice, later).json()['next_occurrence_id']}").json()
    assert nxt["due_at"] == "2099-10-25T08:00:00Z"


def test_count_ends_the_series(alice):
    task = alice.create("twice", due_at="2099-01-01T10:00:00Z", recurrence={"rule": "FREQ=DAILY;COUNT=2"})
    second = alice.client.get(f"/{alice.id}/tasks/{_complete(alice, task).json()['next_occurrence_id']}").json()
    assert second["due_at"] == "2099-01-02T10:00:00Z"
    assert _complete(alice, second).json()["next_occurrence_id"] is None


def test_sending_the_rule_back_unchanged_keeps_the_series_and_its_count(alice):
    """What an editor sends when the person changed the title only: the series goes on, and COUNT still ends it."""
    task = alice.create("twice", due_at="2099-01-01T10:00:00Z", recurrence={"rule": "FREQ=DAILY;COUNT=2"})
    second = alice.client.get(f"/{alice.id}/tasks/{_complete(alice, task).json()['next_occurrence_id']}").json()
    unchanged = {"title": "twice, renamed", "due_at": second["due_at"], "recurrence": second["recurrence"]}
    edited = alice.client.put(f"/{alice.id}/tasks/{second['id']}", json=unchanged)
    assert edited.status_code == 200, edited.text
    assert _complete(alice, edited.json()).json()["next_occurrence_id"] is None, "a third occurrence of two"


def test_ten_concurrent_completions_make_one_next_occurrence(alice, server, db):
    task = alice.create("busy", due_at="2099-06-01T10:00:00Z", recurrence={"rule": "FREQ=MONTHLY"})

    async def complete_all() -> list[httpx.Response]:
        headers = {"Authorization": f"Bearer {alice.token}"}
        async with httpx.AsyncClient(base_url=server.url + "/api", headers=headers, timeout=10) as client:
            path = f"/{alice.id}/tasks/{task['id']}/complete"
            return await asyncio.gather(*(client.patch(path, json={"completed": True}) for _ in range(10)))

    responses = asyncio.run(complete_all())
    assert [response.status_code for response in responses] == [200] * 10
    assert len({response.json()["next_occurrence_id"] for response in responses}) == 1
    rows = db.execute("SELECT due_at FROM tasks WHERE user_id = %s AND id <> %s", (alice.id, task["id"])).fetchall()
    assert rows == [(datetime(2099, 7, 1, 10, tzinfo=UTC),)]


def test_reopening_or_deleting_an_occurrence_touches_it_only(alice):
    task = alice.create("weekly", due_at="2099-01-05T09:00:00Z", recurrence={"rule": "FREQ=WEEKLY"})
    following_id = _complete(alice, task).json()["next_occurrence_id"]
    assert alice.client.delete(f"/{alice.id}/tasks/{following_id}").status_code == 204
    assert alice.client.get(f"/{alice.id}/tasks/{task['id']}").json()["completed"] is True
    assert _complete(alice, task).json()["completed"] is False
    assert alice.client.get(f"/{alice.id}/tasks", params={"status": "all"}).json()["items"][0]["id"] == task["id"]


def test_put_starts_changes_and_ends_a_series(alice):
    task = alice.create("one-off", due_at="2099-03-31T12:00:00Z")
    path = f"/{alice.id}/tasks/{task['id']}"
    monthly = alice.client.put(path, json={"recurrence": {"rule": "freq=monthly;bymonthday=31"}}).json()
    assert monthly["recurrence"] == {"rule": "FREQ=MONTHLY;BYMONTHDAY=31", "timezone": "UTC"}
    nxt = alice.client.get(f"/{alice.id}/tasks/{_complete(alice, monthly).json()['next_occurrence_id']}").json()
    assert nxt["due_at"] == "2099-05-31T12:00:00Z", "April has no 31st: skipped"
    ended = alice.client.put(f"/{alice.id}/tasks/{nxt['id']}", json={"recurrence": None}).json()
    assert ended["recurrence"] is None
    assert _complete(alice, ended).json()["next_occurrence_id"] is None


@pytest.mark.parametrize(
    ("recurrence", "field", "words"),
    [
        ({"rule": "FREQ=HOURLY"}, "recurrence.rule", "FREQ=HOURLY is not supported"),
        ({"rule": "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO"}, "recurrence.rule", "BYSETPOS is not supported"),
        ({"rule": "FREQ=DAILY;BYHOUR=9"}, "recurrence.rule", "BYHOUR is not supported"),
        ({"rule": "FREQ=WEEKLY;WKST=SU"}, "recurrence.rule", "WKST is not supported"),
        ({"rule": "INTERVAL=2"}, "recurrence.rule", "FREQ is required"),
        ({"rule": "FREQ=DAILY;INTERVAL=0"}, "recurrence.rule", "INTERVAL=0 is out of range"),
        ({"rule": "FREQ=WEEKLY;BYDAY=XX"}, "recurrence.rule", "BYDAY=XX is not valid"),
        ({"rule": "FREQ=WEEKLY;BYDAY=2MO"}, "recurrence.rule", "numbered weekday"),
        ({"rule": "FREQ=MONTHLY;BYMONTHDAY=32"}, "recurrence.rule", "BYMONTHDAY=32 is out of range"),
        ({"rule": "FREQ=YEARLY;BYMONTH=13"}, "recurrence.rule", "BYMONTH=13 is out of range"),
        ({"rule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "recurrence.rule", "never recur"),
        ({"rule": "FREQ=DAILY;COUNT=3;UNTIL=20991231"}, "recurrence.rule", "COUNT and UNTIL"),
        ({"rule": "FREQ=DAILY;UNTIL=2099-12-31"}, "recurrence.rule", "UNTIL=2099-12-31 is not valid"),
        ({"rule": "FREQ=DAILY;UNTIL=20990230"}, "recurrence.rule", "not a real date"),
        ({"rule": "FREQ=DAILY;COUNT=1;COUNT=2"}, "recurrence.rule", "COUNT is given twice"),
        ({"rule": "FREQ=DAILY;X-NAME=1"}, "recurrence.rule", "X-NAME is not an RRULE part"),
        ({"rule": "FREQ"}, "recurrence.rule", "not a NAME=VALUE part"),
        ({"rule": "FREQ=DAILY", "timezone": "Mars/Base"}, "recurrence.timezone", "unknown time zone Mars/Base"),
        ({"rule": "FREQ=DAILY", "timezone": "../../etc/passwd"}, "recurrence.timezone", "unknown time zone"),
    ],
)
def test_bad_rules_and_zones_are_refused_naming_the_part(alice, recurrence, field, words):
    body = {"title": "t", "due_at": "2099-01-01T00:00:00Z", "recurrence": recurrence}
    response = alice.client.post(f"/{alice.id}/tasks", json=body)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert [error["field"] for error in problem["errors"]] == [field]
    assert words in problem["errors"][0]["message"]


def test_a_recurrence_needs_a_due_date(alice):
    response = alice.client.post(f"/{alice.id}/tasks", json={"title": "t", "recurrence": {"rule": "FREQ=DAILY"}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "due_at"
    task = alice.create("t", due_at="2099-01-01T00:00:00Z", recurrence={"rule": "FREQ=DAILY"})
    cleared = alice.client.put(f"/{alice.id}/tasks/{task['id']}", json={"due_at": None})
    assert cleared.status_code == 400
    assert cleared.json()["errors"][0]["field"] == "due_at"
    undated = alice.create("undated")
    added = alice.client.put(f"/{alice.id}/tasks/{undated['id']}", json={"recurrence": {"rule": "FREQ=DAILY"}})
    assert added.status_code == 400
    assert alice.client.get(f"/{alice.id}/tasks/{task['id']}").json()["due_at"] == "2099-01-01T00:00:00Z"


DAILY = {"rule": "FREQ=DAILY", "timezone": "UTC"}


def _next_due(user, done: dict) -> datetime:
    assert done["next_occurrence_id"], done
    return _at(user.client.get(f"/{user.id}/tasks/{done['next_occurrence_id']}").json()["due_at"])


@pytest.mark.parametrize("make_recurring_with", ["put", "create"])
def test_a_completion_that_starts_a_series_continues_it(alice, make_recurring_with):
    """Issue 18, item 6: PUT completed + recurrence on a task that did not recur used to take the one-statement
    path (guarded on the old row's recurrence) and never start the series."""
    due = datetime(2031, 3, 4, 9, tzinfo=UTC)
    body = {"completed": True, "due_at": due.isoformat(), "recurrence": DAILY}
    if make_recurring_with == "put":
        task = alice.create("Water the plants")
        done = alice.client.put(f"/{alice.id}/tasks/{task['id']}", json=body).json()
    else:
        done = alice.create("Water the plants", **body)
    assert done["completed"] is True and done["recurrence"] == DAILY
    assert _next_due(alice, done) == due + timedelta(days=1)


def test_every_mix_of_completion_with_recurrence_and_due_changes(alice):
    due = datetime(2031, 3, 4, 9, tzinfo=UTC)
    later = due + timedelta(days=10)

    recurring = alice.create("Daily", due_at=due.isoformat(), recurrence=DAILY)
    moved = alice.client.put(
        f"/{alice.id}/tasks/{recurring['id']}", json={"completed": True, "due_at": later.isoformat()}
    )
    assert _next_due(alice, moved.json()) == later + timedelta(days=1)

    recurring = alice.create("Daily", due_at=due.isoformat(), recurrence=DAILY)
    ended = alice.client.put(f"/{alice.id}/tasks/{recurring['id']}", json={"completed": True, "recurrence": None})
    assert ended.json()["completed"] is True and ended.json()["next_occurrence_id"] is None

    dated = alice.create("Dated", due_at=due.isoformat())
    started = alice.client.put(f"/{alice.id}/tasks/{dated['id']}", json={"completed": True, "recurrence": DAILY})
    assert _next_due(alice, started.json()) == due + timedelta(days=1)

    weekly = {"rule": "FREQ=WEEKLY", "timezone": "UTC"}
    recurring = alice.create("Daily", due_at=due.isoformat(), recurrence=DAILY)
    changed = alice.client.put(f"/{alice.id}/tasks/{recurring['id']}", json={"completed": True, "recurrence": weekly})
    assert _next_due(alice, changed.json()) == due + timedelta(weeks=1)

    plain = alice.create("Plain")
    assert alice.client.put(f"/{alice.id}/tasks/{plain['id']}", json={"completed": True}).json()["completed"] is True


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=5MO",  # a fifth Monday is never the 1st
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;INTERVAL=4",  # Feb 29 on a Monday, every 4th year from 2031
        "FREQ=MONTHLY;BYMONTH=2;BYDAY=5SU;BYMONTHDAY=1",  # Feb 1 is never a fifth Sunday
    ],
)
def test_a_rule_without_an_occurrence_within_ten_years_is_refused_at_create_and_edit(alice, rule):
    """Issue 18, item 7: such a rule used to be accepted, and each completion then expanded it to year 9999 on
    the event loop (about a second, with the task's and the user's rows locked)."""
    due = "2031-03-03T09:00:00Z"
    body = {"title": "t", "due_at": due, "recurrence": {"rule": rule}}
    created = alice.client.post(f"/{alice.id}/tasks", json=body)
    assert created.status_code == 400, created.text
    assert created.json()["errors"][0]["field"] == "recurrence.rule"
    assert "10 years" in created.json()["errors"][0]["message"]

    task = alice.create("t", due_at=due)
    edited = alice.client.put(f"/{alice.id}/tasks/{task['id']}", json={"recurrence": {"rule": rule}})
    assert edited.status_code == 400, edited.text
    assert edited.json()["errors"][0]["field"] == "recurrence.rule"
    assert alice.client.get(f"/{alice.id}/tasks/{task['id']}").json()["recurrence"] is None, "nothing was changed"


def test_a_series_whose_rule_runs_dry_completes_fast_and_ends(alice, db):
    """A rule stored before the check (or one whose gaps grow past the horizon) never costs a completion more
    than the bounded expansion."""
    task = alice.create("t", due_at="2031-03-03T09:00:00Z", recurrence=DAILY)
    db.execute(
        "UPDATE tasks SET recurrence = %s WHERE id = %s",
        ('{"rule": "FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=5MO", "timezone": "UTC"}', task["id"]),
    )
    started = time.monotonic()
    for _ in range(6):  # three completions
        done = _complete(alice, task).json()
    assert time.monotonic() - started < 1, "each completion used to expand the rule for half a second or more"
    assert done["completed"] is False and done["next_occurrence_id"] is None
