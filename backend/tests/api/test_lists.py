"""Lists: create, read, rename, order, delete with their tasks and undo it; a task's `list_id` and the filters
that take it; ownership on every new path and field; the list quota; list changes in the feed."""

import uuid

import pytest

from tests.support.event_stream import EventStream
from tests.support.live_server import LiveServer
from tests.support.sweep import sweep_now


def _list(user, name: str, **fields) -> dict:
    response = user.client.post(f"/{user.id}/lists", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/{user.id}/lists/{response.json()['id']}"
    return response.json()


def _tasks(user, **params) -> list[dict]:
    response = user.client.get(f"/{user.id}/tasks", params={"sort": "position", **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _titles(user, **params) -> list[str]:
    return [task["title"] for task in _tasks(user, **params)]


def test_lists_are_made_renamed_ordered_and_counted(alice):
    work = _list(alice, "  Work ", color="#3B82F6")
    home = _list(alice, "Home")
    assert (work["name"], work["color"], work["open"], work["total"]) == ("Work", "#3b82f6", 0, 0)
    assert [item["name"] for item in alice.client.get(f"/{alice.id}/lists").json()["items"]] == ["Work", "Home"]

    alice.create("report", list_id=work["id"])
    done = alice.create("slides", list_id=work["id"])
    alice.client.patch(f"/{alice.id}/tasks/{done['id']}/complete")
    alice.create("inbox task")
    read = alice.client.get(f"/{alice.id}/lists/{work['id']}")
    assert (read.json()["open"], read.json()["total"]) == (1, 2)
    assert read.headers["etag"]

    moved = alice.client.post(f"/{alice.id}/lists/{home['id']}/move", json={"after": None})
    assert moved.status_code == 200, moved.text
    assert [item["name"] for item in alice.client.get(f"/{alice.id}/lists").json()["items"]] == ["Home", "Work"]

    renamed = alice.client.put(
        f"/{alice.id}/lists/{work['id']}", json={"name": "Office"}, headers={"If-Match": read.headers["etag"]}
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Office"
    stale = alice.client.put(
        f"/{alice.id}/lists/{work['id']}", json={"color": None}, headers={"If-Match": read.headers["etag"]}
    )
    assert stale.status_code == 412

    summary = alice.client.get(f"/{alice.id}/summary", params={"list_id": work["id"]}).json()
    assert (summary["open"], summary["completed"], summary["total"]) == (1, 1, 2)
    inbox = alice.client.get(f"/{alice.id}/summary", params={"list_id": "inbox"}).json()
    assert (inbox["open"], inbox["completed"]) == (1, 0)
    assert _titles(alice, list_id="inbox") == ["inbox task"]
    assert sorted(_titles(alice, list_id=work["id"])) == ["report", "slides"]


def test_names_are_unique_per_user_ignoring_case(alice, bob):
    _list(alice, "Work")
    taken = alice.client.post(f"/{alice.id}/lists", json={"name": "WORK "})
    assert taken.status_code == 409 and taken.json()["type"].endswith("list-name-taken")
    _list(bob, "work")  # another user's names are not in the way
    home = _list(alice, "Home")
    assert alice.client.put(f"/{alice.id}/lists/{home['id']}", json={"name": "work"}).status_code == 409
    assert alice.client.post(f"/{alice.id}/lists", json={"name": "   "}).status_code == 400


@pytest.fixture
def two_list_server(make_settings):
    with LiveServer(make_settings(max_lists_per_user=2)) as server:
        yield server


def test_the_list_quota(two_list_server, issuer):
    user = "lists" + uuid.uuid4().hex
    with two_list_server.client(issuer.token(user)) as client:
        for name in ("one", "two"):
            assert client.post(f"/{user}/lists", json={"name": name}).status_code == 201
        refused = client.post(f"/{user}/lists", json={"name": "three"})
        assert refused.status_code == 409 and refused.json()["type"].endswith("list-quota-exceeded")
        assert refused.json()["limit"] == 2


def test_nobody_reaches_another_users_lists(alice, bob):
    work = _list(alice, "Work")
    task = alice.create("secret", list_id=work["id"])
    mine = bob.create("bob's")
    base = f"/{bob.id}/lists/{work['id']}"
    assert bob.client.get(base).status_code == 403
    assert bob.client.put(base, json={"name": "x"}).status_code == 403
    assert bob.client.delete(base).status_code == 403
    assert bob.client.post(f"{base}/move", json={"after": None}).status_code == 403
    assert bob.client.post(f"{base}/restore").status_code == 403
    # A list that is not bob's is a 400 in his tasks' fields, never a 403 that says it exists.
    for response in (
        bob.client.post(f"/{bob.id}/tasks", json={"title": "x", "list_id": work["id"]}),
        bob.client.put(f"/{bob.id}/tasks/{mine['id']}", json={"list_id": work["id"]}),
        bob.client.post(f"/{bob.id}/tasks/{mine['id']}/move", json={"after": None, "list_id": work["id"]}),
        bob.client.post(f"/{bob.id}/tasks/{mine['id']}/move", json={"after": task["id"]}),
    ):
        assert response.status_code == 400, response.text
        assert "list" in response.json()["detail"] or "after" in response.json()["detail"]
    assert bob.client.post(f"/{bob.id}/tasks/{task['id']}/move", json={"after": None}).status_code == 403
    assert _tasks(bob, list_id=work["id"]) == []
    assert bob.client.get(f"/{bob.id}/summary", params={"list_id": work["id"]}).json()["total"] == 0
    assert alice.client.get(f"/{alice.id}/lists/{uuid.uuid4()}").status_code == 404


def test_deleting_a_list_is_undone_in_one_step(alice):
    home = _list(alice, "Home")
    kept = alice.create("already in the trash", list_id=home["id"])
    assert alice.client.delete(f"/{alice.id}/tasks/{kept['id']}").status_code == 204
    tasks = [alice.create(f"chore {n}", list_id=home["id"]) for n in range(3)]
    before = _titles(alice, list_id=home["id"])

    assert alice.client.delete(f"/{alice.id}/lists/{home['id']}").status_code == 204
    assert alice.client.get(f"/{alice.id}/lists/{home['id']}").status_code == 404
    assert "restore" in alice.client.get(f"/{alice.id}/lists/{home['id']}").json()["detail"]
    assert alice.client.get(f"/{alice.id}/tasks/{tasks[0]['id']}").status_code == 404
    trash = {item["task"]["id"] for item in alice.client.get(f"/{alice.id}/trash").json()["items"]}
    assert trash == {kept["id"], *(task["id"] for task in tasks)}

    restored = alice.client.post(f"/{alice.id}/lists/{home['id']}/restore")
    assert restored.status_code == 200, restored.text
    assert (restored.json()["total"], restored.json()["position"]) == (3, home["position"])
    assert _titles(alice, list_id=home["id"]) == before
    # Exactly the tasks deleted with it: the one deleted on its own before stays in the trash.
    assert [item["task"]["id"] for item in alice.client.get(f"/{alice.id}/trash").json()["items"]] == [kept["id"]]
    again = alice.client.post(f"/{alice.id}/lists/{home['id']}/restore")
    assert again.status_code == 200 and again.json()["total"] == 3


def test_a_task_of_a_deleted_list_restored_alone_goes_to_the_inbox(alice):
    home = _list(alice, "Home")
    task = alice.create("chore", list_id=home["id"])
    alice.client.delete(f"/{alice.id}/lists/{home['id']}")
    back = alice.client.post(f"/{alice.id}/trash/{task['id']}/restore")
    assert back.status_code == 200 and back.json()["list_id"] is None
    assert alice.client.post(f"/{alice.id}/lists/{home['id']}/restore").json()["total"] == 0


def test_a_deleted_list_with_a_stale_etag_keeps_everything(alice):
    home = _list(alice, "Home")
    alice.create("chore", list_id=home["id"])
    alice.client.put(f"/{alice.id}/lists/{home['id']}", json={"name": "House"})
    stale = alice.client.delete(f"/{alice.id}/lists/{home['id']}", headers={"If-Match": f'"{home["id"][:8]}-1"'})
    assert stale.status_code == 412
    huge = alice.client.delete(f"/{alice.id}/lists/{home['id']}", headers={"If-Match": f'"{home["id"][:8]}-{10**20}"'})
    assert huge.status_code == 412
    assert _titles(alice, list_id=home["id"]) == ["chore"]


def test_lists_in_the_change_feed_only_for_clients_that_ask(alice):
    start = alice.client.get(f"/{alice.id}/changes").json()["next_since"]
    work = _list(alice, "Work")
    task = alice.create("report", list_id=work["id"])
    old = alice.client.get(f"/{alice.id}/changes", params={"since": start}).json()["items"]
    assert [(item["kind"], item["id"]) for item in old] == [("task", task["id"])]
    both = alice.client.get(f"/{alice.id}/changes", params={"since": start, "kinds": "task,list"}).json()
    assert [(item["kind"], item["id"], item["op"]) for item in both["items"]] == [
        ("list", work["id"], "upsert"),
        ("task", task["id"], "upsert"),
    ]
    assert both["items"][0]["list"]["name"] == "Work" and both["items"][0]["task"] is None
    alice.client.delete(f"/{alice.id}/lists/{work['id']}")
    after = alice.client.get(f"/{alice.id}/changes", params={"since": both["next_since"], "kinds": "list,task"})
    assert [(item["kind"], item["op"]) for item in after.json()["items"]] == [("task", "delete"), ("list", "delete")]
    full = alice.client.get(f"/{alice.id}/changes", params={"kinds": "list"}).json()["items"]
    assert full == []


def test_the_sweep_destroys_old_deleted_lists_and_the_feed_says_so(alice, db, make_settings):
    old = _list(alice, "Old")
    start = alice.client.get(f"/{alice.id}/changes", params={"kinds": "task,list"}).json()["next_since"]
    alice.client.delete(f"/{alice.id}/lists/{old['id']}")
    db.execute("UPDATE trashed_lists SET deleted_at = now() - interval '31 days' WHERE user_id = %s", (alice.id,))
    assert sweep_now(make_settings)["expired_lists"] >= 1
    assert alice.client.post(f"/{alice.id}/lists/{old['id']}/restore").status_code == 404
    items = alice.client.get(f"/{alice.id}/changes", params={"since": start, "kinds": "task,list"}).json()["items"]
    assert [(item["kind"], item["id"], item["op"]) for item in items] == [("list", old["id"], "delete")]


def test_list_changes_are_live_events_named_by_kind(server, alice):
    stream = EventStream(server.url + "/api", alice.id, alice.token)
    with stream:
        assert stream.next()["event"] == "ready"
        work = _list(alice, "Work")
        event = stream.next(timeout=2)
        assert event["data"] == {"changes": [{"kind": "list", "id": work["id"], "op": "upsert"}]}
        task = alice.create("report", list_id=work["id"])
        assert stream.next(timeout=2)["data"] == {"changes": [{"kind": "task", "id": task["id"], "op": "upsert"}]}
        assert alice.client.delete(f"/{alice.id}/lists/{work['id']}").status_code == 204
        deleted = stream.next(timeout=2)["data"]["changes"]
        assert deleted == [
            {"kind": "task", "id": task["id"], "op": "delete"},
            {"kind": "list", "id": work["id"], "op": "delete"},
        ]
        # A client coming back with the last event's id is told what it missed, lists included.
        seen = event["id"]
    with EventStream(server.url + "/api", alice.id, alice.token, last_event_id=seen) as again:
        missed = again.next()
        assert missed["event"] == "changes"
        assert {(change["kind"], change["op"]) for change in missed["data"]["changes"]} == {
            ("task", "delete"),
            ("list", "delete"),
        }


def test_a_repeated_idempotency_key_creates_one_list(alice, db):
    key = {"Idempotency-Key": "make-work-once"}
    first = alice.client.post(f"/{alice.id}/lists", json={"name": "Work"}, headers=key)
    again = alice.client.post(f"/{alice.id}/lists", json={"name": "Work"}, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"] and again.headers["location"] == first.headers["location"]
    assert db.execute("SELECT count(*) FROM task_lists WHERE user_id = %s", (alice.id,)).fetchone()[0] == 1
    other = alice.client.post(f"/{alice.id}/lists", json={"name": "Home"}, headers=key)
    assert other.status_code == 422
    # The same key on a task create is another request, never a replay of the list.
    assert alice.client.post(f"/{alice.id}/tasks", json={"name": "Work"}, headers=key).status_code == 400
    assert alice.client.post(f"/{alice.id}/tasks", json={"title": "Work"}, headers=key).status_code == 422


def test_a_retried_create_of_a_list_deleted_since_is_a_documented_404(alice):
    key = {"Idempotency-Key": "make-errands-once"}
    made = alice.client.post(f"/{alice.id}/lists", json={"name": "Errands"}, headers=key).json()
    assert alice.client.delete(f"/{alice.id}/lists/{made['id']}").status_code == 204
    again = alice.client.post(f"/{alice.id}/lists", json={"name": "Errands"}, headers=key)
    assert again.status_code == 404 and again.headers["content-type"] == "application/problem+json"
    assert f"POST /{alice.id}/lists/{made['id']}/restore" in again.json()["detail"]
    contract = alice.client.get("/openapi.json").json()
    assert "404" in contract["paths"]["/{user_id}/lists"]["post"]["responses"]
