"""Our outages (database, key server) are 503 problems with Retry-After, fast, and heal without a restart."""

import time
import uuid

from sqlalchemy import make_url as sa_url

from tests.support.issuer import Issuer, SigningKey
from tests.support.live_server import LiveServer


def _unavailable(response, started: float) -> None:
    assert time.monotonic() - started < 5, "a 503 must come within 5 seconds"
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["type"] == "urn:taskapi:problem:service-unavailable"


def test_database_stopped_is_503_and_service_recovers_when_it_returns(own_cluster, make_settings, issuer):
    with LiveServer(make_settings(database_url=own_cluster.database_url)) as server:
        client = server.client(issuer.token("survivor"))
        assert client.post("/survivor/tasks", json={"title": "before"}).status_code == 201

        own_cluster.stop()
        for request in (
            lambda: client.post("/survivor/tasks", json={"title": "during"}),
            lambda: client.get("/survivor/tasks"),
        ):
            started = time.monotonic()
            _unavailable(request(), started)

        own_cluster.start()
        assert client.post("/survivor/tasks", json={"title": "after"}).status_code == 201
        titles = [task["title"] for task in client.get("/survivor/tasks").json()["items"]]
        assert titles == ["after", "before"]


def test_unreachable_database_host_is_503_fast(make_settings, issuer):
    dead = "postgresql://nobody:secret@127.0.0.1:9/taskapi"
    with LiveServer(make_settings(database_url=dead)) as server, server.client(issuer.token("u1")) as client:
        started = time.monotonic()
        response = client.get("/u1/tasks")
        _unavailable(response, started)
        assert "secret" not in response.text and "127.0.0.1" not in response.text


def test_key_server_down_from_start_is_503_then_keys_arrive(make_settings):
    keys = Issuer()
    keys.down = True
    settings = make_settings(jwt_jwks_url=keys.url + "/api/auth/jwks", jwks_min_refetch_interval=0)
    try:
        with LiveServer(settings) as server, server.client(keys.token("u1")) as client:
            started = time.monotonic()
            _unavailable(client.get("/u1/tasks"), started)
            keys.down = False
            assert client.get("/u1/tasks").status_code == 200
            keys.down = True
            assert client.get("/u1/tasks").status_code == 200, "cached keys keep working"
            unknown = keys.token("u1", key=SigningKey("EdDSA", kid="rotated-in-while-down"))
            response = client.get("/u1/tasks", headers={"Authorization": f"Bearer {unknown}"})
            assert response.status_code == 401
    finally:
        keys.close()


def test_unknown_kids_refetch_at_most_once_per_interval(make_settings):
    keys = Issuer()
    settings = make_settings(jwt_jwks_url=keys.url + "/api/auth/jwks", jwks_min_refetch_interval=30)
    try:
        with LiveServer(settings) as server, server.client(keys.token("u1")) as client:
            assert client.get("/u1/tasks").status_code == 200
            fetches = keys.fetches
            for n in range(5):
                stranger = keys.token("u1", key=SigningKey("EdDSA", kid=f"stranger-{n}"))
                response = client.get("/u1/tasks", headers={"Authorization": f"Bearer {stranger}"})
                assert response.status_code == 401
            assert keys.fetches - fetches <= 1
    finally:
        keys.close()


def test_rotated_key_is_picked_up_on_first_sight(make_settings):
    keys = Issuer()
    settings = make_settings(jwt_jwks_url=keys.url + "/api/auth/jwks", jwks_min_refetch_interval=0)
    try:
        with LiveServer(settings) as server, server.client(keys.token("u1")) as client:
            assert client.get("/u1/tasks").status_code == 200
            keys.keys.insert(0, SigningKey("EdDSA"))
            rotated = keys.token("u1")
            assert client.get("/u1/tasks", headers={"Authorization": f"Bearer {rotated}"}).status_code == 200
    finally:
        keys.close()


def test_connections_killed_server_side_are_replaced_unnoticed(alice, db):
    alice.create("before")
    # Waits (up to 5 s) until each backend has exited: a connection killed while a request is using it is
    # a failed request under any liveness check; these died while idle in the pool.
    killed = db.execute(
        "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    ).fetchone()[0]
    assert killed >= 1
    for _ in range(3):
        assert alice.client.get(f"/{alice.id}/tasks").status_code == 200
    assert alice.client.post(f"/{alice.id}/tasks", json={"title": "after"}).status_code == 201


def test_a_stuck_query_frees_the_worker_with_a_503(make_settings, issuer, database_url, db):
    """statement_timeout comes from the service's role (migration 0003); this role gets a short one."""
    db.execute("DO $$ BEGIN CREATE ROLE impatient LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    db.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO impatient")
    db.execute("ALTER ROLE impatient SET statement_timeout = '1s'")
    impatient_url = sa_url(database_url).set(username="impatient").render_as_string(hide_password=False)
    with (
        LiveServer(make_settings(database_url=impatient_url)) as server,
        server.client(issuer.token("stuck")) as client,
    ):
        task = client.post("/stuck/tasks", json={"title": "locked"}).json()
        with db.transaction():
            db.execute("SELECT 1 FROM tasks WHERE id = %s FOR UPDATE", (task["id"],))
            started = time.monotonic()
            blocked = client.put(f"/stuck/tasks/{task['id']}", json={"title": "waits for the lock"})
            _unavailable(blocked, started)
            assert "took too long" in blocked.json()["detail"]
            assert client.get(f"/stuck/tasks/{task['id']}").status_code == 200, "the worker serves others"
        assert client.get(f"/stuck/tasks/{task['id']}").json()["title"] == "locked", "nothing was changed"


def test_requests_queue_for_a_connection_in_order_then_get_a_503(make_settings, issuer, db):
    """With every pooled connection busy, requests wait their turn (first come, first served) for up to
    DB_POOL_TIMEOUT, then get a 503 that says nothing was changed."""
    import concurrent.futures

    user = "queued" + uuid.uuid4().hex
    settings = make_settings(db_pool_size=1, db_pool_timeout=1.5)
    with LiveServer(settings) as server, server.client(issuer.token(user)) as client:
        task = client.post(f"/{user}/tasks", json={"title": "locked"}).json()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            with db.transaction():
                db.execute("SELECT 1 FROM tasks WHERE id = %s FOR UPDATE", (task["id"],))
                # Holds the only connection, waiting for the row lock.
                blocked = pool.submit(client.put, f"/{user}/tasks/{task['id']}", json={"title": "after the lock"})
                time.sleep(0.3)
                started = time.monotonic()
                overloaded = client.get(f"/{user}/tasks")
                waited = time.monotonic() - started
                assert 1.4 < waited < 5, waited
                _unavailable(overloaded, started)
                assert "overloaded" in overloaded.json()["detail"]
                queued = []
                for n in range(3):
                    queued.append(pool.submit(client.post, f"/{user}/tasks", json={"title": f"queued {n}"}))
                    time.sleep(0.1)  # so that they arrive in this order
            assert blocked.result().status_code == 200, blocked.result().text
            assert [future.result().status_code for future in queued] == [201, 201, 201]
    rows = db.execute("SELECT title FROM tasks WHERE user_id = %s AND id <> %s ORDER BY created_at", (user, task["id"]))
    created = [title for (title,) in rows]
    assert created == ["queued 0", "queued 1", "queued 2"], "served in the order they arrived"


def test_a_cold_database_is_retried_on_connect(make_settings, issuer, through_flaky_proxy):
    proxy, url = through_flaky_proxy(refusals=2)
    with LiveServer(make_settings(database_url=url)) as server, server.client(issuer.token("cold")) as client:
        started = time.monotonic()
        assert client.post("/cold/tasks", json={"title": "first after sleep"}).status_code == 201
        assert time.monotonic() - started < 5
    assert proxy.attempts >= 3, "two refused attempts, then one that worked"


def test_a_write_cut_off_midway_is_not_sent_again(make_settings, issuer, through_flaky_proxy, db):
    """A plain create is one statement (autocommit): cut off once sent, it may or may not have been applied,
    which is why creates take an Idempotency-Key; it is never sent a second time."""
    user = "cut" + uuid.uuid4().hex
    proxy, url = through_flaky_proxy(cut_after=b"INSERT INTO tasks")
    with LiveServer(make_settings(database_url=url)) as server, server.client(issuer.token(user)) as client:
        started = time.monotonic()
        _unavailable(client.post(f"/{user}/tasks", json={"title": "cut off"}), started)
        assert proxy.cuts == 1
        assert client.post(f"/{user}/tasks", json={"title": "next one"}).status_code == 201
    titles = [title for (title,) in db.execute("SELECT title FROM tasks WHERE user_id = %s", (user,))]
    assert titles.count("next one") == 1
    assert titles.count("cut off") <= 1, "the cut-off write was resent"


def test_a_transaction_cut_off_midway_leaves_nothing_and_its_key_retries(
    make_settings, issuer, through_flaky_proxy, db
):
    """A create with an Idempotency-Key is a transaction (key, task, answer): cut off before COMMIT, none of
    it stays, and retrying with the same key creates the task exactly once."""
    user = "cut" + uuid.uuid4().hex
    proxy, url = through_flaky_proxy(cut_after=b"INSERT INTO tasks")
    headers = {"Idempotency-Key": "cut-" + uuid.uuid4().hex}
    with LiveServer(make_settings(database_url=url)) as server, server.client(issuer.token(user)) as client:
        started = time.monotonic()
        _unavailable(client.post(f"/{user}/tasks", json={"title": "cut off"}, headers=headers), started)
        assert proxy.cuts == 1
        assert db.execute("SELECT count(*) FROM idempotency_keys WHERE user_id = %s", (user,)).fetchone()[0] == 0
        retried = client.post(f"/{user}/tasks", json={"title": "cut off"}, headers=headers)
        assert retried.status_code == 201, retried.text
        assert client.post(f"/{user}/tasks", json={"title": "cut off"}, headers=headers).json() == retried.json()
    titles = [title for (title,) in db.execute("SELECT title FROM tasks WHERE user_id = %s", (user,))]
    assert titles == ["cut off"], "the cut-off transaction left a task behind, or the retry made a second"
