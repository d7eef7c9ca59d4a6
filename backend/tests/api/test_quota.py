"""MAX_TASKS_PER_USER: a create beyond it is a 409, never exceeded by concurrent creates; series go on."""

import concurrent.futures
import uuid

import pytest

from tests.support.live_server import LiveServer

LIMIT = 60


@pytest.fixture
def quota_server(make_settings):
    # Enough connections that the creates below reach Postgres at the same time.
    with LiveServer(make_settings(max_tasks_per_user=LIMIT, db_pool_size=40)) as server:
        yield server


def _user(quota_server, issuer, db, holding: int):
    user = "quota" + uuid.uuid4().hex
    db.execute("INSERT INTO tasks (user_id, title) SELECT %s, 'seed' FROM generate_series(1, %s)", (user, holding))
    return user, quota_server.client(issuer.token(user))


def _live(db, user: str) -> int:
    return db.execute("SELECT count(*) FROM tasks WHERE user_id = %s", (user,)).fetchone()[0]


def _assert_over_quota(response) -> None:
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["type"] == "urn:taskapi:problem:task-quota-exceeded"
    assert body["limit"] == LIMIT and str(LIMIT) in body["detail"]


def test_fifty_concurrent_creates_at_the_boundary_never_exceed_it(quota_server, issuer, db):
    user, client = _user(quota_server, issuer, db, holding=LIMIT - 30)
    with client, concurrent.futures.ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda n: client.post(f"/{user}/tasks", json={"title": f"race {n}"}), range(50)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * 30 + [409] * 20
    for answer in answers:
        if answer.status_code == 409:
            _assert_over_quota(answer)
    assert _live(db, user) == LIMIT


def test_at_the_limit_a_series_waits_for_room_and_storage_stays_bounded(quota_server, issuer, db):
    """Issue 18, item 8: completing a recurring task at the limit used to create its next occurrence anyway, so
    an account could grow without bound by completing each new occurrence. Now such a completion is a 409 that
    changes nothing, like a create; deleting makes room."""
    user, client = _user(quota_server, issuer, db, holding=LIMIT - 1)
    with client:
        weekly = {"rule": "FREQ=WEEKLY", "timezone": "UTC"}
        series = client.post(
            f"/{user}/tasks", json={"title": "water plants", "due_at": "2026-01-05T09:00:00Z", "recurrence": weekly}
        )
        assert series.status_code == 201, series.text
        _assert_over_quota(client.post(f"/{user}/tasks", json={"title": "one too many"}))
        keyed = {"Idempotency-Key": "quota-" + uuid.uuid4().hex}
        _assert_over_quota(client.post(f"/{user}/tasks", json={"title": "keyed"}, headers=keyed))

        task_path = f"/{user}/tasks/{series.json()['id']}"
        _assert_over_quota(client.patch(task_path + "/complete"))
        _assert_over_quota(client.put(task_path, json={"completed": True}))
        unchanged = client.get(task_path).json()
        assert unchanged == series.json()
        assert _live(db, user) == LIMIT, "nothing was changed"

        for task_id in db.execute("SELECT id FROM tasks WHERE user_id = %s AND title = 'seed' LIMIT 2", (user,)):
            assert client.delete(f"/{user}/tasks/{task_id[0]}").status_code == 204
        done = client.patch(task_path + "/complete")
        assert done.status_code == 200 and done.json()["next_occurrence_id"] is not None
        assert client.post(f"/{user}/tasks", json={"title": "keyed"}, headers=keyed).status_code == 201
        _assert_over_quota(client.post(f"/{user}/tasks", json={"title": "full again"}))
        following = f"/{user}/tasks/{done.json()['next_occurrence_id']}/complete"
        _assert_over_quota(client.patch(following))
    assert _live(db, user) == LIMIT


def test_other_users_are_not_limited_by_one_at_the_limit(quota_server, issuer, db):
    full, full_client = _user(quota_server, issuer, db, holding=LIMIT)
    other, other_client = _user(quota_server, issuer, db, holding=0)
    with full_client, other_client:
        _assert_over_quota(full_client.post(f"/{full}/tasks", json={"title": "no"}))
        assert other_client.post(f"/{other}/tasks", json={"title": "yes"}).status_code == 201
