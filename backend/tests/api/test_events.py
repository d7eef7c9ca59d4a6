"""Live events: a change reaches every open stream of its user within a second, from any worker; nothing else does."""

import json
import time
import uuid

import psycopg

from taskapi.db.session import sqlalchemy_url
from tests.support.event_stream import ENDED, EventStream, changes_since, open_stream
from tests.support.live_server import LiveServer
from tests.support.sweep import sweep_now


def test_a_change_is_an_event_whose_id_is_a_feed_position(server, alice, bob):
    with open_stream(server, alice) as stream, open_stream(server, bob) as bobs:
        started = time.monotonic()
        task = alice.create("seen live")
        event = stream.next(timeout=1)
        assert time.monotonic() - started < 1
        assert event["event"] == "changes"
        assert event["data"] == {"changes": [{"kind": "task", "id": task["id"], "op": "upsert"}]}
        assert changes_since(alice, event["id"]) == []

        assert alice.client.delete(f"/{alice.id}/tasks/{task['id']}").status_code == 204
        deleted = stream.next(timeout=1)
        assert deleted["data"] == {"changes": [{"kind": "task", "id": task["id"], "op": "delete"}]}
        assert changes_since(alice, event["id"]) == [{"kind": "task", "id": task["id"], "op": "delete", "task": None}]
        # Bob's stream heard nothing of Alice's tasks.
        bob.create("bob's own")
        assert bobs.next(timeout=1)["data"]["changes"][0]["op"] == "upsert"
        assert bobs.events.empty()


def test_someone_elses_events_are_403(server, alice, bob):
    with EventStream(server.url + "/api", alice.id, bob.token) as stream:
        assert stream.status == 403
        assert stream.problem()["type"] == "urn:taskapi:problem:forbidden"


def test_changes_are_announced_after_their_commit_and_only_for_users_someone_listens_to(
    server, alice, db, direct_database_url
):
    """NOTIFY serialises the commits of every notifying transaction database-wide (migration 0020): no write's
    transaction notifies; the worker announces after the commit, and only users with a stream open somewhere."""
    url = sqlalchemy_url(direct_database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute("LISTEN task_changes")

        def heard() -> list[dict]:
            payloads = [json.loads(notify.payload) for notify in listener.notifies(timeout=0.5)]
            return [payload for payload in payloads if alice.id in payload["users"]]

        alice.create("unheard")
        assert heard() == []
        with open_stream(server, alice):
            alice.create("heard")
            assert [payload["users"] for payload in heard()] == [[alice.id]]
    triggers = db.execute(
        "SELECT p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
        "WHERE t.tgrelid IN ('tasks'::regclass, 'trashed_tasks'::regclass, 'task_lists'::regclass) "
        "AND p.prosrc LIKE '%pg_notify%'"
    ).fetchall()
    assert triggers == [], "a write's own transaction notifies"


def test_no_event_for_a_change_that_was_rolled_back(server, alice):
    task = alice.create("due-less")
    with open_stream(server, alice) as stream:
        # The database refuses it: nothing committed, nothing announced.
        refused = alice.client.put(
            f"/{alice.id}/tasks/{task['id']}", json={"recurrence": {"rule": "FREQ=DAILY", "timezone": "UTC"}}
        )
        assert refused.status_code == 400, refused.text
        alice.client.put(f"/{alice.id}/tasks/{task['id']}", json={"title": "renamed"})
        event = stream.next(timeout=1)
        assert event["data"] == {"changes": [{"kind": "task", "id": task["id"], "op": "upsert"}]}
        time.sleep(0.3)
        assert stream.events.empty(), stream.events.get()


def test_reconnecting_with_last_event_id_is_told_at_once_what_it_missed(server, alice, bob):
    with open_stream(server, alice) as stream:
        alice.create("seen")
        last_id = stream.next(timeout=1)["id"]
    missed = [alice.create(f"missed {n}")["id"] for n in range(2)]
    with EventStream(server.url + "/api", alice.id, alice.token, last_event_id=last_id) as again:
        first = again.next(timeout=1)
        assert first["event"] == "changes"
        assert first["data"] == {"changes": [{"kind": "task", "id": task_id, "op": "upsert"} for task_id in missed]}
        assert again.next(timeout=1)["event"] == "ready"
    # Nothing missed: just `ready`.
    with EventStream(server.url + "/api", alice.id, alice.token, last_event_id=first["id"]) as quiet:
        assert quiet.next(timeout=1)["event"] == "ready"
    for forged, who in ((last_id[:-2] + "xx", alice), (last_id, bob)):
        with EventStream(server.url + "/api", who.id, who.token, last_event_id=forged) as refused:
            assert refused.status == 400
            assert refused.problem()["errors"][0]["field"] == "Last-Event-ID"


def test_a_client_back_after_too_long_is_told_to_resync(server, alice, db, make_settings):
    with open_stream(server, alice) as stream:
        task = alice.create("destroyed")
        old_id = stream.next(timeout=1)["id"]  # before the deletion, which will be forgotten
    assert alice.client.delete(f"/{alice.id}/tasks/{task['id']}").status_code == 204
    assert alice.client.delete(f"/{alice.id}/trash/{task['id']}").status_code == 204
    db.execute("UPDATE destroyed_tasks SET destroyed_at = now() - interval '31 days' WHERE user_id = %s", (alice.id,))
    sweep_now(make_settings)
    with EventStream(server.url + "/api", alice.id, alice.token, last_event_id=old_id) as stream:
        assert stream.next(timeout=1) == {"event": "resync", "data": {"reason": "position-expired"}}
        assert stream.next(timeout=1)["event"] == "ready"


def test_the_streams_of_one_user_are_capped(make_settings, issuer):
    with LiveServer(make_settings(event_streams_per_user=2)) as server:
        user = "capped" + uuid.uuid4().hex
        token = issuer.token(user)
        first, second = (EventStream(server.url + "/api", user, token) for _ in range(2))
        with EventStream(server.url + "/api", user, token) as third:
            assert third.status == 429
            problem = third.problem()
            assert problem["type"] == "urn:taskapi:problem:too-many-event-streams" and problem["limit"] == 2
        first.close()
        deadline = time.monotonic() + 5
        while True:  # the server notices the closed stream at its next write or ping; a new one is then allowed
            with EventStream(server.url + "/api", user, token) as again:
                if again.status == 200 or time.monotonic() > deadline:
                    assert again.status == 200
                    break
            time.sleep(0.2)
        second.close()
        other = "other" + uuid.uuid4().hex
        with EventStream(server.url + "/api", other, issuer.token(other)) as others:
            assert others.status == 200


def test_a_stream_ends_with_its_token(server, issuer):
    user = "expiring" + uuid.uuid4().hex
    with EventStream(server.url + "/api", user, issuer.token(user, lifetime=2)) as stream:
        assert stream.next()["event"] == "ready"
        started = time.monotonic()
        assert stream.next(timeout=5) is ENDED
        assert time.monotonic() - started < 3
