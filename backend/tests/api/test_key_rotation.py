"""Signing keys are refreshed in the background: a key Better Auth retires stops verifying within
JWKS_REFRESH_SECONDS, cached tokens included, and an issuer that is down changes nothing (issue 18, item 3)."""

import time
from collections.abc import Iterator

import pytest

from tests.support.issuer import Issuer, SigningKey
from tests.support.live_server import LiveServer

REFRESH_SECONDS = 1


@pytest.fixture
def keys() -> Iterator[Issuer]:
    issuer = Issuer()
    yield issuer
    issuer.close()


def _status(client, user: str, token: str) -> int:
    return client.get(f"/{user}/tasks", headers={"Authorization": f"Bearer {token}"}).status_code


def _eventually(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_a_retired_key_stops_verifying_within_the_refresh_period_cached_tokens_too(make_settings, keys):
    settings = make_settings(jwt_jwks_url=keys.url + "/api/auth/jwks", jwks_refresh_seconds=REFRESH_SECONDS)
    with LiveServer(settings) as server, server.client() as client:
        retired = keys.ed25519
        old_token = keys.token("u1", key=retired)
        assert _status(client, "u1", old_token) == 200  # verified once, and remembered
        successor = SigningKey("EdDSA")
        keys.keys = [successor, *keys.keys[1:]]
        assert _eventually(lambda: _status(client, "u1", old_token) == 401, REFRESH_SECONDS * 3)
        fresh = keys.token("u1", key=retired)
        assert _status(client, "u1", fresh) == 401, "a new token of the retired key is refused too"
        assert _status(client, "u1", keys.token("u1", key=successor)) == 200


def test_the_issuer_down_keeps_the_last_good_keys(make_settings, keys):
    settings = make_settings(jwt_jwks_url=keys.url + "/api/auth/jwks", jwks_refresh_seconds=REFRESH_SECONDS)
    with LiveServer(settings) as server, server.client() as client:
        token = keys.token("u1")
        assert _status(client, "u1", token) == 200
        fetches = keys.fetches
        keys.down = True
        assert _eventually(lambda: keys.fetches > fetches, REFRESH_SECONDS * 3), "refreshes go on while it is down"
        assert _status(client, "u1", token) == 200
        assert _status(client, "u1", keys.token("u1", key=keys.keys[1])) == 200, "every known key keeps working"


def test_a_shorter_cache_control_max_age_is_honoured(make_settings, keys):
    keys.cache_control = "public, max-age=1"
    settings = make_settings(jwt_jwks_url=keys.url + "/api/auth/jwks", jwks_refresh_seconds=3600)
    with LiveServer(settings) as server, server.client() as client:
        old_token = keys.token("u1")
        assert _status(client, "u1", old_token) == 200
        keys.keys = [SigningKey("EdDSA"), *keys.keys[1:]]
        assert _eventually(lambda: _status(client, "u1", old_token) == 401, 4)
