"""Web Push against push services on this machine (tests/support/push_service.py), which check the VAPID signature
and decrypt each push: one service with a database of its own, for every test of the package."""

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import psycopg
import pytest

from taskapi.push.keys import new_private_key
from tests.support.databases import fresh_database
from tests.support.live_server import LiveServer
from tests.support.push_service import PushService

SUBJECT = "mailto:ops@example.com"
PRIVATE_KEY = new_private_key()
# Long enough that a push service which never answers would visibly hold up pushes waiting behind it.
PUSH_TIMEOUT_SECONDS = 4


def in_seconds(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def subscribe(user, browser) -> dict:
    response = user.post(f"/{user.user_id}/push-subscriptions", json=browser.subscription())
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="package")
def own_database(direct_database_url):
    """A database of its own: the other test servers' reminder clocks, which send no pushes, must not fire (and
    queue) this package's reminders, which would then wait for this server's next scheduled look."""
    with fresh_database(direct_database_url, "push") as url:
        yield url


@pytest.fixture
def own_db(own_database):
    """A direct connection to that database, for what the API cannot show."""
    with psycopg.connect(own_database, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="package")
def pushing(make_settings, own_database):
    settings = make_settings(
        database_url=own_database,
        database_url_direct=own_database,
        vapid_private_key=PRIVATE_KEY,
        vapid_subject=SUBJECT,
        push_allow_local_endpoints=True,
        environment="test",
        push_timeout_seconds=PUSH_TIMEOUT_SECONDS,
    )
    with LiveServer(settings) as server:
        yield server


@pytest.fixture
def new_push_service():
    services = []

    def make() -> PushService:
        services.append(PushService())
        return services[-1]

    yield make
    for service in services:
        service.close()


@pytest.fixture
def push_service(new_push_service) -> PushService:
    return new_push_service()


@pytest.fixture
def new_pushed_user(pushing, issuer):
    clients = []

    def make() -> SimpleNamespace:
        user_id = "push" + uuid.uuid4().hex
        token = issuer.token(user_id)
        clients.append(pushing.client(token))
        client = clients[-1]
        return SimpleNamespace(user_id=user_id, token=token, get=client.get, post=client.post, delete=client.delete)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def carol(new_pushed_user):
    return new_pushed_user()
