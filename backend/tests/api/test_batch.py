"""POST /{user_id}/batch: an offline queue applied in order, all or nothing; refs; every rule of the single
operations inside a batch (ownership of every id, validation, quotas, If-Match, recurrence); replay-safety;
the change feed, live events and rate limits; batches racing single writes."""

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
import yaml

from taskapi.contract import SPEC_PATH
from tests.support.clock import days_from_now, instant
from tests.support.event_stream import EventStream
from tests.support.live_server import LiveServer
from tests.support.subtasks import add_subtasks


def _batch(user, operations: list[dict], **headers) -> httpx.Response:
    return user.client.post(f"/{user.id}/batch", json={"operations": operations}, headers=headers)


def _applied(user, operations: list[dict], **headers) -> dict:
    response = _batch(user, operations, **headers)
    assert response.status_code == 200, response.text
    return response.json()


def _count(db, user) -> int:
    return db.execute("SELECT count(*) FROM tasks WHERE user_id = %s", (user.id,)).fetchone()[0]


def _offline_queue(existing: list[dict]) -> list[dict]:
    """30 operations an offline client queued: creates named by refs, subtasks of them, edits, moves, a tick, a
    delete."""
    queue = []
    for n in range(6):
        queue.append({"op": "create", "ref": f"tmp-{n}", "body": {"title": f"new {n}", "priority": "high"}})
        queue += [
            {"op": "create", "ref": f"tmp-{n}-{step}", "body": {"title": f"step {step}", "parent_id": f"tmp-{n}"}}
            for step in range(2)
        ]
    queue += [{"op": "update", "id": f"tmp-{n}", "body": {"description": "written offline"}} for n in range(4)]
    queue += [{"op": "complete", "id": "tmp-0-0", "body": {"completed": True}}]
    queue += [{"op": "move", "id": "tmp-1-1", "body": {"after": None}}]
    queue += [
        {"op": "update", "id": task["id"], "if_match": task["etag"], "body": {"title": "renamed"}} for task in existing
    ]
    queue += [{"op": "delete", "id": "tmp-5"}]
    queue += [{"op": "complete", "id": "tmp-4"}]
    return queue


def test_an_offline_queue_sent_twice_with_one_key_is_applied_once(alice, db):
    existing = []
    for n in range(4):
        response = alice.client.post(f"/{alice.id}/tasks", json={"title": f"old {n}"})
        existing.append({**response.json(), "etag": response.headers["etag"]})
    queue = _offline_queue(existing)
    assert len(queue) == 30
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = _applied(alice, queue, **key)
    assert _count(db, alice) == 4 + 18 - 3  # the deleted task took its two steps to the trash
    again = _applied(alice, queue, **key)
    assert again == first and _count(db, alice) == 4 + 15

    results, refs = first["results"], first["refs"]
    assert [result["status"] for result in results] == [201] * 18 + [200] * 10 + [204, 200]
    assert set(refs) == {f"tmp-{n}" for n in range(6)} | {f"tmp-{n}-{step}" for n in range(6) for step in range(2)}
    # Each result is its task as the batch left it, with an ETag that a later If-Match accepts.
    parent = results[0]["task"]
    assert parent["id"] == refs["tmp-0"]
    assert (parent["description"], parent["subtasks"]) == ("written offline", {"open": 1, "total": 2})
    assert results[2]["task"]["parent_id"] == refs["tmp-0"]
    deleted = results[3 * 5]  # the create of tmp-5 keeps its own answer: the task is in the trash
    assert deleted["etag"] is None and deleted["task"]["title"] == "new 5"
    assert (results[28]["status"], results[28]["task"], results[28]["etag"]) == (204, None, None)
    assert results[-1]["task"]["completed"] is True
    steps = alice.client.get(f"/{alice.id}/tasks", params={"parent_id": refs["tmp-1"], "sort": "position"})
    assert [task["title"] for task in steps.json()["items"]] == ["step 1", "step 0"]
    for result in results[24:28]:
        task, tag = result["task"], result["etag"]
        assert task["title"] == "renamed"
        edited = alice.client.put(
            f"/{alice.id}/tasks/{task['id']}", json={"priority": "low"}, headers={"If-Match": tag}
        )
        assert edited.status_code == 200, edited.text

    reused = _batch(alice, queue[:2], **key)
    assert reused.status_code == 422 and reused.json()["type"] == "urn:taskapi:problem:idempotency-key-reused"


def test_one_refused_operation_applies_nothing_and_is_named(alice, db):
    old = alice.create("old")
    queue = [{"op": "create", "ref": f"t{n}", "body": {"title": f"task {n}"}} for n in range(16)]
    refusals = [
        ({"op": "create", "body": {"title": ""}}, 400, "urn:taskapi:problem:validation-error"),
        ({"op": "update", "id": str(uuid.uuid4()), "body": {"title": "x"}}, 404, "urn:taskapi:problem:not-found"),
        ({"op": "update", "id": old["id"], "if_match": '"nope-1"', "body": {"title": "x"}}, 412, None),
        (
            {"op": "update", "id": old["id"], "if_match": f'"{old["id"][:8]}-{10**20}"', "body": {"title": "x"}},
            412,
            None,
        ),
        ({"op": "create", "body": {"title": "x", "parent_id": "t3", "recurrence": {"rule": "FREQ=DAILY"}}}, 400, None),
        ({"op": "delete", "id": "t99"}, 400, None),
        ({"op": "move", "id": "t1", "body": {"after": "t1"}}, 400, None),
    ]
    before = alice.client.get(f"/{alice.id}/changes").json()["next_since"]
    for refused, status, kind in refusals:
        response = _batch(alice, [*queue, refused, {"op": "delete", "id": old["id"]}])
        assert response.status_code == status, response.text
        problem = response.json()
        assert problem["operation"] == 16, problem
        assert problem["detail"].startswith(f"Operation 16 ({refused['op']}): ")
        assert problem["detail"].endswith(". Nothing in the batch was applied.")
        assert ".. Nothing" not in problem["detail"]
        if kind:
            assert problem["type"] == kind
        assert _count(db, alice) == 1
    bad = _batch(alice, [*queue, refusals[0][0]]).json()
    assert {(error["in"], error["field"]) for error in bad["errors"]} == {("body", "operations.16.body.title")}
    # Nothing applied is nothing in the feed either.
    assert alice.client.get(f"/{alice.id}/changes", params={"since": before}).json()["items"] == []


def test_envelope_mistakes_are_400s_naming_the_field(alice):
    cases = [
        ({"op": "create", "id": str(uuid.uuid4()), "body": {"title": "x"}}, "operations.0.id"),
        ({"op": "update", "body": {"title": "x"}}, "operations.0.id"),
        ({"op": "update", "id": "not a ref"}, "operations.0.id"),
        ({"op": "delete", "id": str(uuid.uuid4()), "body": {}}, "operations.0.body"),
        ({"op": "move", "id": str(uuid.uuid4()), "ref": "x", "body": {"after": None}}, "operations.0.ref"),
        ({"op": "create", "body": {"title": "x", "colour": "red"}}, "operations.0.body.colour"),
    ]
    for operation, field in cases:
        response = _batch(alice, [operation])
        assert response.status_code == 400, response.text
        assert field in {error["field"] for error in response.json()["errors"]}, response.json()
    twice = _batch(alice, [{"op": "create", "ref": "a", "body": {"title": "x"}}] * 2)
    assert twice.json()["errors"][0]["field"] == "operations.1.ref"
    assert _batch(alice, []).status_code == 400
    too_many = [{"op": "create", "body": {"title": "x"}}] * 101
    assert _batch(alice, too_many).status_code == 400


def test_every_id_in_a_batch_must_be_the_callers(alice, bob):
    bobs = bob.create("bob's")
    gone = bob.create("bob's trashed")
    assert bob.client.delete(f"/{bob.id}/tasks/{gone['id']}").status_code == 204
    mine = alice.create("mine")
    attempts = [
        ({"op": "update", "id": bobs["id"], "body": {"title": "mine now"}}, 403),
        ({"op": "complete", "id": bobs["id"]}, 403),
        ({"op": "delete", "id": bobs["id"]}, 403),
        ({"op": "move", "id": bobs["id"], "body": {"after": None}}, 403),
        ({"op": "restore", "id": gone["id"]}, 403),
        ({"op": "create", "body": {"title": "x", "parent_id": bobs["id"]}}, 400),
        ({"op": "move", "id": mine["id"], "body": {"after": bobs["id"]}}, 400),
    ]
    for attempt, status in attempts:
        response = _batch(alice, [{"op": "update", "id": mine["id"], "body": {"title": "changed"}}, attempt])
        assert response.status_code == status, response.text
        assert response.json()["operation"] == 1
    assert bob.client.get(f"/{bob.id}/tasks/{bobs['id']}").json()["title"] == "bob's"
    assert alice.client.get(f"/{alice.id}/tasks/{mine['id']}").json()["title"] == "mine"
    someone_elses = {"operations": [{"op": "complete", "id": bobs["id"]}]}
    assert alice.client.post(f"/{bob.id}/batch", json=someone_elses).status_code == 403


def test_quotas_and_recurrence_hold_inside_a_batch(alice, db):
    parent = alice.create("big")
    add_subtasks(db, alice.id, parent["id"], 99)
    steps = [{"op": "create", "body": {"title": f"step {n}", "parent_id": parent["id"]}} for n in range(2)]
    refused = _batch(alice, steps)
    assert refused.status_code == 409 and refused.json()["type"] == "urn:taskapi:problem:subtask-quota-exceeded"
    assert refused.json()["operation"] == 1
    assert alice.client.get(f"/{alice.id}/tasks/{parent['id']}").json()["subtasks"]["total"] == 99

    tomorrow = days_from_now(1)
    recurring = {"title": "standup", "due_at": instant(tomorrow), "recurrence": {"rule": "FREQ=DAILY"}}
    done = _applied(alice, [{"op": "create", "ref": "s", "body": recurring}, {"op": "complete", "id": "s"}])
    following = done["results"][1]["task"]["next_occurrence_id"]
    assert alice.client.get(f"/{alice.id}/tasks/{following}").json()["due_at"] == instant(tomorrow + timedelta(days=1))


def test_a_batch_is_one_event_and_one_change_per_task_in_order(alice, server: LiveServer):
    existing = alice.create("existing")
    since = alice.client.get(f"/{alice.id}/changes").json()["next_since"]
    operations = [{"op": "create", "ref": f"n{n}", "body": {"title": f"new {n}"}} for n in range(40)]
    operations += [{"op": "update", "id": existing["id"], "body": {"title": "edited"}}]
    operations += [{"op": "update", "id": "n0", "body": {"title": "edited too"}}, {"op": "delete", "id": "n1"}]
    with EventStream(server.url + "/api", alice.id, alice.token) as stream:
        assert stream.next()["event"] == "ready"
        answer = _applied(alice, operations)
        event = stream.next(timeout=3)
        assert event["event"] == "changes"
        assert len(event["data"]["changes"]) == 41, "one event carries the whole batch"
        with pytest.raises(AssertionError):
            stream.next(timeout=0.5)
    changes = alice.client.get(f"/{alice.id}/changes", params={"since": since, "limit": 100}).json()["items"]
    refs = answer["refs"]
    assert [change["id"] for change in changes] == [
        *(refs[f"n{n}"] for n in range(2, 40)),
        existing["id"],
        refs["n0"],
        refs["n1"],
    ]
    assert changes[-2]["task"]["title"] == "edited too" and changes[-1]["op"] == "delete"


@pytest.fixture
def limited(make_settings):
    with LiveServer(make_settings(rate_limit_per_minute=60, rate_limit_burst=10)) as server:
        yield server


def test_a_batch_counts_as_its_operations_against_the_rate_limit(limited, issuer):
    user = "rl" + uuid.uuid4().hex
    with limited.client(issuer.token(user)) as client:
        creates = [{"op": "create", "body": {"title": f"t{n}"}} for n in range(25)]
        answer = client.post(f"/{user}/batch", json={"operations": creates})
        assert answer.status_code == 200, "a batch larger than the burst is let through"
        after = client.get(f"/{user}/tasks")
        assert after.status_code == 429, "and the next request waits for what it used"
        assert int(after.headers["retry-after"]) >= 10


def test_batches_racing_single_writes_lose_no_update_and_keep_the_feed_exact(alice):
    tasks = [alice.create(f"task {n}") for n in range(5)]
    since = alice.client.get(f"/{alice.id}/changes").json()["next_since"]
    toggles = {task["id"]: 0 for task in tasks}

    async def race() -> list[httpx.Response]:
        headers = dict(alice.client.headers)
        async with httpx.AsyncClient(base_url=str(alice.client.base_url), headers=headers, timeout=30) as client:
            writes = []
            for round_ in range(6):
                batch = [{"op": "complete", "id": task["id"]} for task in tasks]
                batch += [{"op": "update", "id": tasks[0]["id"], "body": {"tags": [f"b{round_}"]}}]
                writes.append(client.post(f"/{alice.id}/batch", json={"operations": batch}))
                for task in tasks:
                    toggles[task["id"]] += 1
                for task in tasks[::2]:
                    writes.append(client.patch(f"/{alice.id}/tasks/{task['id']}/complete"))
                    toggles[task["id"]] += 1
            return await asyncio.gather(*writes)

    answers = asyncio.run(race())
    assert {answer.status_code for answer in answers} == {200}, [a.text for a in answers if a.status_code != 200]
    now = {task["id"]: alice.client.get(f"/{alice.id}/tasks/{task['id']}").json() for task in tasks}
    for task_id, count in toggles.items():
        assert now[task_id]["completed"] is (count % 2 == 1), "every toggle applied, none lost"
    changes = alice.client.get(f"/{alice.id}/changes", params={"since": since}).json()["items"]
    assert sorted(change["id"] for change in changes) == sorted(now)  # each task once
    assert {change["id"]: change["task"] for change in changes} == now  # in its latest state


def test_the_contracts_example_batch_is_applied(alice):
    spec = yaml.safe_load(SPEC_PATH.read_text())
    example = spec["paths"]["/{user_id}/batch"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    answer = _applied(alice, example["offline"]["value"]["operations"])
    trip, socks = answer["results"][0]["task"], answer["results"][1]["task"]
    assert (trip["priority"], trip["tags"], trip["subtasks"]) == ("high", ["travel"], {"open": 1, "total": 2})
    assert socks["completed"] is True
    steps = alice.client.get(f"/{alice.id}/tasks", params={"parent_id": trip["id"], "sort": "position"}).json()
    assert [task["title"] for task in steps["items"]] == ["socks", "charger"]
