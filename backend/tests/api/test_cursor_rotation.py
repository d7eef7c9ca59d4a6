"""Sync positions and page cursors across a change of CURSOR_SECRET (issue 18, item 5): a position signed with a
key the service no longer holds is a 410 (sync from scratch, as clients already do); one that was tampered with
stays a 400; CURSOR_SECRET_PREVIOUS keeps the old key verifying during a rotation."""

import uuid

import pytest

from tests.support.event_stream import EventStream
from tests.support.live_server import LiveServer

OLD, NEW = "old-cursor-secret-" + "o" * 30, "new-cursor-secret-" + "n" * 30


@pytest.fixture
def user_id() -> str:
    return "cr" + uuid.uuid4().hex


def _served(make_settings, **secrets) -> LiveServer:
    return LiveServer(make_settings(**secrets))


def _position_and_cursor(server, issuer, user_id) -> tuple[str, str]:
    with server.client(issuer.token(user_id)) as client:
        for title in ("one", "two"):
            assert client.post(f"/{user_id}/tasks", json={"title": title}).status_code == 201
        since = client.get(f"/{user_id}/changes").json()["next_since"]
        cursor = client.get(f"/{user_id}/tasks", params={"limit": 1}).json()["next_cursor"]
    return since, cursor


def test_a_position_signed_with_a_retired_key_is_410_and_a_tampered_one_400(make_settings, issuer, user_id):
    with _served(make_settings, cursor_secret=OLD) as before:
        since, cursor = _position_and_cursor(before, issuer, user_id)
    with _served(make_settings, cursor_secret=NEW) as after, after.client(issuer.token(user_id)) as client:
        expired = client.get(f"/{user_id}/changes", params={"since": since})
        assert expired.status_code == 410, expired.text
        assert expired.json()["type"] == "urn:taskapi:problem:sync-position-expired"
        page = client.get(f"/{user_id}/tasks", params={"limit": 1, "cursor": cursor})
        assert page.status_code == 400 and "first page" in page.json()["detail"], page.text

        fresh = client.get(f"/{user_id}/changes").json()["next_since"]
        body, kid, signature = fresh.split(".")
        tampered = f"{body}.{kid}.{'A' * len(signature)}"
        refused = client.get(f"/{user_id}/changes", params={"since": tampered})
        assert refused.status_code == 400, refused.text
        assert client.get(f"/{user_id}/changes", params={"since": fresh}).status_code == 200

        stream = EventStream(after.url + "/api", user_id, issuer.token(user_id), last_event_id=since)
        try:
            assert stream.status == 200
            assert stream.next()["event"] == "resync"
            assert stream.next()["event"] == "ready"
        finally:
            stream.close()


def test_cursor_secret_previous_keeps_old_positions_verifying_during_a_rotation(make_settings, issuer, user_id):
    with _served(make_settings, cursor_secret=OLD) as before:
        since, cursor = _position_and_cursor(before, issuer, user_id)
    rotating = {"cursor_secret": NEW, "cursor_secret_previous": OLD}
    with _served(make_settings, **rotating) as during, during.client(issuer.token(user_id)) as client:
        feed = client.get(f"/{user_id}/changes", params={"since": since})
        assert feed.status_code == 200, feed.text
        assert client.get(f"/{user_id}/tasks", params={"limit": 1, "cursor": cursor}).status_code == 200
        renewed = feed.json()["next_since"]
    with _served(make_settings, cursor_secret=NEW) as after, after.client(issuer.token(user_id)) as client:
        assert client.get(f"/{user_id}/changes", params={"since": renewed}).status_code == 200, "signed with NEW"
