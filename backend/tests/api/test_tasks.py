"""Every operation's success path, as a client observes it and as the database records it."""

from datetime import datetime

from tests.support.live_server import LiveServer

TASK_FIELDS = {
    "id",
    "user_id",
    "title",
    "description",
    "completed",
    "completed_at",
    "priority",
    "due_at",
    "tags",
    "remind_at",
    "reminded_at",
    "recurrence",
    "next_occurrence_id",
    "list_id",
    "position",
    "parent_id",
    "subtasks",
    "created_at",
    "updated_at",
}


def _utc(timestamp: str) -> datetime:
    assert timestamp.endswith("Z"), timestamp
    return datetime.fromisoformat(timestamp)


def test_create_returns_the_task_with_location(alice, db):
    response = alice.client.post(f"/{alice.id}/tasks", json={"title": "  Buy milk  ", "description": "2 litres"})
    assert response.status_code == 201
    task = response.json()
    assert set(task) == TASK_FIELDS
    assert task["title"] == "Buy milk"
    assert task["description"] == "2 litres"
    assert task["user_id"] == alice.id
    assert task["completed"] is False and task["completed_at"] is None
    assert _utc(task["created_at"]) == _utc(task["updated_at"])
    assert response.headers["location"] == f"/api/{alice.id}/tasks/{task['id']}"
    row = db.execute("SELECT user_id, title, description FROM tasks WHERE id = %s", (task["id"],)).fetchone()
    assert row == (alice.id, "Buy milk", "2 litres")


def test_create_completed_stamps_completed_at(alice):
    task = alice.create("Already done", completed=True)
    assert task["completed"] is True
    assert _utc(task["completed_at"]) >= _utc(task["created_at"])


def test_list_returns_only_my_tasks_newest_first(alice, bob):
    first, second, third = (alice.create(f"task {n}") for n in range(3))
    bob.create("bob's")
    response = alice.client.get(f"/{alice.id}/tasks")
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert [task["id"] for task in body["items"]] == [third["id"], second["id"], first["id"]]


def test_list_of_a_new_user_is_empty(alice):
    assert alice.client.get(f"/{alice.id}/tasks").json() == {"items": [], "next_cursor": None}


def test_get_returns_the_task(alice):
    task = alice.create("Read me", description="details")
    response = alice.client.get(f"/{alice.id}/tasks/{task['id']}")
    assert response.status_code == 200
    assert response.json() == task


def test_put_changes_only_the_fields_sent(alice, db):
    task = alice.create("Keep me", description="keep this too")
    response = alice.client.put(f"/{alice.id}/tasks/{task['id']}", json={"completed": True})
    assert response.status_code == 200
    updated = response.json()
    assert updated["title"] == "Keep me" and updated["description"] == "keep this too"
    assert updated["completed"] is True and updated["completed_at"] is not None
    assert _utc(updated["updated_at"]) > _utc(task["updated_at"])
    assert updated["created_at"] == task["created_at"]
    row = db.execute("SELECT title, description, completed FROM tasks WHERE id = %s", (task["id"],)).fetchone()
    assert row == ("Keep me", "keep this too", True)


def test_put_renames_and_null_clears_description(alice):
    task = alice.create("Old", description="to be cleared")
    updated = alice.client.put(f"/{alice.id}/tasks/{task['id']}", json={"title": " New ", "description": None}).json()
    assert updated["title"] == "New"
    assert updated["description"] is None


def test_put_reopening_clears_completed_at(alice):
    task = alice.create("Done", completed=True)
    reopened = alice.client.put(f"/{alice.id}/tasks/{task['id']}", json={"completed": False}).json()
    assert reopened["completed"] is False and reopened["completed_at"] is None


def test_complete_sets_and_keeps_completed_at(alice):
    task = alice.create("Finish me")
    path = f"/{alice.id}/tasks/{task['id']}/complete"
    done = alice.client.patch(path, json={"completed": True})
    assert done.status_code == 200
    assert done.json()["completed"] is True
    again = alice.client.patch(path, json={"completed": True}).json()
    assert again["completed_at"] == done.json()["completed_at"]
    reopened = alice.client.patch(path, json={"completed": False}).json()
    assert reopened["completed"] is False and reopened["completed_at"] is None


def test_complete_without_body_toggles(alice):
    task = alice.create("Toggle me")
    path = f"/{alice.id}/tasks/{task['id']}/complete"
    toggled = alice.client.patch(path)
    assert toggled.status_code == 200
    assert toggled.json()["completed"] is True and toggled.json()["completed_at"] is not None
    back = alice.client.patch(path).json()
    assert back["completed"] is False and back["completed_at"] is None
    assert back["title"] == "Toggle me"


def test_delete_removes_the_task(alice, db):
    task = alice.create("Delete me")
    response = alice.client.delete(f"/{alice.id}/tasks/{task['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert db.execute("SELECT count(*) FROM tasks WHERE id = %s", (task["id"],)).fetchone() == (0,)
    assert alice.client.get(f"/{alice.id}/tasks/{task['id']}").status_code == 404


def test_missing_task_is_404_on_every_operation(alice):
    path = f"/{alice.id}/tasks/5f0c3c3e-8a47-4d6f-9a0e-3b8f7c1d2e4a"
    for response in (
        alice.client.get(path),
        alice.client.put(path, json={"title": "x"}),
        alice.client.patch(path + "/complete"),
        alice.client.delete(path),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert "5f0c3c3e-8a47-4d6f-9a0e-3b8f7c1d2e4a" in response.json()["detail"]


def test_contract_and_swagger_ui_are_served(server):
    with server.client() as anonymous:
        spec = anonymous.get("/openapi.json")
        assert spec.status_code == 200
        assert spec.json()["openapi"] == "3.0.3"
        assert anonymous.get("/ui/").status_code == 200


def test_timestamps_are_utc_whatever_the_database_time_zone(make_settings, issuer, direct_database_url):
    # A startup option, so straight to Postgres: PgBouncer refuses startup options.
    url = direct_database_url
    kolkata = url + ("&" if "?" in url else "?") + "options=-c%20TimeZone%3DAsia%2FKolkata"
    with LiveServer(make_settings(database_url=kolkata)) as server, server.client(issuer.token("tz-user")) as client:
        task = client.post("/tz-user/tasks", json={"title": "t", "due_at": "2026-12-01T10:00:00+05:30"}).json()
        listed = client.get("/tz-user/tasks").json()["items"][0]
    assert task["due_at"] == listed["due_at"] == "2026-12-01T04:30:00Z"
    assert all(task[name].endswith("Z") for name in ("created_at", "updated_at"))
