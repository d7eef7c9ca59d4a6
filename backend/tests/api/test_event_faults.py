"""Live events through faults: streams on another worker, a database restart, foreign or missing notifications,
a silent listening connection, a client reconnecting while a write commits. No change is ever lost."""

import signal
import threading
import time
import uuid

import httpx
import psycopg
import pytest

from taskapi.db.session import sqlalchemy_url
from taskapi.sync.delivery import LOOK_SECONDS
from tests.support.event_stream import ENDED, EventStream, open_stream
from tests.support.issuer import SHARED_SECRET, hs256_token
from tests.support.live_server import LiveServer
from tests.support.service_process import start_service, worker_pids, worker_serving


def test_with_two_workers_an_event_reaches_streams_on_the_other_worker(database_url, direct_database_url):
    user = "workers" + uuid.uuid4().hex
    process, base = start_service(
        database_url, DATABASE_URL_DIRECT=direct_database_url, BETTER_AUTH_SECRET=SHARED_SECRET, WEB_CONCURRENCY="2"
    )
    token = hs256_token(user)
    try:
        workers = worker_pids(process.pid)
        port = int(base.split(":")[2].split("/")[0])
        streams, serving, tries = [], set(), 0
        while len(serving) < 2 and tries < 60:  # connections land on either worker: open until both serve one
            tries += 1
            stream = EventStream(base, user, token)
            if stream.status == 429:  # the worker that started first holds this user's most streams already
                stream.close()
                time.sleep(0.1)
                continue
            assert stream.status == 200 and stream.next(timeout=5)["event"] == "ready"
            streams.append(stream)
            serving.add(worker_serving(workers, port, stream.local_port))
        assert len(serving) == 2, "every stream landed on one worker"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
            task_id = client.post(f"/{user}/tasks", json={"title": "heard everywhere"}).json()["id"]
        for stream in streams:
            assert stream.next(timeout=1)["data"] == {"changes": [{"kind": "task", "id": task_id, "op": "upsert"}]}
        # SIGTERM: open streams end at once, and do not hold up the shutdown.
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        for stream in streams:
            assert stream.next(timeout=5) is ENDED
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - started < 5, "streams held the shutdown up"
    finally:
        for stream in streams:
            stream.close()
        if process.poll() is None:
            process.kill()


def test_the_listener_comes_back_after_the_database_restarts(own_cluster, make_settings, issuer):
    settings = make_settings(database_url=own_cluster.database_url, database_url_direct=own_cluster.database_url)
    user = "restart" + uuid.uuid4().hex
    with LiveServer(settings) as server, EventStream(server.url + "/api", user, issuer.token(user)) as stream:
        assert stream.next()["event"] == "ready"
        own_cluster.stop()
        own_cluster.start()
        with server.client(issuer.token(user)) as client:
            deadline = time.monotonic() + 10
            while (created := client.post(f"/{user}/tasks", json={"title": "after"})).status_code == 503:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert created.status_code == 201, created.text
        assert stream.next(timeout=1)["data"] == {
            "changes": [{"kind": "task", "id": created.json()["id"], "op": "upsert"}]
        }


@pytest.mark.parametrize("payload", ["x", "[]", '{"user_id": 1}', '{"seq": "a"}', "null"])
def test_a_foreign_notification_does_not_silence_the_listener(make_settings, issuer, db, payload):
    """Issue 18, item 10: a payload that is not the JSON the triggers send used to end the listener for good,
    while new streams still opened with `ready` and then heard nothing."""
    with LiveServer(make_settings()) as own:
        user = "ev" + uuid.uuid4().hex
        token = issuer.token(user)
        stream = EventStream(own.url + "/api", user, token)
        try:
            assert stream.next()["event"] == "ready"
            db.execute("SELECT pg_notify('task_changes', %s)", (payload,))
            with own.client(token) as client:
                created = client.post(f"/{user}/tasks", json={"title": "still heard"}).json()
            event = stream.next(timeout=2)
            assert event["event"] == "changes" and event["data"]["changes"][0]["id"] == created["id"]
        finally:
            stream.close()


def test_a_listening_connection_that_goes_silent_loses_no_change(make_settings, issuer, through_flaky_proxy):
    """Issue 18, item 10: a NAT or proxy that drops the LISTEN connection without closing it used to leave every
    stream deaf. Announcements do not come through it any more, but each worker looks at its users' change
    numbers every second: the change arrives all the same, and the connection is replaced."""
    proxy, listen_url = through_flaky_proxy()
    settings = make_settings(database_url_direct=listen_url, event_listen_timeout_seconds=2)
    with LiveServer(settings) as own:
        user = "ev" + uuid.uuid4().hex
        token = issuer.token(user)
        stream = EventStream(own.url + "/api", user, token)
        try:
            assert stream.next()["event"] == "ready"
            proxy.stall()
            with own.client(token) as client:
                for title in ("while deaf", "still deaf"):
                    started = time.monotonic()
                    created = client.post(f"/{user}/tasks", json={"title": title}).json()
                    event = stream.next(timeout=3)
                    assert event["data"]["changes"] == [{"kind": "task", "id": created["id"], "op": "upsert"}]
                    assert time.monotonic() - started < 2.5, "within a look at the change numbers"
        finally:
            stream.close()


def test_a_change_whose_announcement_never_comes_arrives_within_a_look(server, alice, db):
    """What a worker killed between its commit and its announcement leaves: a committed change nobody announced
    (written here straight to the database). Every worker streaming to its user finds it by looking at the user's
    change number, once a second (LOOK_SECONDS): the bound is that second plus one read of the feed."""
    task = alice.create("written before")
    with open_stream(server, alice) as stream:
        started = time.monotonic()
        db.execute("UPDATE tasks SET title = 'changed behind our back' WHERE id = %s", (task["id"],))
        event = stream.next(timeout=3)
        assert event["data"] == {"changes": [{"kind": "task", "id": task["id"], "op": "upsert"}]}
        assert time.monotonic() - started < LOOK_SECONDS + 1


def test_a_change_committing_while_a_client_reconnects_reaches_it(server, alice, db, direct_database_url):
    """A client reconnecting with Last-Event-ID hears of every change after it. Here a write takes its change number
    just after the stream read what the client missed, and commits a moment later: the stream's starting position
    must not pass over it. (The reading is held up by a lock on a table it reads, so that the write comes between.)"""
    with open_stream(server, alice) as stream:
        task = alice.create("seen")
        last_id = stream.next(timeout=1)["id"]
    url = sqlalchemy_url(direct_database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    opened: list[EventStream] = []
    with psycopg.connect(url) as locker, psycopg.connect(url) as writer:
        locker.execute("LOCK TABLE destroyed_tasks IN ACCESS EXCLUSIVE MODE")
        opener = threading.Thread(
            target=lambda: opened.append(EventStream(server.url + "/api", alice.id, alice.token, last_event_id=last_id))
        )
        opener.start()
        waiting = "SELECT count(*) FROM pg_locks WHERE relation = 'destroyed_tasks'::regclass AND NOT granted"
        deadline = time.monotonic() + 5
        while db.execute(waiting).fetchone()[0] == 0:
            assert time.monotonic() < deadline, "the stream never read what was missed"
            time.sleep(0.02)
        writer.execute("UPDATE tasks SET title = 'in flight' WHERE id = %s", (task["id"],))
        locker.commit()  # what was missed is read now, without the write in flight
        time.sleep(0.3)
        writer.commit()
        opener.join(timeout=5)
    with opened[0] as again:
        heard, deadline = [], time.monotonic() + LOOK_SECONDS + 1.5
        while time.monotonic() < deadline and not any(task["id"] in str(event["data"]) for event in heard):
            try:
                heard.append(again.next(timeout=0.2))
            except AssertionError:
                pass
        assert any(event["event"] == "changes" and task["id"] in str(event["data"]) for event in heard), heard
