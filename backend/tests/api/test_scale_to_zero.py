"""An idle service sends Postgres nothing, so that Neon can suspend the compute (issue 18, item 11): once the
last stream has closed and the last request is served, no statement reaches the database, reminders pending days
ahead included."""

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests.support.databases import fresh_database
from tests.support.event_stream import EventStream
from tests.support.live_server import LiveServer

QUIET_SECONDS = 15


def _statements_logged(log: Path, offset: int) -> list[str]:
    with log.open("rb") as handle:
        handle.seek(offset)
        return [line for line in handle.read().decode(errors="replace").splitlines() if "statement:" in line]


@pytest.fixture
def logged_database(direct_database_url):
    """A database of its own whose every statement the server logs; and the server's log file."""
    log = Path(make_url(direct_database_url).query.get("host", "")) / "log"
    if not log.is_file():
        pytest.skip("needs the embedded cluster, whose log file lies in its data directory")
    with fresh_database(direct_database_url, "idle", log_statement="all") as url:
        yield url, log


def test_an_idle_service_sends_no_statement(make_settings, issuer, logged_database):
    url, log = logged_database
    settings = make_settings(
        database_url=url,
        database_url_direct=url,
        rate_limit_per_minute=600,
        rate_limit_unauthenticated_per_minute=60,
        purge_interval_seconds=1,
        event_listen_timeout_seconds=2,
        event_listen_idle_seconds=1,
    )
    user = "idle" + uuid.uuid4().hex
    token = issuer.token(user)
    with LiveServer(settings) as server, server.client(token) as client:
        # Some use first: writes, reads, the limiter's sync, a live-event stream opened and closed.
        stream = EventStream(server.url + "/api", user, token)
        assert stream.next()["event"] == "ready"
        task = client.post(f"/{user}/tasks", json={"title": "then quiet"}).json()
        assert stream.next()["event"] == "changes"
        assert client.get(f"/{user}/tasks").status_code == 200
        assert client.get("/readyz").status_code == 200
        stream.close()
        assert client.delete(f"/{user}/tasks/{task['id']}").status_code == 204
        # Reminders pending days ahead: the reminder clock sleeps until the first (taskapi/sync/reminders.py).
        in_three_days = (datetime.now(UTC) + timedelta(days=3)).isoformat()
        assert client.post(f"/{user}/tasks", json={"title": "later", "remind_at": in_three_days}).status_code == 201
        # What follows use (the limiter's last sync, one sweep, the listener's last heartbeats) settles.
        offset, settled = log.stat().st_size, time.monotonic() + 10
        while time.monotonic() < settled:
            time.sleep(3)
            if not _statements_logged(log, offset):
                break
            offset = log.stat().st_size
        assert not _statements_logged(log, offset), "still busy 10 s after the last request"
        time.sleep(QUIET_SECONDS)
        assert _statements_logged(log, offset) == []

        # Waking up: a new stream listens again and hears the next change.
        with EventStream(server.url + "/api", user, token) as again:
            assert again.next()["event"] == "ready"
            created = client.post(f"/{user}/tasks", json={"title": "awake"}).json()
            assert again.next()["data"]["changes"][0]["id"] == created["id"]
