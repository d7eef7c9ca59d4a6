"""Subtasks: a task's steps, one level deep, in their own order, counted by the database; completing, reopening,
moving, deleting, restoring and recurring parents; ownership of `parent_id`; the subtask quota; and concurrent
writes on a parent and its subtasks."""

import asyncio
from datetime import timedelta

import httpx

from tests.support.clock import days_from_now, instant
from tests.support.live_server import LiveServer
from tests.support.subtasks import add_subtasks


def _steps(user, parent: dict, *titles: str) -> list[dict]:
    return [user.create(title, parent_id=parent["id"]) for title in titles]


def _get(user, task: dict) -> httpx.Response:
    return user.client.get(f"/{user.id}/tasks/{task['id']}")


def _complete(user, task: dict, completed: bool = True) -> httpx.Response:
    response = user.client.patch(f"/{user.id}/tasks/{task['id']}/complete", json={"completed": completed})
    assert response.status_code == 200, response.text
    return response


def _titles(user, **params) -> list[str]:
    response = user.client.get(f"/{user.id}/tasks", params=params)
    assert response.status_code == 200, response.text
    return [task["title"] for task in response.json()["items"]]


def _field_error(response: httpx.Response, field: str) -> str:
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert (error["in"], error["field"]) == ("body", field), error
    return error["message"]


def test_three_steps_tick_two_then_the_parent_ticks_the_third(alice):
    trip = alice.create("Pack for the trip")
    socks, charger, passport = _steps(alice, trip, "socks", "charger", "passport")
    assert (socks["parent_id"], socks["list_id"], socks["subtasks"]) == (trip["id"], None, {"open": 0, "total": 0})
    assert socks["position"] < charger["position"] < passport["position"]  # each new step goes last
    assert _get(alice, trip).json()["subtasks"] == {"open": 3, "total": 3}

    _complete(alice, socks)
    _complete(alice, charger)
    before = _get(alice, trip)
    assert before.json()["subtasks"] == {"open": 1, "total": 3}

    done = _complete(alice, trip)
    assert done.json()["completed"] is True
    assert done.json()["subtasks"] == {"open": 0, "total": 3}
    # The answer is the task as the cascade left it: its ETag is the one a read gives.
    assert done.headers["etag"] == _get(alice, trip).headers["etag"] != before.headers["etag"]
    assert _get(alice, passport).json()["completed"] is True

    # Reopening a step reopens its parent; so does adding an open step to a done task.
    _complete(alice, passport, completed=False)
    assert _get(alice, trip).json()["completed"] is False
    _complete(alice, trip)
    _steps(alice, trip, "sunscreen")
    assert (_get(alice, trip).json()["completed"], _get(alice, trip).json()["subtasks"]) == (
        False,
        {"open": 1, "total": 4},
    )


def test_a_toggled_parent_and_an_edit_to_completed_answer_fresh_counts(alice):
    parent = alice.create("parent")
    _steps(alice, parent, "one", "two")
    toggled = alice.client.patch(f"/{alice.id}/tasks/{parent['id']}/complete")
    assert toggled.json()["subtasks"] == {"open": 0, "total": 2}
    assert toggled.headers["etag"] == _get(alice, parent).headers["etag"]
    reopened = alice.client.put(f"/{alice.id}/tasks/{parent['id']}", json={"completed": False})
    assert reopened.json()["subtasks"] == {"open": 0, "total": 2}  # reopening a parent leaves its steps done
    _complete(alice, _steps(alice, parent, "three")[0], completed=False)
    edited = alice.client.put(f"/{alice.id}/tasks/{parent['id']}", json={"completed": True, "title": "renamed"})
    assert edited.json()["subtasks"] == {"open": 0, "total": 3}
    assert edited.headers["etag"] == _get(alice, parent).headers["etag"]


def test_listing_a_tasks_subtasks_in_their_order_or_only_top_level_tasks(alice):
    parent = alice.create("parent")
    other = alice.create("other")
    first, second, third = _steps(alice, parent, "first", "second", "third")
    _steps(alice, other, "elsewhere")
    assert _titles(alice, parent_id=parent["id"], sort="position") == ["first", "second", "third"]
    assert set(_titles(alice, parent_id="none")) == {"parent", "other"}
    assert len(_titles(alice)) == 6  # without parent_id: every task, as before

    moved = alice.client.post(f"/{alice.id}/tasks/{third['id']}/move", json={"after": None})
    assert moved.status_code == 200, moved.text
    moved = alice.client.post(f"/{alice.id}/tasks/{first['id']}/move", json={"after": second["id"]})
    assert moved.status_code == 200, moved.text
    assert _titles(alice, parent_id=parent["id"], sort="position") == ["third", "second", "first"]
    # A subtask's siblings are its parent's subtasks: not a top-level task, nor another task's step.
    for after in (other["id"], parent["id"]):
        refused = alice.client.post(f"/{alice.id}/tasks/{first['id']}/move", json={"after": after})
        assert "sibling" in _field_error(refused, "after")

    pages, cursor = [], None
    while True:
        params = {"parent_id": parent["id"], "sort": "position", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = alice.client.get(f"/{alice.id}/tasks", params=params).json()
        pages.append([task["title"] for task in page["items"]])
        if not (cursor := page["next_cursor"]):
            break
    assert pages == [["third", "second"], ["first"]]
    assert alice.client.get(f"/{alice.id}/tasks", params={"parent_id": "nope"}).status_code == 400


def test_one_level_no_recurrence_and_the_parents_list(alice):
    work = alice.client.post(f"/{alice.id}/lists", json={"name": "Work"}).json()
    home = alice.client.post(f"/{alice.id}/lists", json={"name": "Home"}).json()
    parent = alice.create("report", list_id=work["id"])
    [step] = _steps(alice, parent, "draft")
    assert step["list_id"] == work["id"]

    nested = alice.client.post(f"/{alice.id}/tasks", json={"title": "deeper", "parent_id": step["id"]})
    assert "cannot have subtasks" in _field_error(nested, "parent_id")
    listed = alice.client.post(
        f"/{alice.id}/tasks", json={"title": "x", "parent_id": parent["id"], "list_id": home["id"]}
    )
    assert "left out" in _field_error(listed, "list_id")
    recurring = {"due_at": "2026-12-01T09:00:00Z", "recurrence": {"rule": "FREQ=DAILY"}}
    refused = alice.client.post(f"/{alice.id}/tasks", json={"title": "x", "parent_id": parent["id"], **recurring})
    assert "cannot recur" in _field_error(refused, "recurrence")
    refused = alice.client.put(f"/{alice.id}/tasks/{step['id']}", json=recurring)
    assert "cannot recur" in _field_error(refused, "recurrence")
    refused = alice.client.put(f"/{alice.id}/tasks/{step['id']}", json={"list_id": home["id"]})
    assert "parent's list" in _field_error(refused, "list_id")
    refused = alice.client.post(f"/{alice.id}/tasks/{step['id']}/move", json={"after": None, "list_id": None})
    assert "parent's list" in _field_error(refused, "list_id")

    # Moving the parent takes its subtasks along, by an edit or by a move; the lists' counts follow.
    assert alice.client.put(f"/{alice.id}/tasks/{parent['id']}", json={"list_id": home["id"]}).status_code == 200
    assert _get(alice, step).json()["list_id"] == home["id"]
    counts = {item["name"]: item["total"] for item in alice.client.get(f"/{alice.id}/lists").json()["items"]}
    assert counts == {"Work": 0, "Home": 2}
    moved = alice.client.post(f"/{alice.id}/tasks/{parent['id']}/move", json={"after": None, "list_id": None})
    assert moved.status_code == 200, moved.text
    assert _get(alice, step).json()["list_id"] is None


def test_parent_id_must_be_the_callers_own_live_task(alice, bob):
    bobs = bob.create("bob's")
    for parent_id in (bobs["id"], "5f0c3c3e-8a47-4d6f-9a0e-3b8f7c1d2e4a"):
        refused = alice.client.post(f"/{alice.id}/tasks", json={"title": "x", "parent_id": parent_id})
        assert _field_error(refused, "parent_id") == "is not one of your tasks"
    assert alice.client.get(f"/{alice.id}/tasks", params={"parent_id": bobs["id"]}).json()["items"] == []
    assert _get(bob, bobs).json()["subtasks"] == {"open": 0, "total": 0}

    trashed = alice.create("trashed")
    assert alice.client.delete(f"/{alice.id}/tasks/{trashed['id']}").status_code == 204
    refused = alice.client.post(f"/{alice.id}/tasks", json={"title": "x", "parent_id": trashed["id"]})
    assert _field_error(refused, "parent_id") == "is not one of your tasks"


def test_deleting_a_parent_trashes_its_subtasks_and_restoring_it_brings_back_exactly_those(alice, db):
    parent = alice.create("parent")
    kept, gone_before, done = _steps(alice, parent, "kept", "gone before", "done")
    _complete(alice, done)
    assert alice.client.delete(f"/{alice.id}/tasks/{gone_before['id']}").status_code == 204
    before = _get(alice, parent)
    assert before.json()["subtasks"] == {"open": 1, "total": 2}

    assert alice.client.delete(f"/{alice.id}/tasks/{parent['id']}").status_code == 204
    assert _titles(alice) == []
    trashed = {item["task"]["title"] for item in alice.client.get(f"/{alice.id}/trash").json()["items"]}
    assert trashed == {"parent", "kept", "gone before", "done"}

    # A subtask waits for its parent.
    early = alice.client.post(f"/{alice.id}/trash/{kept['id']}/restore")
    assert early.status_code == 409 and early.json()["type"] == "urn:taskapi:problem:parent-in-trash"
    assert parent["id"] in early.json()["detail"]

    back = alice.client.post(f"/{alice.id}/trash/{parent['id']}/restore")
    assert back.status_code == 200, back.text
    assert back.json() == before.json() and back.headers["etag"] == before.headers["etag"]
    assert sorted(_titles(alice, parent_id=parent["id"])) == ["done", "kept"]
    assert _get(alice, done).json()["completed"] is True
    # The one deleted on its own stays in the trash, and can come back now its parent is back.
    assert [item["task"]["title"] for item in alice.client.get(f"/{alice.id}/trash").json()["items"]] == ["gone before"]
    assert alice.client.post(f"/{alice.id}/trash/{gone_before['id']}/restore").status_code == 200
    assert _get(alice, parent).json()["subtasks"] == {"open": 2, "total": 3}

    # Destroying a parent for good destroys its subtasks in the trash: they could never come back.
    assert alice.client.delete(f"/{alice.id}/tasks/{parent['id']}").status_code == 204
    assert alice.client.delete(f"/{alice.id}/trash/{parent['id']}").status_code == 204
    assert alice.client.get(f"/{alice.id}/trash").json()["items"] == []
    assert db.execute("SELECT count(*) FROM trashed_tasks WHERE user_id = %s", (alice.id,)).fetchone()[0] == 0


def test_deleting_a_list_and_restoring_it_keeps_parents_and_subtasks_together(alice):
    work = alice.client.post(f"/{alice.id}/lists", json={"name": "Work"}).json()
    parent = alice.create("report", list_id=work["id"])
    _steps(alice, parent, "draft", "review")
    assert alice.client.delete(f"/{alice.id}/lists/{work['id']}").status_code == 204
    assert alice.client.post(f"/{alice.id}/lists/{work['id']}/restore").status_code == 200
    assert _titles(alice, parent_id=parent["id"], sort="position") == ["draft", "review"]
    assert _get(alice, parent).json()["subtasks"] == {"open": 2, "total": 2}


def test_completing_a_recurring_parent_gives_the_next_occurrence_open_copies(alice):
    due = days_from_now(1)
    parent = alice.create("weekly review", due_at=instant(due), recurrence={"rule": "FREQ=WEEKLY", "timezone": "UTC"})
    step_due = due - timedelta(hours=1)
    alice.create("inbox zero", parent_id=parent["id"], due_at=instant(step_due), tags=["Focus"])
    alice.create("plan the week", parent_id=parent["id"])
    done = _complete(alice, parent).json()
    assert done["subtasks"] == {"open": 0, "total": 2}
    following = _get(alice, {"id": done["next_occurrence_id"]}).json()
    assert following["subtasks"] == {"open": 2, "total": 2}
    copies = alice.client.get(f"/{alice.id}/tasks", params={"parent_id": following["id"], "sort": "position"})
    items = copies.json()["items"]
    assert [item["title"] for item in items] == ["inbox zero", "plan the week"]
    assert all(item["completed"] is False for item in items)
    assert items[0]["due_at"] == instant(step_due + timedelta(weeks=1)) and items[0]["tags"] == ["focus"]
    assert items[1]["due_at"] is None  # a copy keeps its distance to the parent's due date, a week on


def test_a_task_holds_at_most_100_subtasks(alice, db):
    parent = alice.create("big")
    add_subtasks(db, alice.id, parent["id"], 99)
    assert alice.create("the hundredth", parent_id=parent["id"])
    refused = alice.client.post(f"/{alice.id}/tasks", json={"title": "one more", "parent_id": parent["id"]})
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == "urn:taskapi:problem:subtask-quota-exceeded"
    assert refused.json()["limit"] == 100
    assert _get(alice, parent).json()["subtasks"] == {"open": 100, "total": 100}


def test_a_ticked_step_puts_its_parent_in_the_change_feed(alice):
    parent = alice.create("parent")
    [step] = _steps(alice, parent, "step")
    since = alice.client.get(f"/{alice.id}/changes").json()["next_since"]
    _complete(alice, step)
    changes = alice.client.get(f"/{alice.id}/changes", params={"since": since}).json()["items"]
    assert {change["id"]: change["task"]["subtasks"] for change in changes} == {
        step["id"]: {"open": 0, "total": 0},
        parent["id"]: {"open": 0, "total": 1},
    }


def test_concurrent_ticks_completions_and_edits_neither_deadlock_nor_miscount(alice, server: LiveServer, db):
    """Every write locks the user's counter before any task row (taskapi/tasks/store.py: USER_HELD): a step's
    tick (step, then parent), a parent's completion (parent, then steps) and a move (counter first) never wait on
    each other in a cycle, which Postgres would end with a deadlock error (a 500)."""
    parents = [alice.create(f"parent {n}") for n in range(3)]
    steps = [step for parent in parents for step in _steps(alice, parent, "a", "b", "c", "d")]

    async def storm() -> list[httpx.Response]:
        headers = dict(alice.client.headers)
        async with httpx.AsyncClient(base_url=str(alice.client.base_url), headers=headers, timeout=30) as client:
            writes = []
            for round_ in range(4):
                writes += [client.patch(f"/{alice.id}/tasks/{step['id']}/complete") for step in steps]
                writes += [client.patch(f"/{alice.id}/tasks/{parent['id']}/complete") for parent in parents]
                writes += [
                    client.put(f"/{alice.id}/tasks/{step['id']}", json={"title": f"r{round_}"}) for step in steps
                ]
                writes += [
                    client.post(f"/{alice.id}/tasks/{parent['id']}/move", json={"after": None}) for parent in parents
                ]
            return await asyncio.gather(*writes)

    answers = asyncio.run(storm())
    assert {response.status_code for response in answers} == {200}, [r.text for r in answers if r.status_code != 200]
    counted = db.execute(
        """
        SELECT p.subtasks_open, p.subtasks_total, count(s.id) FILTER (WHERE NOT s.completed), count(s.id),
               p.completed
        FROM tasks p JOIN tasks s ON s.parent_id = p.id WHERE p.user_id = %s GROUP BY p.id
        """,
        (alice.id,),
    ).fetchall()
    for kept_open, kept_total, open_, total, completed in counted:
        assert (kept_open, kept_total) == (open_, total)
        assert not (completed and open_)  # a done task has no open step
