"""Reminders (field, filters) and the summary's counts, checked against the tasks a user really has."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_reminders_are_stored_in_utc_and_filtered(alice):
    early = alice.create("early", remind_at="2026-12-01T10:00:00+01:00")
    assert early["remind_at"] == "2026-12-01T09:00:00Z"
    late = alice.create("late", remind_at="2026-12-02T09:00:00Z")
    alice.create("none")

    def listed(**params) -> list[str]:
        return [task["id"] for task in alice.client.get(f"/{alice.id}/tasks", params=params).json()["items"]]

    assert listed(remind_before="2026-12-02T09:00:00Z") == [early["id"]]
    assert listed(remind_after="2026-12-01T09:00:01Z") == [late["id"]]
    assert listed(remind_after="2026-12-01T00:00:00Z", remind_before="2026-12-03T00:00:00Z", sort="remind") == [
        early["id"],
        late["id"],
    ]
    assert listed(sort="-remind")[:2] == [late["id"], early["id"]]
    assert alice.client.put(f"/{alice.id}/tasks/{early['id']}", json={"remind_at": None}).json()["remind_at"] is None


def test_bad_reminders_are_refused(alice):
    assert alice.client.post(f"/{alice.id}/tasks", json={"title": "t", "remind_at": "soon"}).status_code == 400
    out_of_range = alice.client.post(f"/{alice.id}/tasks", json={"title": "t", "remind_at": "9999-12-31T23:00:00Z"})
    assert out_of_range.status_code == 422
    assert alice.client.get(f"/{alice.id}/tasks", params={"remind_after": "soon"}).status_code == 400


def test_summary_adds_up(alice, bob):
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime.now(berlin)
    start_of_today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    # Due earlier today in Berlin (so overdue and due today), later today, yesterday, next week, and undated.
    earlier_today = start_of_today + (now - start_of_today) / 2
    later_today = now + (start_of_today + timedelta(days=1) - now) / 2
    alice.create("earlier today", due_at=_iso(earlier_today), priority="high")
    alice.create("later today", due_at=_iso(later_today), priority="low")
    alice.create("yesterday", due_at=_iso(start_of_today - timedelta(hours=1)))
    alice.create("next week", due_at=_iso(now + timedelta(days=7)))
    alice.create("undated")
    alice.create("done, due today", completed=True, due_at=_iso(earlier_today))
    done_later = alice.create("done later")
    alice.client.patch(f"/{alice.id}/tasks/{done_later['id']}/complete")
    bob.create("bob's", due_at=_iso(earlier_today))

    response = alice.client.get(f"/{alice.id}/summary", params={"timezone": "Europe/Berlin"})
    assert response.status_code == 200
    assert response.json() == {
        "total": 7,
        "open": 5,
        "completed": 2,
        "overdue": 2,
        "due_today": 2,
        "by_priority": {"low": 1, "medium": 3, "high": 1},
    }
    # Reopening and deleting keep the counts true.
    alice.client.patch(f"/{alice.id}/tasks/{done_later['id']}/complete")
    alice.client.delete(f"/{alice.id}/tasks/{done_later['id']}")
    summary = alice.client.get(f"/{alice.id}/summary").json()
    assert (summary["total"], summary["open"], summary["completed"]) == (6, 5, 1)


def test_summary_of_a_new_user_and_bad_zones(alice, bob):
    assert alice.client.get(f"/{alice.id}/summary").json() == {
        "total": 0,
        "open": 0,
        "completed": 0,
        "overdue": 0,
        "due_today": 0,
        "by_priority": {"low": 0, "medium": 0, "high": 0},
    }
    response = alice.client.get(f"/{alice.id}/summary", params={"timezone": "Mars/Base"})
    assert response.status_code == 400
    assert response.json()["errors"] == [{"in": "query", "field": "timezone", "message": "unknown time zone Mars/Base"}]
    assert bob.client.get(f"/{alice.id}/summary").status_code == 403
