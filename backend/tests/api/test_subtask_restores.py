"""Restoring a subtask alone: back among its parent's steps wherever the parent is now (its old place, or last
when another step took it), or, when the sweep destroyed its parent, back as a task of its own."""

import uuid

from tests.support.sweep import sweep_now


def _restore(user, task: dict) -> dict:
    response = user.client.post(f"/{user.id}/trash/{task['id']}/restore")
    assert response.status_code == 200, response.text
    return response.json()


def _steps(user, parent: dict) -> list[str]:
    listed = user.client.get(f"/{user.id}/tasks", params={"parent_id": parent["id"], "sort": "position"})
    return [task["title"] for task in listed.json()["items"]]


def test_a_step_whose_place_was_taken_comes_back_last_in_its_parents_new_list(alice):
    errands = alice.client.post(f"/{alice.id}/lists", json={"name": "Errands"}).json()
    parent = alice.create("Groceries")
    first, second = (alice.create(title, parent_id=parent["id"]) for title in ("milk", "eggs"))
    assert alice.client.delete(f"/{alice.id}/tasks/{second['id']}").status_code == 204
    third = alice.create("bread", parent_id=parent["id"])
    assert third["position"] == second["position"], "the new step took the deleted one's place"
    moved = alice.client.post(f"/{alice.id}/tasks/{parent['id']}/move", json={"after": None, "list_id": errands["id"]})
    assert moved.status_code == 200, moved.text

    back = _restore(alice, second)
    assert (back["parent_id"], back["list_id"]) == (parent["id"], errands["id"])
    assert back["position"] > third["position"]
    assert _steps(alice, parent) == ["milk", "bread", "eggs"]
    assert alice.client.get(f"/{alice.id}/tasks/{parent['id']}").json()["subtasks"] == {"open": 3, "total": 3}
    assert first["position"] < third["position"]


def test_a_step_keeps_its_place_when_it_is_free_whatever_list_its_parent_moved_to(alice):
    errands = alice.client.post(f"/{alice.id}/lists", json={"name": "Errands"}).json()
    parent = alice.create("Groceries")
    steps = [alice.create(title, parent_id=parent["id"]) for title in ("milk", "eggs", "bread")]
    assert alice.client.delete(f"/{alice.id}/tasks/{steps[1]['id']}").status_code == 204
    alice.client.post(f"/{alice.id}/tasks/{parent['id']}/move", json={"after": None, "list_id": errands["id"]})
    back = _restore(alice, steps[1])
    assert (back["position"], back["list_id"]) == (steps[1]["position"], errands["id"])
    assert _steps(alice, parent) == ["milk", "eggs", "bread"]


def test_a_step_whose_parent_the_sweep_destroyed_comes_back_as_a_task_of_its_own(alice, db, make_settings):
    """Deleted with its parent, the two can part in the sweep (the oldest trash goes first, or a trash over its
    limit loses some of the rows one delete moved): the step then has no parent to go back to."""
    parent = alice.create("Old project")
    step = alice.create("the one note worth keeping", parent_id=parent["id"])
    assert alice.client.delete(f"/{alice.id}/tasks/{parent['id']}").status_code == 204
    db.execute(
        "UPDATE trashed_tasks SET deleted_at = now() - interval '31 days' WHERE id = %s", (uuid.UUID(parent["id"]),)
    )
    sweep_now(make_settings)
    assert alice.client.post(f"/{alice.id}/trash/{parent['id']}/restore").status_code == 404

    back = _restore(alice, step)
    assert (back["title"], back["parent_id"], back["list_id"]) == ("the one note worth keeping", None, None)
    first = alice.client.get(f"/{alice.id}/tasks", params={"sort": "position", "parent_id": "none"}).json()["items"]
    assert first[0]["id"] == step["id"]
