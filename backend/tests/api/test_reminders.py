"""Reminders the service fires itself (taskapi/sync/reminders.py): on time, once, on every open stream of the
user, whichever worker serves it; re-armed by a snooze, disarmed by completing or deleting the task; exactly once
with four workers, one of them killed while reminders fall due."""

import os
import signal
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from tests.support.event_stream import ENDED, EventStream
from tests.support.issuer import SHARED_SECRET, hs256_token
from tests.support.live_server import LiveServer
from tests.support.service_process import start_service, worker_pids, worker_serving


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _open(base: str, user_id: str, token: str) -> EventStream:
    stream = EventStream(base, user_id, token)
    assert stream.status == 200 and stream.next(timeout=5)["event"] == "ready"
    return stream


def _reminders(stream: EventStream, seconds: float) -> list[dict]:
    """The reminder events the stream gets within `seconds` (other events passed over)."""
    got, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            event = stream.next(timeout=left)
        except AssertionError:
            break
        if event is ENDED:
            break
        if event["event"] == "reminder":
            got.append(event["data"])
    return got


def test_a_reminder_fires_once_on_every_stream_and_the_task_records_it(server: LiveServer, alice):
    base = server.url + "/api"
    first, second = _open(base, alice.id, alice.token), _open(base, alice.id, alice.token)
    with first, second:
        since = alice.client.get(f"/{alice.id}/changes").json()["next_since"]
        task = alice.create("Call the dentist", remind_at=_in(1.5), due_at=_in(3600))
        assert task["reminded_at"] is None
        for stream in (first, second):
            fired = _reminders(stream, 4)
            assert fired == [
                {
                    "id": task["id"],
                    "title": "Call the dentist",
                    "due_at": task["due_at"],
                    "remind_at": task["remind_at"],
                }
            ]
        now = alice.client.get(f"/{alice.id}/tasks/{task['id']}").json()
        reminded = datetime.fromisoformat(now["reminded_at"])
        assert reminded >= datetime.fromisoformat(task["remind_at"])
        assert reminded - datetime.fromisoformat(task["remind_at"]) < timedelta(seconds=2), "within 2 s"
        # A client that was not connected learns it from the feed: the task changed.
        changes = alice.client.get(f"/{alice.id}/changes", params={"since": since}).json()["items"]
        assert changes[-1]["task"]["reminded_at"] == now["reminded_at"]


def test_a_snooze_fires_again_completing_or_deleting_disarms(server: LiveServer, alice):
    with _open(server.url + "/api", alice.id, alice.token) as stream:
        snoozed = alice.create("snoozed", remind_at=_in(1))
        completed = alice.create("done first", remind_at=_in(1.5))
        deleted = alice.create("deleted first", remind_at=_in(1.5))
        alice.client.patch(f"/{alice.id}/tasks/{completed['id']}/complete", json={"completed": True})
        alice.client.delete(f"/{alice.id}/tasks/{deleted['id']}")
        assert [event["id"] for event in _reminders(stream, 3.5)] == [snoozed["id"]]

        later = alice.client.put(f"/{alice.id}/tasks/{snoozed['id']}", json={"remind_at": _in(1)}).json()
        assert later["reminded_at"] is None, "a new remind_at re-arms the reminder"
        again = _reminders(stream, 3)
        assert [(event["id"], event["remind_at"]) for event in again] == [(snoozed["id"], later["remind_at"])]
        assert alice.client.get(f"/{alice.id}/tasks/{completed['id']}").json()["reminded_at"] is None


def test_an_earlier_reminder_set_after_a_later_one_fires_first(server: LiveServer, alice):
    """The worker's clock sleeps until the earliest reminder it knows of; a write setting an earlier one wakes it."""
    with _open(server.url + "/api", alice.id, alice.token) as stream:
        alice.create("next week", remind_at=_in(7 * 86400))
        soon = alice.create("soon", remind_at=_in(1))
        assert [event["id"] for event in _reminders(stream, 3)] == [soon["id"]]


def test_exactly_once_with_four_workers_one_killed_while_reminders_fall_due(database_url, direct_database_url, db):
    """A worker killed mid-flight rolls back what it was claiming, if anything: each reminder fires once (no stream
    that stayed open gets one twice) and none is lost (every task has its `reminded_at`)."""
    users = ["four" + uuid.uuid4().hex for _ in range(3)]
    process, base = start_service(
        database_url,
        DATABASE_URL_DIRECT=direct_database_url,
        BETTER_AUTH_SECRET=SHARED_SECRET,
        WEB_CONCURRENCY="4",
        RATE_LIMIT_PER_MINUTE="0",
    )
    streams: list[tuple[str, EventStream, int]] = []
    try:
        workers, port = worker_pids(process.pid), int(base.split(":")[2].split("/")[0])
        assert len(workers) == 4
        for user in users:
            for _ in range(4):
                stream = _open(base, user, hs256_token(user))
                streams.append((user, stream, worker_serving(workers, port, stream.local_port)))
        made: dict[str, set[str]] = {user: set() for user in users}
        for user in users:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {hs256_token(user)}"}) as client:
                for n in range(20):
                    task = client.post(f"/{user}/tasks", json={"title": f"r{n}", "remind_at": _in(2 + n / 20)})
                    made[user].add(task.json()["id"])
        victim = next(pid for _, _, pid in streams)
        time.sleep(1.8)
        os.kill(victim, signal.SIGKILL)  # as its reminders fall due; uvicorn starts another in its place
        time.sleep(4)  # every reminder due two seconds ago, and the victim replaced
        for user, stream, worker in streams:
            fired = [event["id"] for event in _reminders(stream, 0.5)]
            assert len(fired) == len(set(fired)), "a reminder arrived twice on one stream"
            if worker != victim:
                assert set(fired) == made[user], "a stream that stayed open missed a reminder"
        for user in users:
            rows = db.execute(
                "SELECT count(*) FILTER (WHERE reminded_at IS NOT NULL), count(*) FROM tasks WHERE user_id = %s",
                (user,),
            ).fetchone()
            assert rows == (20, 20), "a reminder was lost"
    finally:
        for _, stream, _ in streams:
            stream.close()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except Exception:
            process.kill()


def _fired(db, task_id: str, seconds: float) -> bool:
    """Whether the task's reminder fires within `seconds`, read in the database: a read through the API would tell
    the worker's clock of the pending reminder it answers with."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if db.execute("SELECT reminded_at FROM tasks WHERE id = %s", (uuid.UUID(task_id),)).fetchone()[0] is not None:
            return True
        time.sleep(0.1)
    return False


def test_a_parent_reopened_by_a_new_step_fires_its_reminder(alice, db):
    """Adding an open step reopens a completed parent (migration 0014), whose reminder is then pending again."""
    parent = alice.create("Plan the party")
    alice.client.patch(f"/{alice.id}/tasks/{parent['id']}/complete", json={"completed": True})
    alice.client.put(f"/{alice.id}/tasks/{parent['id']}", json={"remind_at": _in(1)})  # done: nothing pending
    alice.create("book the venue", parent_id=parent["id"])
    assert _fired(db, parent["id"], 4), "the reminder clock was not told of the parent's reminder"


def test_the_steps_a_next_occurrence_copies_fire_their_reminders(alice, db):
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    parent = alice.create("Weekly review", due_at=tomorrow.isoformat(), recurrence={"rule": "FREQ=DAILY"})
    # A day before the next occurrence's copy is due to remind: already past for this one, a second ahead for it.
    step = alice.create("inbox zero", parent_id=parent["id"], remind_at=_in(1 - 24 * 3600))
    assert _fired(db, step["id"], 4)
    done = alice.client.patch(f"/{alice.id}/tasks/{parent['id']}/complete", json={"completed": True}).json()
    copies = alice.client.get(f"/{alice.id}/tasks", params={"parent_id": done["next_occurrence_id"]}).json()["items"]
    assert [copy["title"] for copy in copies] == ["inbox zero"] and copies[0]["reminded_at"] is None
    assert _fired(db, copies[0]["id"], 4), "the reminder clock was not told of the copy's reminder"


def test_steps_brought_back_with_their_parent_fire_their_reminders(alice, db):
    parent = alice.create("Move house")
    step = alice.create("book the van", parent_id=parent["id"], remind_at=_in(0.5))
    assert alice.client.delete(f"/{alice.id}/tasks/{parent['id']}").status_code == 204
    time.sleep(1.5)  # due while in the trash: nothing fires
    assert alice.client.post(f"/{alice.id}/trash/{parent['id']}/restore").status_code == 200
    assert _fired(db, step["id"], 4), "the reminder clock was not told of the step's reminder"
