"""Safe concurrent edits (ETag, If-Match, If-None-Match) and safe retries (Idempotency-Key), really concurrent."""

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url


def _async_client(user) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=str(user.client.base_url), headers=dict(user.client.headers), timeout=10)


def _etag_of(user, task) -> str:
    response = user.client.get(f"/{user.id}/tasks/{task['id']}")
    return response.headers["etag"]


def test_every_task_answer_carries_an_etag_that_changes_with_every_change(alice):
    created = alice.client.post(f"/{alice.id}/tasks", json={"title": "tagged"})
    path = f"/{alice.id}/tasks/{created.json()['id']}"
    tags = [created.headers["etag"], alice.client.get(path).headers["etag"]]
    assert tags[0] == tags[1] and tags[0].startswith('"')
    tags.append(alice.client.put(path, json={"title": "retagged"}).headers["etag"])
    tags.append(alice.client.patch(path + "/complete").headers["etag"])
    tags.append(alice.client.put(path, json={"title": "retagged"}).headers["etag"])
    assert len(set(tags[1:])) == 4, "each change, even to the same value, makes a new tag"


def test_if_none_match_answers_304_until_the_task_changes(alice):
    task = alice.create("cached")
    path = f"/{alice.id}/tasks/{task['id']}"
    tag = _etag_of(alice, task)
    not_modified = alice.client.get(path, headers={"If-None-Match": tag})
    assert not_modified.status_code == 304 and not_modified.content == b"" and not_modified.headers["etag"] == tag
    assert alice.client.get(path, headers={"If-None-Match": f'"other", W/{tag}'}).status_code == 304
    assert alice.client.get(path, headers={"If-None-Match": "*"}).status_code == 304
    alice.client.put(path, json={"title": "changed"})
    assert alice.client.get(path, headers={"If-None-Match": tag}).status_code == 200


def test_stale_if_match_is_412_and_changes_nothing(alice, db):
    task = alice.create("original")
    path = f"/{alice.id}/tasks/{task['id']}"
    stale = _etag_of(alice, task)
    alice.client.put(path, json={"title": "someone else's edit"})
    for response in (
        alice.client.put(path, json={"title": "lost update"}, headers={"If-Match": stale}),
        alice.client.patch(path + "/complete", headers={"If-Match": stale}),
        alice.client.delete(path, headers={"If-Match": stale}),
        alice.client.put(path, json={"title": "weak"}, headers={"If-Match": "W/" + _etag_of(alice, task)}),
        alice.client.put(path, json={"title": "garbage"}, headers={"If-Match": "garbage"}),
        # A version no task can reach: past what the database's version column holds.
        alice.client.put(
            path, json={"title": "huge"}, headers={"If-Match": f'"{task["id"][:8]}-99999999999999999999"'}
        ),
        alice.client.delete(path, headers={"If-Match": f'"{task["id"][:8]}-2147483648"'}),
    ):
        assert response.status_code == 412, response.text
        assert response.json()["type"] == "urn:taskapi:problem:precondition-failed"
    row = db.execute("SELECT title, completed FROM tasks WHERE id = %s", (task["id"],)).fetchone()
    assert row == ("someone else's edit", False)


def test_current_if_match_succeeds(alice, db):
    task = alice.create("original")
    path = f"/{alice.id}/tasks/{task['id']}"
    updated = alice.client.put(path, json={"title": "mine"}, headers={"If-Match": _etag_of(alice, task)})
    assert updated.status_code == 200
    completed = alice.client.patch(path + "/complete", headers={"If-Match": f'"x", {updated.headers["etag"]}'})
    assert completed.status_code == 200
    assert alice.client.put(path, json={"title": "any"}, headers={"If-Match": "*"}).status_code == 200
    assert alice.client.delete(path, headers={"If-Match": _etag_of(alice, task)}).status_code == 204
    assert db.execute("SELECT count(*) FROM tasks WHERE id = %s", (task["id"],)).fetchone() == (0,)


def test_if_match_on_a_missing_or_foreign_task_is_404_or_403(alice, bob):
    foreign = bob.create("bob's")
    tag = _etag_of(bob, foreign)
    assert (
        alice.client.put(
            f"/{alice.id}/tasks/{foreign['id']}", json={"title": "x"}, headers={"If-Match": tag}
        ).status_code
        == 403
    )
    assert alice.client.delete(f"/{alice.id}/tasks/{uuid.uuid4()}", headers={"If-Match": tag}).status_code == 404


def test_two_editors_at_once_exactly_one_wins_and_nothing_is_lost(alice, db):
    async def race(task) -> list[httpx.Response]:
        tag = _etag_of(alice, task)
        async with _async_client(alice) as first, _async_client(alice) as second:
            return await asyncio.gather(
                first.put(f"/{alice.id}/tasks/{task['id']}", json={"title": "first"}, headers={"If-Match": tag}),
                second.put(
                    f"/{alice.id}/tasks/{task['id']}", json={"description": "second"}, headers={"If-Match": tag}
                ),
            )

    for round_ in range(10):
        task = alice.create(f"contended {round_}")
        responses = asyncio.run(race(task))
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200, 412], [response.text for response in responses]
        winner = next(response.json() for response in responses if response.status_code == 200)
        row = db.execute("SELECT title, description FROM tasks WHERE id = %s", (task["id"],)).fetchone()
        assert row == (winner["title"], winner["description"]), "the loser changed nothing"


def test_concurrent_toggles_without_if_match_are_all_applied(alice):
    """Without If-Match every toggle still applies atomically: an even count leaves the task as it was."""
    task = alice.create("toggled")

    async def toggle_many():
        async with _async_client(alice) as client:
            return await asyncio.gather(*(client.patch(f"/{alice.id}/tasks/{task['id']}/complete") for _ in range(10)))

    assert all(response.status_code == 200 for response in asyncio.run(toggle_many()))
    assert alice.client.get(f"/{alice.id}/tasks/{task['id']}").json()["completed"] is False


def _post(user, body, key):
    return user.client.post(f"/{user.id}/tasks", json=body, headers={"Idempotency-Key": key})


def test_retry_with_the_same_key_returns_the_original(alice, db):
    key = str(uuid.uuid4())
    first = _post(alice, {"title": "only once"}, key)
    alice.client.put(f"/{alice.id}/tasks/{first.json()['id']}", json={"title": "renamed since"})
    retry = _post(alice, {"title": "only once"}, key)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    assert db.execute("SELECT count(*) FROM tasks WHERE user_id = %s", (alice.id,)).fetchone() == (1,)


def test_same_key_with_another_body_is_422(alice, db):
    key = str(uuid.uuid4())
    assert _post(alice, {"title": "first body"}, key).status_code == 201
    response = _post(alice, {"title": "second body"}, key)
    assert response.status_code == 422
    assert response.json()["type"] == "urn:taskapi:problem:idempotency-key-reused"
    assert db.execute("SELECT count(*) FROM tasks WHERE user_id = %s", (alice.id,)).fetchone() == (1,)


def test_keys_are_per_user(alice, bob):
    key = str(uuid.uuid4())
    mine, theirs = _post(alice, {"title": "same"}, key), _post(bob, {"title": "same"}, key)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"] and theirs.json()["user_id"] == bob.id


def test_concurrent_retries_create_exactly_one_task(alice, db):
    key = str(uuid.uuid4())

    async def retries():
        async with _async_client(alice) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        f"/{alice.id}/tasks", json={"title": "stormy network"}, headers={"Idempotency-Key": key}
                    )
                    for _ in range(12)
                )
            )

    responses = asyncio.run(retries())
    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    assert db.execute("SELECT count(*) FROM tasks WHERE user_id = %s", (alice.id,)).fetchone() == (1,)


def test_a_key_older_than_a_day_makes_a_new_task(alice, db):
    key = str(uuid.uuid4())
    first = _post(alice, {"title": "yesterday"}, key).json()
    db.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = %s", (alice.id,))
    again = _post(alice, {"title": "today"}, key)
    assert again.status_code == 201 and again.json()["id"] != first["id"]


def test_malformed_idempotency_key_is_400(alice):
    response = _post(alice, {"title": "x"}, "has spaces in it")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "Idempotency-Key"


def _taken_places(log: Path) -> int:
    """How many statements the test cluster's log shows failing on a place another task had taken."""
    return log.read_text(errors="replace").count('violates unique constraint "uq_tasks_position"')


def test_one_users_concurrent_creates_each_take_a_place_at_the_first_try(alice, direct_database_url):
    """A create finds its place (first in its list) once it holds the user's lock (migration 0019): one user's
    concurrent creates never compute the same place, fail on the unique key, and run again."""
    log = Path(make_url(direct_database_url).query.get("host", "")) / "log"
    if not log.is_file():
        pytest.skip("needs the embedded cluster, whose log file lies in its data directory")
    before = _taken_places(log)

    async def create_all() -> list[httpx.Response]:
        async with _async_client(alice) as client:
            path = f"/{alice.id}/tasks"
            return await asyncio.gather(*(client.post(path, json={"title": f"burst {n}"}) for n in range(40)))

    responses = asyncio.run(create_all())
    assert [response.status_code for response in responses] == [201] * 40
    assert _taken_places(log) == before, "creates failed on a place another had taken, and ran again"
    listed = alice.client.get(f"/{alice.id}/tasks", params={"sort": "position", "limit": 100}).json()["items"]
    assert len({task["position"] for task in listed}) == 40


def test_a_retry_of_a_create_with_a_pending_reminder_answers_without_a_server_error(alice):
    """The remembered answer holds the reminder as text: the retry tells nobody's clock of it (the create did)."""
    errors: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = errors.append
    logging.getLogger("uvicorn.error").addHandler(handler)
    try:
        key, remind_at = str(uuid.uuid4()), (datetime.now(UTC) + timedelta(days=2)).isoformat()
        first = _post(alice, {"title": "call mum", "remind_at": remind_at}, key)
        retry = _post(alice, {"title": "call mum", "remind_at": remind_at}, key)
        assert first.status_code == retry.status_code == 201 and retry.json() == first.json()
        assert alice.client.get(f"/{alice.id}/tasks/{first.json()['id']}").status_code == 200
    finally:
        logging.getLogger("uvicorn.error").removeHandler(handler)
    assert not errors, [record.getMessage() for record in errors]
