"""Trash and undo: a delete moves a task to the trash, restore brings it back exactly, destroy and the sweep end it."""

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from prometheus_client import REGISTRY

from taskapi.db.session import make_engine
from taskapi.sync.purge import purge
from tests.support.issuer import SHARED_SECRET
from tests.support.live_server import LiveServer
from tests.support.sweep import sweep_now

BACKEND = Path(__file__).resolve().parents[2]


def _trash(user) -> list[dict]:
    response = user.client.get(f"/{user.id}/trash")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_delete_then_undo_brings_the_task_back_exactly(alice):
    task = alice.create("Pay rent", tags=["home"], priority="high", due_at="2026-12-01T09:00:00Z")
    before = alice.client.get(f"/{alice.id}/tasks/{task['id']}")

    assert alice.client.delete(f"/{alice.id}/tasks/{task['id']}").status_code == 204
    gone = alice.client.get(f"/{alice.id}/tasks/{task['id']}")
    assert gone.status_code == 404 and "in your trash" in gone.json()["detail"]
    assert alice.client.put(f"/{alice.id}/tasks/{task['id']}", json={"title": "x"}).status_code == 404
    assert alice.client.get(f"/{alice.id}/tasks").json()["items"] == []
    assert alice.client.get(f"/{alice.id}/summary").json()["total"] == 0
    assert alice.client.get(f"/{alice.id}/tags").json()["items"] == []
    (trashed,) = _trash(alice)
    assert trashed["task"] == task and trashed["deleted_at"].endswith("Z")

    restored = alice.client.post(f"/{alice.id}/trash/{task['id']}/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json() == before.json()
    assert restored.headers["etag"] == before.headers["etag"]
    assert _trash(alice) == []
    assert [t["id"] for t in alice.client.get(f"/{alice.id}/tasks").json()["items"]] == [task["id"]]
    # An Undo pressed twice answers the same.
    again = alice.client.post(f"/{alice.id}/trash/{task['id']}/restore")
    assert again.status_code == 200 and again.json() == before.json()


def test_destroy_and_empty_end_it_for_good(alice, db):
    kept, destroyed, emptied = (alice.create(title)["id"] for title in ("kept", "destroyed", "emptied"))
    for task_id in (destroyed, emptied):
        assert alice.client.delete(f"/{alice.id}/tasks/{task_id}").status_code == 204

    assert alice.client.delete(f"/{alice.id}/trash/{destroyed}").status_code == 204
    assert alice.client.delete(f"/{alice.id}/trash/{destroyed}").status_code == 404
    assert alice.client.post(f"/{alice.id}/trash/{destroyed}/restore").status_code == 404
    # A live task is not in the trash: destroying it is a 404, and it stays.
    assert alice.client.delete(f"/{alice.id}/trash/{kept}").status_code == 404
    assert alice.client.get(f"/{alice.id}/tasks/{kept}").status_code == 200

    assert alice.client.delete(f"/{alice.id}/trash").status_code == 204
    assert alice.client.delete(f"/{alice.id}/trash").status_code == 204
    assert _trash(alice) == []
    stored = db.execute(
        "SELECT count(*) FROM trashed_tasks WHERE id = ANY(%s)", ([uuid.UUID(destroyed), uuid.UUID(emptied)],)
    ).fetchone()
    assert stored == (0,)


def test_trash_pages_most_recently_deleted_first(alice, bob):
    ids = [alice.create(f"task {n}")["id"] for n in range(5)]
    for task_id in ids:
        assert alice.client.delete(f"/{alice.id}/tasks/{task_id}").status_code == 204
    seen, cursor = [], None
    while True:
        page = alice.client.get(f"/{alice.id}/trash", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        seen += [item["task"]["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
        # Someone else's trash cursor, or an edited one, is a 400.
        assert bob.client.get(f"/{bob.id}/trash", params={"cursor": cursor}).status_code == 400
        assert alice.client.get(f"/{alice.id}/trash", params={"cursor": cursor[:-2] + "xx"}).status_code == 400
    assert seen == ids[::-1]


def test_someone_elses_trash_is_403_and_an_unknown_task_404(alice, bob):
    task_id = alice.create()["id"]
    assert alice.client.delete(f"/{alice.id}/tasks/{task_id}").status_code == 204
    for method, path in (
        ("POST", f"/{bob.id}/trash/{task_id}/restore"),
        ("DELETE", f"/{bob.id}/trash/{task_id}"),
        ("GET", f"/{bob.id}/tasks/{task_id}"),
        ("DELETE", f"/{bob.id}/tasks/{task_id}"),
    ):
        answer = bob.client.request(method, path)
        assert answer.status_code == 403, (method, path, answer.text)
    for method, path in (
        ("GET", f"/{alice.id}/trash"),
        ("DELETE", f"/{alice.id}/trash"),
        ("POST", f"/{alice.id}/trash/{task_id}/restore"),
        ("DELETE", f"/{alice.id}/trash/{task_id}"),
    ):
        assert bob.client.request(method, path).status_code == 403, (method, path)
    unknown = uuid.uuid4()
    assert bob.client.post(f"/{bob.id}/trash/{unknown}/restore").status_code == 404
    assert bob.client.delete(f"/{bob.id}/trash/{unknown}").status_code == 404
    assert len(_trash(alice)) == 1


def test_a_restore_beyond_the_quota_is_a_409_and_keeps_the_task_in_the_trash(make_settings, issuer, db):
    user = "trashquota" + uuid.uuid4().hex
    with LiveServer(make_settings(max_tasks_per_user=2)) as server, server.client(issuer.token(user)) as client:
        first = client.post(f"/{user}/tasks", json={"title": "first"}).json()["id"]
        assert client.delete(f"/{user}/tasks/{first}").status_code == 204
        for title in ("second", "third"):
            assert client.post(f"/{user}/tasks", json={"title": title}).status_code == 201
        refused = client.post(f"/{user}/trash/{first}/restore")
        assert refused.status_code == 409 and refused.json()["limit"] == 2
        assert [item["task"]["id"] for item in client.get(f"/{user}/trash").json()["items"]] == [first]


def _age_trash(db, user_id: str, days: float) -> None:
    db.execute(
        "UPDATE trashed_tasks SET deleted_at = now() - make_interval(secs => %s) WHERE user_id = %s",
        (days * 86400, user_id),
    )


def test_purge_destroys_expired_trash_and_old_idempotency_keys(alice, bob, db, make_settings):
    old, recent = alice.create("old")["id"], alice.create("recent")["id"]
    for task_id in (old, recent):
        assert alice.client.delete(f"/{alice.id}/tasks/{task_id}").status_code == 204
    _age_trash(db, alice.id, 31)
    db.execute("UPDATE trashed_tasks SET deleted_at = now() WHERE id = %s", (uuid.UUID(recent),))
    for key in ("stale", "fresh"):
        response = bob.client.post(f"/{bob.id}/tasks", json={"title": key}, headers={"Idempotency-Key": key})
        assert response.status_code == 201
    db.execute(
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = %s AND key = 'stale'",
        (bob.id,),
    )

    removed = sweep_now(make_settings)
    assert removed["expired_trash"] >= 1 and removed["idempotency_keys"] >= 1
    assert [item["task"]["id"] for item in _trash(alice)] == [recent]
    keys = db.execute("SELECT key FROM idempotency_keys WHERE user_id = %s", (bob.id,)).fetchall()
    assert keys == [("fresh",)]


def _trashed_count(db, user_id: str) -> int:
    row = db.execute("SELECT trashed FROM trash_counts WHERE user_id = %s", (user_id,)).fetchone()
    return row[0] if row else 0


def test_a_trash_keeps_at_most_the_quota_newest_first(alice, db, make_settings):
    ids = [alice.create(f"task {n}")["id"] for n in range(5)]
    for task_id in ids:
        assert alice.client.delete(f"/{alice.id}/tasks/{task_id}").status_code == 204
    try:
        # Issue 18, item 13: a lowered quota destroys no recent trash by itself...
        sweep_now(make_settings)
        sweep_now(make_settings, max_tasks_per_user=3)
        assert len(_trash(alice)) == 5
        # ...only when the operator applies it (make purge APPLY_LOWER_TRASH_LIMIT=1), and from then on.
        sweep_now(make_settings, max_tasks_per_user=3, apply_lower_trash_limit=True)
        assert [item["task"]["id"] for item in _trash(alice)] == [ids[4], ids[3], ids[2]]
        more = [alice.create(f"more {n}")["id"] for n in range(2)]
        for task_id in more:
            assert alice.client.delete(f"/{alice.id}/tasks/{task_id}").status_code == 204
        sweep_now(make_settings, max_tasks_per_user=3)
        assert [item["task"]["id"] for item in _trash(alice)] == [more[1], more[0], ids[4]]
        assert _trashed_count(db, alice.id) == 3
    finally:
        sweep_now(make_settings)  # the default limit in force again (a higher limit applies by itself)


def test_trash_counts_follow_every_move(alice, db):
    ids = [alice.create(f"task {n}")["id"] for n in range(4)]
    for task_id in ids:
        assert alice.client.delete(f"/{alice.id}/tasks/{task_id}").status_code == 204
    assert _trashed_count(db, alice.id) == 4
    assert alice.client.post(f"/{alice.id}/trash/{ids[0]}/restore").status_code == 200
    assert alice.client.delete(f"/{alice.id}/trash/{ids[1]}").status_code == 204
    assert _trashed_count(db, alice.id) == 2
    assert alice.client.delete(f"/{alice.id}/trash").status_code == 204
    assert _trashed_count(db, alice.id) == 0


def test_one_kind_of_sweep_failing_leaves_the_others_running(alice, db, make_settings):
    task_id = alice.create("expired")["id"]
    assert alice.client.delete(f"/{alice.id}/tasks/{task_id}").status_code == 204
    _age_trash(db, alice.id, 31)
    failures = REGISTRY.get_sample_value("taskapi_sweep_failures_total", {"kind": "idempotency_keys"}) or 0
    db.execute("ALTER TABLE idempotency_keys RENAME TO idempotency_keys_away")
    try:
        removed = sweep_now(make_settings)
    finally:
        db.execute("ALTER TABLE idempotency_keys_away RENAME TO idempotency_keys")
    assert "idempotency_keys" not in removed
    assert removed["expired_trash"] >= 1 and "forgotten_deletions" in removed and "expired_listeners" in removed
    assert _trash(alice) == []
    assert REGISTRY.get_sample_value("taskapi_sweep_failures_total", {"kind": "idempotency_keys"}) == failures + 1


def test_one_worker_sweeps_a_period_however_many_try(make_settings, db):
    db.execute("DELETE FROM maintenance_runs WHERE job = 'purge'")
    settings = make_settings()

    async def race():
        engines = [make_engine(settings) for _ in range(4)]
        try:
            return await asyncio.gather(*(purge(engine, settings, when_due=True) for engine in engines))
        finally:
            for engine in engines:
                await engine.dispose()

    results = asyncio.run(race())
    assert sum(result is not None for result in results) == 1
    # The period is claimed: a later attempt within it does nothing.
    assert asyncio.run(race()) == [None] * 4


def test_the_service_sweeps_by_itself(make_settings, issuer, db):
    user = "sweep" + uuid.uuid4().hex
    db.execute("DELETE FROM maintenance_runs WHERE job = 'purge'")
    with LiveServer(make_settings(purge_interval_seconds=1)) as server, server.client(issuer.token(user)) as client:
        task_id = client.post(f"/{user}/tasks", json={"title": "swept"}).json()["id"]
        assert client.delete(f"/{user}/tasks/{task_id}").status_code == 204
        _age_trash(db, user, 31)
        deadline = time.monotonic() + 10
        while client.get(f"/{user}/trash").json()["items"]:
            assert time.monotonic() < deadline, "the trash was not swept"
            time.sleep(0.2)


def test_purge_command(alice, db, direct_database_url):
    task_id = alice.create("expired")["id"]
    assert alice.client.delete(f"/{alice.id}/tasks/{task_id}").status_code == 204
    _age_trash(db, alice.id, 2)
    env = {
        **os.environ,
        "DATABASE_URL": direct_database_url,
        "BETTER_AUTH_SECRET": SHARED_SECRET,
        "TRASH_RETENTION_DAYS": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "taskapi.cli", "purge"], cwd=BACKEND, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "expired trash:" in done.stdout
    assert _trash(alice) == []


def test_the_trash_holds_every_column_of_a_task(db):
    """A column added to `tasks` must be added to the trash too, or a restore would lose it."""

    def columns(name: str) -> set[tuple[str, str]]:
        rows = db.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s", (name,)
        ).fetchall()
        return set(rows)

    assert columns("trashed_tasks") == (columns("tasks") - {("search", "tsvector")}) | {
        ("deleted_at", "timestamp with time zone"),
        ("deleted_with_list", "boolean"),
        ("deleted_with_parent", "boolean"),
    }
