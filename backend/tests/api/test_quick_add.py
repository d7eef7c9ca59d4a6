"""POST /{user_id}/tasks/quick over HTTP (issue 31): a task made from plain words, or only parsed; what it cannot
read stays in the title; hostile text is a 400 or a plain title, never a 500 nor a slow answer."""

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def quick(user, text: str, **params):
    return user.client.post(f"/{user.id}/tasks/quick", json={"text": text, "timezone": "Europe/Paris"}, params=params)


def tomorrow_at(hour: int) -> datetime:
    day = datetime.now(PARIS).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


def test_a_task_is_made_from_plain_words_with_what_was_recognised(alice):
    family = alice.client.post(f"/{alice.id}/lists", json={"name": "Family"}).json()
    text = "call mum tomorrow 5pm #family #phone every week !high"
    made = quick(alice, text)
    assert made.status_code == 201, made.text
    body = made.json()
    task = body["task"]
    assert made.headers["location"] == f"/api/{alice.id}/tasks/{task['id']}"
    assert made.headers["etag"]
    assert task["title"] == "call mum"
    assert datetime.fromisoformat(task["due_at"]) == tomorrow_at(17)
    assert task["recurrence"] == {"rule": "FREQ=WEEKLY", "timezone": "Europe/Paris"}
    assert task["list_id"] == family["id"] and task["tags"] == ["phone"] and task["priority"] == "high"
    assert [(span["kind"], text[span["start"] : span["end"]]) for span in body["spans"]] == [
        ("due", "tomorrow 5pm"),
        ("list", "#family"),
        ("tag", "#phone"),
        ("recurrence", "every week"),
        ("priority", "!high"),
    ]
    assert body["spans"][1]["value"] == {"id": family["id"], "name": "Family"}
    assert body["parsed"]["list_id"] == family["id"]
    assert alice.client.get(f"/{alice.id}/tasks/{task['id']}").json() == task


def test_a_dry_run_parses_and_makes_nothing(alice):
    answer = quick(alice, "dentist tomorrow 9am", dry_run="true")
    assert answer.status_code == 200
    body = answer.json()
    assert body["task"] is None
    assert body["parsed"]["title"] == "dentist"
    assert datetime.fromisoformat(body["parsed"]["due_at"]) == tomorrow_at(9)
    assert alice.client.get(f"/{alice.id}/tasks").json()["items"] == []


def test_words_it_cannot_read_stay_in_the_title(alice):
    for text in ("buy 2 apples", "may I borrow a pen", "call the 5th avenue store", "!!! ###", "every"):
        answer = quick(alice, text, dry_run="true")
        assert answer.status_code == 200, text
        assert answer.json()["parsed"]["title"] == text
        assert answer.json()["spans"] == []


def test_hostile_text_is_a_400_or_a_plain_title_never_a_500_nor_slow(alice):
    too_long = quick(alice, "x" * 10_000)
    assert too_long.status_code == 400 and "text" in too_long.text
    for text in ("!@#$%^&*()" * 100, "12/99 " * 166, "every " * 166, "monday at on " * 70, "\u202e\u0000\ufffd" * 300):
        started = time.monotonic()
        answer = quick(alice, text[:1000], dry_run="true")
        assert answer.status_code in (200, 400), answer.text
        if answer.status_code == 400:
            assert answer.json()["errors"][0]["field"] == "text"
        assert time.monotonic() - started < 5  # a guard against a runaway parse, not a speed target
    for control in ("call\u0000mum", "call\nmum", "\u007f"):
        refused = quick(alice, control)
        assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "text", control
    nothing_left = quick(alice, "tomorrow 5pm !high")
    assert nothing_left.status_code == 400 and "title" in nothing_left.json()["errors"][0]["message"]


def test_bad_requests_are_400s_and_only_the_owner_may_add(alice, bob):
    zone = alice.client.post(f"/{alice.id}/tasks/quick", json={"text": "x", "timezone": "Mars/Olympus"})
    assert zone.status_code == 400 and zone.json()["errors"][0]["field"] == "timezone"
    assert alice.client.post(f"/{alice.id}/tasks/quick", json={"text": ""}).status_code == 400
    assert alice.client.post(f"/{alice.id}/tasks/quick", json={}).status_code == 400
    assert bob.client.post(f"/{alice.id}/tasks/quick", json={"text": "steal"}).status_code == 403


def test_a_retried_quick_add_with_an_idempotency_key_makes_one_task(alice):
    headers = {"Idempotency-Key": "quick-1"}
    body = {"text": "pay rent every month on the 1st", "timezone": "Europe/Paris"}
    first = alice.client.post(f"/{alice.id}/tasks/quick", json=body, headers=headers)
    again = alice.client.post(f"/{alice.id}/tasks/quick", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["task"]["id"] == again.json()["task"]["id"]
    assert len(alice.client.get(f"/{alice.id}/tasks").json()["items"]) == 1


def test_other_methods_on_the_quick_add_path_are_405s_not_task_ids(alice):
    refused = alice.client.put(f"/{alice.id}/tasks/quick", json={"text": "x"})
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"


def test_the_list_given_holds_the_task_unless_the_words_name_one(alice, bob):
    errands = alice.client.post(f"/{alice.id}/lists", json={"name": "Errands"}).json()
    work = alice.client.post(f"/{alice.id}/lists", json={"name": "Work"}).json()
    body = {"text": "buy stamps", "list_id": errands["id"]}
    assert alice.client.post(f"/{alice.id}/tasks/quick", json=body).json()["task"]["list_id"] == errands["id"]
    body = {"text": "draft memo #work", "list_id": errands["id"]}
    assert alice.client.post(f"/{alice.id}/tasks/quick", json=body).json()["task"]["list_id"] == work["id"]
    theirs = bob.client.post(f"/{bob.id}/lists", json={"name": "Bob's"}).json()
    refused = alice.client.post(f"/{alice.id}/tasks/quick", json={"text": "sneak", "list_id": theirs["id"]})
    assert refused.status_code == 400
