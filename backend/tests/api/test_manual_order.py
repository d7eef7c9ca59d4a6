"""Manual order: moves rewrite one row, keys stay short and unique under concurrent and adversarial moves, and
any sequence of creates, moves, deletes and restores gives the order a plain list model gives."""

import concurrent.futures

import httpx
import pytest
from fractional_indexing import generate_key_between, generate_n_keys_between
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskapi.ordering.positions import MAX_LENGTH


def _order(user, list_id: str | None = None) -> list[str]:
    params = {"sort": "position", "limit": 100, "list_id": list_id or "inbox"}
    return [task["id"] for task in user.client.get(f"/{user.id}/tasks", params=params).json()["items"]]


def _move(user, task_id: str, after: str | None, **fields) -> httpx.Response:
    return user.client.post(f"/{user.id}/tasks/{task_id}/move", json={"after": after, **fields})


def test_new_tasks_go_first_and_a_move_changes_one_task(alice, db):
    a, b, c = (alice.create(title)["id"] for title in "abc")
    assert _order(alice) == [c, b, a]
    before = dict(db.execute("SELECT id::text, version FROM tasks WHERE user_id = %s", (alice.id,)).fetchall())

    moved = _move(alice, c, b)
    assert moved.status_code == 200, moved.text
    assert _order(alice) == [b, c, a]
    after = dict(db.execute("SELECT id::text, version FROM tasks WHERE user_id = %s", (alice.id,)).fetchall())
    assert {task for task in after if after[task] != before[task]} == {c}

    assert _move(alice, a, None).status_code == 200
    assert _order(alice) == [a, b, c]
    # If-Match as for every write.
    stale = alice.client.post(
        f"/{alice.id}/tasks/{a}/move", json={"after": c}, headers={"If-Match": moved.headers["etag"]}
    )
    assert stale.status_code == 412
    assert _move(alice, a, a).status_code == 400


def test_moving_between_lists(alice):
    work = alice.client.post(f"/{alice.id}/lists", json={"name": "Work"}).json()
    first, second = alice.create("first", list_id=work["id"])["id"], alice.create("inbox")["id"]
    moved = _move(alice, second, first, list_id=work["id"])
    assert moved.json()["list_id"] == work["id"]
    assert _order(alice, work["id"]) == [first, second] and _order(alice) == []
    # `after` must be in the list the task goes to.
    assert _move(alice, first, second, list_id=None).status_code == 400
    back = alice.client.put(f"/{alice.id}/tasks/{second}", json={"list_id": None})
    assert back.json()["list_id"] is None and _order(alice) == [second]
    assert alice.client.get(f"/{alice.id}/lists/{work['id']}").json()["total"] == 1


def test_twenty_concurrent_moves_keep_a_total_order(alice):
    tasks = [alice.create(f"task {n}")["id"] for n in range(21)]
    anchor = tasks[0]

    def move(task_id: str) -> int:
        with httpx.Client(base_url=alice.client.base_url, headers=alice.client.headers, timeout=30) as client:
            return client.post(f"/{alice.id}/tasks/{task_id}/move", json={"after": anchor}).status_code

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        assert list(pool.map(move, tasks[1:])) == [200] * 20
    order = _order(alice)
    assert sorted(order) == sorted(tasks)
    # Every mover landed right after the anchor, one after another: the anchor is now first of the 21.
    assert order.index(anchor) == len(order) - 21
    tasks_page = alice.client.get(f"/{alice.id}/tasks", params={"sort": "position", "limit": 100}).json()["items"]
    assert len({task["position"] for task in tasks_page}) == 21


def test_keys_stay_bounded_under_adversarial_moves(alice, db):
    """Always inserting right after the first task grows keys by about a character every six moves: past
    MAX_LENGTH the list is rebalanced (in one statement) instead."""
    first, second = alice.create("b")["id"], alice.create("a")["id"]
    longest, rebalanced = 0, False
    mover = [alice.create(f"mover {n}")["id"] for n in range(3)]
    for n in range(450):
        assert _move(alice, mover[n % 3], second).status_code == 200
        length = db.execute("SELECT max(length(position)) FROM tasks WHERE user_id = %s", (alice.id,)).fetchone()[0]
        rebalanced = rebalanced or length < longest
        longest = max(longest, length)
    assert longest <= MAX_LENGTH and rebalanced
    assert _order(alice)[:2] == [second, mover[449 % 3]] and _order(alice)[-1] == first


@pytest.mark.parametrize("group", ["inbox", "list", "subtasks"])
def test_a_move_into_a_place_with_no_short_key_left_rebalances_the_siblings(alice, db, group):
    """Whatever the siblings (the Inbox's, a list's, a task's subtasks), a key longer than MAX_LENGTH is never
    stored: they are renumbered to short keys, in their order."""
    fields = {"list_id": alice.client.post(f"/{alice.id}/lists", json={"name": "Work"}).json()["id"]}
    if group == "inbox":
        fields = {}
    elif group == "subtasks":
        fields = {"parent_id": alice.create("parent")["id"]}
    low, high, mover = (alice.create(title, **fields) for title in ("low", "high", "mover"))
    crowded_low, crowded_high = "a1", "a2"
    while len(generate_key_between(crowded_low, crowded_high)) <= MAX_LENGTH:
        crowded_high = generate_key_between(crowded_low, crowded_high)
    for task, position in ((mover, "a3"), (high, crowded_high), (low, crowded_low)):
        db.execute("UPDATE tasks SET position = %s WHERE id = %s", (position, task["id"]))
    moved = _move(alice, mover["id"], low["id"], **({"list_id": fields["list_id"]} if group == "list" else {}))
    assert moved.status_code == 200, moved.text
    siblings = {"parent_id": fields["parent_id"]} if group == "subtasks" else {"list_id": fields.get("list_id")}
    listed = alice.client.get(
        f"/{alice.id}/tasks", params={"sort": "position", **{k: v or "inbox" for k, v in siblings.items()}}
    )
    assert [task["title"] for task in listed.json()["items"]] == ["low", "mover", "high"]
    assert max(len(task["position"]) for task in listed.json()["items"]) <= 3


def test_the_database_makes_the_same_keys_as_the_library(db):
    keys = generate_n_keys_between(None, None, 5000)
    made = [row[0] for row in db.execute("SELECT position_key(n) FROM generate_series(0, 4999) AS n").fetchall()]
    assert made == keys
    for key in [*keys[::97], "a0V", "Zz", "Yzz", "b00", "a1", "az"]:
        assert db.execute("SELECT position_before(%s)", (key,)).fetchone()[0] == generate_key_between(None, key)


# The model: each group (the Inbox, two lists) a plain list of task ids, first first.
OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["create", "move", "delete", "restore"]),
        st.integers(0, 30),
        st.integers(0, 30),
        st.sampled_from([None, 0, 1]),
    ),
    min_size=5,
    max_size=25,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_any_sequence_gives_the_models_order(new_user, operations):
    user = new_user()
    lists = [user.client.post(f"/{user.id}/lists", json={"name": name}).json()["id"] for name in ("one", "two")]
    groups: dict = {None: [], lists[0]: [], lists[1]: []}
    trashed: dict[str, tuple] = {}  # id -> (group, position when deleted)
    for op, i, j, target in operations:
        group_id = None if target is None else lists[target]
        live = [task for members in groups.values() for task in members]
        if op == "create" or (not live and op != "restore"):
            task = user.create("t", list_id=group_id)
            groups[group_id].insert(0, task["id"])
        elif op == "move":
            task = live[i % len(live)]
            siblings = [other for other in groups[group_id] if other != task]
            after = siblings[j % len(siblings)] if siblings and j % 3 else None
            assert _move(user, task, after, list_id=group_id).status_code == 200
            for members in groups.values():
                if task in members:
                    members.remove(task)
            groups[group_id].insert(siblings.index(after) + 1 if after else 0, task)
        elif op == "delete":
            task = live[i % len(live)]
            found = user.client.get(f"/{user.id}/tasks/{task}").json()
            assert user.client.delete(f"/{user.id}/tasks/{task}").status_code == 204
            trashed[task] = (found["list_id"], found["position"])
            groups[found["list_id"]].remove(task)
        elif trashed:
            task = sorted(trashed)[i % len(trashed)]
            group, position = trashed.pop(task)
            back = user.client.post(f"/{user.id}/trash/{task}/restore")
            assert back.status_code == 200, back.text
            # Back at its own position among what is there now, or first if a task holds that position.
            positions = [
                item["position"]
                for item in user.client.get(
                    f"/{user.id}/tasks", params={"sort": "position", "list_id": group or "inbox", "limit": 100}
                ).json()["items"]
                if item["id"] != task
            ]
            members = groups[group]
            members.insert(0 if position in positions else sum(p < position for p in positions), task)
        for group, members in groups.items():
            assert _order(user, group) == members, (op, group)
