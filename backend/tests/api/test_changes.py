"""The change feed: a full sync, then each change once, deletions included, and never a change missed."""

import random
import threading
import time

import httpx

from tests.support.sweep import sweep_now


def _feed(user, since: str | None = None, limit: int = 100) -> dict:
    params = {"limit": limit, **({"since": since} if since else {})}
    response = user.client.get(f"/{user.id}/changes", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _drain(user, since: str | None, limit: int = 100) -> tuple[list[dict], str]:
    """Every change from `since` on, following has_more; and the position after them."""
    items = []
    while True:
        page = _feed(user, since, limit)
        items += page["items"]
        since = page["next_since"]
        if not page["has_more"]:
            return items, since


def _live(user) -> dict[str, dict]:
    tasks, cursor = {}, None
    while True:
        page = user.client.get(f"/{user.id}/tasks", params={"limit": 100, **({"cursor": cursor} if cursor else {})})
        tasks.update({task["id"]: task for task in page.json()["items"]})
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return tasks


def test_a_full_sync_then_each_change_once_in_its_latest_state(alice):
    first, second, third = (alice.create(title) for title in ("first", "second", "third"))
    items, position = _drain(alice, None, limit=2)
    assert [(item["id"], item["op"]) for item in items] == [(t["id"], "upsert") for t in (first, second, third)]
    assert [item["task"] for item in items] == [first, second, third]
    assert _feed(alice, position)["items"] == []

    alice.client.put(f"/{alice.id}/tasks/{first['id']}", json={"title": "first, renamed"})
    changed = alice.client.patch(f"/{alice.id}/tasks/{first['id']}/complete").json()
    assert alice.client.delete(f"/{alice.id}/tasks/{second['id']}").status_code == 204
    fourth = alice.create("fourth")
    assert alice.client.delete(f"/{alice.id}/tasks/{third['id']}").status_code == 204
    assert alice.client.delete(f"/{alice.id}/trash/{third['id']}").status_code == 204

    items, position = _drain(alice, position)
    assert items == [
        {"kind": "task", "id": first["id"], "op": "upsert", "task": changed},
        {"kind": "task", "id": second["id"], "op": "delete", "task": None},
        {"kind": "task", "id": fourth["id"], "op": "upsert", "task": fourth},
        {"kind": "task", "id": third["id"], "op": "delete", "task": None},
    ]
    restored = alice.client.post(f"/{alice.id}/trash/{second['id']}/restore").json()
    assert _feed(alice, position)["items"] == [{"kind": "task", "id": second["id"], "op": "upsert", "task": restored}]


def test_a_failed_write_is_no_change(alice):
    task = alice.create("kept")
    position = _feed(alice)["next_since"]
    assert (
        alice.client.put(f"/{alice.id}/tasks/{task['id']}", json={"recurrence": {"rule": "FREQ=DAILY"}}).status_code
        == 400
    )
    assert (
        alice.client.put(
            f"/{alice.id}/tasks/{task['id']}", json={"title": "x"}, headers={"If-Match": '"0-0"'}
        ).status_code
        == 412
    )
    page = _feed(alice, position)
    assert page["items"] == [] and page["next_since"] == position


def test_positions_are_signed_and_per_user(alice, bob):
    alice.create()
    position = _feed(alice)["next_since"]
    for forged in (position[:-2] + ("AA" if not position.endswith("AA") else "BB"), "abc.def"):
        response = alice.client.get(f"/{alice.id}/changes", params={"since": forged})
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["field"] == "since"
    stolen = bob.client.get(f"/{bob.id}/changes", params={"since": position})
    assert stolen.status_code == 400 and "another user" in stolen.json()["errors"][0]["message"]
    assert bob.client.get(f"/{alice.id}/changes").status_code == 403


def test_a_position_older_than_what_is_remembered_is_410(alice, db, make_settings):
    task = alice.create("destroyed long ago")
    old = _feed(alice)["next_since"]
    assert alice.client.delete(f"/{alice.id}/tasks/{task['id']}").status_code == 204
    assert alice.client.delete(f"/{alice.id}/trash/{task['id']}").status_code == 204
    recent = _feed(alice, old)["next_since"]
    db.execute("UPDATE destroyed_tasks SET destroyed_at = now() - interval '31 days' WHERE user_id = %s", (alice.id,))
    sweep_now(make_settings)

    gone = alice.client.get(f"/{alice.id}/changes", params={"since": old})
    assert gone.status_code == 410, gone.text
    assert gone.json()["type"] == "urn:taskapi:problem:sync-position-expired"
    assert "without `since`" in gone.json()["detail"]
    # A position that had seen the deletion is still good, and a full sync always is.
    assert _feed(alice, recent)["items"] == []
    assert _feed(alice)["items"] == []


def test_concurrent_writers_never_make_a_poller_miss_a_change(alice):
    """Many writers at once (create, update, complete, delete, restore, destroy) while a client polls the feed in
    small pages: the client's replayed copy must equal the user's tasks at the end."""
    known: list[str] = [alice.create(f"seed {n}")["id"] for n in range(10)]
    stop = threading.Event()
    failures: list[str] = []

    def write(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=alice.client.base_url, headers=alice.client.headers, timeout=10) as client:
            while not stop.is_set():
                op = rng.choice(["create", "update", "complete", "delete", "restore", "destroy"])
                task_id = rng.choice(known)
                path = f"/{alice.id}"
                if op == "create":
                    answer = client.post(f"{path}/tasks", json={"title": f"new {rng.random()}"})
                    if answer.status_code == 201:
                        known.append(answer.json()["id"])
                elif op == "update":
                    answer = client.put(f"{path}/tasks/{task_id}", json={"title": f"edit {rng.random()}"})
                elif op == "complete":
                    answer = client.patch(f"{path}/tasks/{task_id}/complete")
                elif op == "delete":
                    answer = client.delete(f"{path}/tasks/{task_id}")
                elif op == "restore":
                    answer = client.post(f"{path}/trash/{task_id}/restore")
                else:
                    answer = client.delete(f"{path}/trash/{task_id}")
                if answer.status_code >= 500 or answer.status_code in (400, 403):
                    failures.append(f"{op}: {answer.status_code} {answer.text}")

    replica: dict[str, dict] = {}
    position = None

    def poll_once() -> bool:
        nonlocal position
        page = _feed(alice, position, limit=7)
        for item in page["items"]:
            if item["op"] == "upsert":
                replica[item["id"]] = item["task"]
            else:
                replica.pop(item["id"], None)
        position = page["next_since"]
        return page["has_more"]

    writers = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for writer in writers:
        writer.start()
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        poll_once()
    stop.set()
    for writer in writers:
        writer.join()
    while poll_once():
        pass
    assert not failures, failures[:5]
    assert replica == _live(alice)


def test_someone_elses_changes_are_never_in_the_feed(alice, bob):
    alice.create("alice's")
    bob_task = bob.create("bob's")
    assert [item["id"] for item in _feed(bob)["items"]] == [bob_task["id"]]


def test_one_statement_over_many_rows_numbers_each_change_once_in_order(alice, db):
    """A list deleted and restored with its tasks moves them all in one statement, which reserves its change
    numbers in blocks (migration 0017): each task is in the feed once per move, numbered above what came before and
    below what comes after, with nothing missed in between."""
    work = alice.client.post(f"/{alice.id}/lists", json={"name": "Work"}).json()
    made = {alice.create(f"task {n}", list_id=work["id"])["id"] for n in range(40)}
    _, since = _drain(alice, None)
    assert alice.client.delete(f"/{alice.id}/lists/{work['id']}").status_code == 204
    assert alice.client.post(f"/{alice.id}/lists/{work['id']}/restore").status_code == 200
    after = alice.create("after")
    changes, _ = _drain(alice, since, limit=7)
    assert sorted(change["id"] for change in changes) == sorted({*made, after["id"]}), "each task once"
    assert changes[-1]["id"] == after["id"]
    (stored,) = db.execute("SELECT count(DISTINCT change_seq) FROM tasks WHERE user_id = %s", (alice.id,)).fetchone()
    assert stored == 41
    counts = alice.client.get(f"/{alice.id}/lists").json()["items"][0]
    assert (counts["open"], counts["total"]) == (40, 40)
