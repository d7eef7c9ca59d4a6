"""Read replicas (issue 30): against a real streaming replica of a primary of its own (tests/support/replica.py),
two workers (two live services on the same databases). A user's own changes are always read back, whichever
worker made them, even with the replica's replay paused; other users keep reading on the replica; a replica that
stops or stops answering costs no failed request. With TEST_VIA_PGBOUNCER=1 (make test-pooler), the services
reach both servers through PgBouncer in transaction mode."""

import os
import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import REGISTRY

from taskapi.db.embedded import DATA_DIR
from tests.conftest import User
from tests.support.flaky_proxy import FlakyProxy, postgres_socket, proxied_url
from tests.support.issuer import METRICS_TOKEN
from tests.support.live_server import LiveServer
from tests.support.replica import StreamingReplica, streaming_replica


def served_by_replica() -> float:
    return REGISTRY.get_sample_value("taskapi_replica_reads_total", {"replica": "1"}) or 0


def fallbacks(reason: str) -> float:
    return REGISTRY.get_sample_value("taskapi_replica_fallbacks_total", {"reason": reason}) or 0


@pytest.fixture(scope="module")
def replicated() -> Iterator[StreamingReplica]:
    with streaming_replica() as replica:
        yield replica


@pytest.fixture(scope="module")
def service_urls(replicated) -> Iterator[tuple[str, str]]:
    """(DATABASE_URL, DATABASE_URL_REPLICAS) as the services see them: through PgBouncer in `make test-pooler`."""
    if not os.environ.get("TEST_VIA_PGBOUNCER"):
        yield replicated.primary_url, replicated.url
        return
    from tests.support.pgbouncer import start_pgbouncer

    bouncers = [
        start_pgbouncer(url, DATA_DIR / f"pgbouncer-{name}")
        for name, url in (("replicated", replicated.primary_url), ("replica", replicated.url))
    ]
    yield bouncers[0][1], bouncers[1][1]
    for process, _ in bouncers:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def workers(make_settings, replicated, service_urls) -> Iterator[tuple[LiveServer, LiveServer]]:
    primary, replicas = service_urls
    settings = make_settings(
        database_url=primary, database_url_direct=replicated.primary_url, database_url_replicas=replicas
    )
    with LiveServer(settings) as first, LiveServer(settings) as second:
        yield first, second


@pytest.fixture
def person(workers, issuer) -> Iterator[tuple[User, object]]:
    """A user, and a client of theirs on the second worker (the first is `user.client`)."""
    first, second = workers
    user = User(first, issuer)
    other = second.client(user.token)
    yield user, other
    user.client.close()
    other.close()


@pytest.fixture
def paused(replicated) -> Iterator[StreamingReplica]:
    replicated.catch_up()
    replicated.pause()
    yield replicated
    replicated.resume()


def titles(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [task["title"] for task in response.json()["items"]]


def test_a_users_own_changes_are_read_back_on_another_worker_while_the_replica_replays_nothing(paused, person):
    alice, on_the_other_worker = person
    behind = fallbacks("behind")
    task = alice.create("Written on the first worker", tags=["home"])
    path = f"/{alice.id}/tasks"

    assert titles(on_the_other_worker.get(path)) == ["Written on the first worker"]
    assert on_the_other_worker.get(f"{path}/{task['id']}").json()["title"] == "Written on the first worker"
    assert on_the_other_worker.get(f"/{alice.id}/summary").json()["open"] == 1
    assert on_the_other_worker.get(f"/{alice.id}/tags").json()["items"] == [{"name": "home", "open": 1, "total": 1}]
    feed = on_the_other_worker.get(f"/{alice.id}/changes").json()
    assert [change["id"] for change in feed["items"]] == [task["id"]]

    renamed = alice.client.put(f"{path}/{task['id']}", json={"title": "Renamed"})
    assert renamed.status_code == 200
    assert titles(on_the_other_worker.get(path)) == ["Renamed"]

    assert alice.client.delete(f"{path}/{task['id']}").status_code == 204
    assert titles(on_the_other_worker.get(path)) == []
    trash = on_the_other_worker.get(f"/{alice.id}/trash").json()["items"]
    assert [item["task"]["id"] for item in trash] == [task["id"]]
    # Destroying in the trash takes no change number: the trash's own count row says it happened.
    assert alice.client.delete(f"/{alice.id}/trash/{task['id']}").status_code == 204
    assert on_the_other_worker.get(f"/{alice.id}/trash").json()["items"] == []

    listed = alice.client.post(f"/{alice.id}/lists", json={"name": "Errands"}).json()
    assert [found["id"] for found in on_the_other_worker.get(f"/{alice.id}/lists").json()["items"]] == [listed["id"]]
    assert on_the_other_worker.get(f"/{alice.id}/lists/{listed['id']}").status_code == 200
    assert fallbacks("behind") > behind


def test_other_users_keep_reading_on_the_replica_while_one_writes(replicated, workers, issuer):
    first, second = workers
    bob, carol = User(first, issuer), User(first, issuer)
    bob.create("Bob's task")
    replicated.catch_up()
    replicated.pause()
    try:
        carol.create("Carol writes while the replica replays nothing")
        bob_elsewhere = second.client(bob.token)
        before = served_by_replica()
        assert titles(bob_elsewhere.get(f"/{bob.id}/tasks")) == ["Bob's task"]
        assert bob_elsewhere.get(f"/{bob.id}/summary").json()["open"] == 1
        assert served_by_replica() == before + 2
        assert titles(carol.client.get(f"/{carol.id}/tasks")) == ["Carol writes while the replica replays nothing"]
        assert served_by_replica() == before + 2
    finally:
        replicated.resume()
    # Once replayed, Carol's reads go to the replica again.
    replicated.catch_up()
    assert titles(carol.client.get(f"/{carol.id}/tasks")) == ["Carol writes while the replica replays nothing"]
    assert served_by_replica() == before + 3
    exposition = httpx.get(first.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    assert 'taskapi_replica_reads_total{replica="1"}' in exposition
    assert 'taskapi_replica_fallbacks_total{reason="behind"}' in exposition


def test_a_stopped_replica_costs_no_failed_request_and_is_used_again_once_back(replicated, person):
    alice, on_the_other_worker = person
    task = alice.create("Still here")
    replicated.catch_up()
    unavailable = fallbacks("unavailable") + fallbacks("failed")
    replicated.stop()
    try:
        for _ in range(20):
            assert titles(on_the_other_worker.get(f"/{alice.id}/tasks")) == ["Still here"]
            assert on_the_other_worker.get(f"/{alice.id}/tasks/{task['id']}").status_code == 200
        assert fallbacks("unavailable") + fallbacks("failed") > unavailable
    finally:
        replicated.start()
    replicated.catch_up()
    # PgBouncer (make test-pooler) waits its server_login_retry, 15 s, before it connects to a server that failed.
    before, deadline = served_by_replica(), time.monotonic() + 20
    while served_by_replica() == before:
        assert time.monotonic() < deadline, "the replica was not used again once back"
        assert titles(on_the_other_worker.get(f"/{alice.id}/tasks")) == ["Still here"]
        time.sleep(0.1)


def test_a_replica_that_stops_answering_moves_reads_to_the_primary_within_a_second(replicated, make_settings, issuer):
    proxy = FlakyProxy(postgres_socket(replicated.url))
    settings = make_settings(
        database_url=replicated.primary_url,
        database_url_direct=replicated.primary_url,
        database_url_replicas=proxied_url(proxy, replicated.url),
    )
    try:
        with LiveServer(settings) as server:
            user = User(server, issuer)
            user.create("Answered however the replica behaves")
            replicated.catch_up()
            before = served_by_replica()
            assert titles(user.client.get(f"/{user.id}/tasks")) == ["Answered however the replica behaves"]
            assert served_by_replica() == before + 1
            proxy.stall()  # its connections forward nothing from now on, and stay open
            for _ in range(5):
                started = time.monotonic()
                assert titles(user.client.get(f"/{user.id}/tasks")) == ["Answered however the replica behaves"]
                assert time.monotonic() - started < 1.0
            user.client.close()
    finally:
        proxy.close()
