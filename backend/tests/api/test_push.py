"""Web Push for reminders, against a push service on this machine (tests/support/push_service.py), which checks the
VAPID signature and decrypts each push: subscriptions (idempotent per endpoint, at most 20, someone else's a 403,
SSRF refused), a reminder pushed once, a gone subscription removed, a throttled push retried, a hanging push service
holding nothing up."""

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import psycopg
import pytest
from psycopg import sql
from py_vapid import Vapid
from sqlalchemy import make_url

from taskapi.cli import migrate
from taskapi.push import endpoints
from taskapi.push.keys import new_private_key, public_key
from tests.support.event_stream import EventStream
from tests.support.live_server import LiveServer
from tests.support.push_service import PushService

SUBJECT = "mailto:ops@example.com"
PRIVATE_KEY = new_private_key()


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def own_database(direct_database_url):
    """A database of its own: the other test servers' reminder clocks, which send no pushes, must not fire (and
    queue) this module's reminders, which would then wait for this server's next scheduled look."""
    url = make_url(direct_database_url)
    name = "push_" + uuid.uuid4().hex[:12]
    with psycopg.connect(direct_database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    own_url = url.set(database=name).render_as_string(hide_password=False)
    migrate(own_url)
    yield own_url
    with psycopg.connect(direct_database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def pushing(make_settings, own_database):
    settings = make_settings(
        database_url=own_database,
        database_url_direct=own_database,
        vapid_private_key=PRIVATE_KEY,
        vapid_subject=SUBJECT,
        push_allow_local_endpoints=True,
        environment="test",
        push_timeout_seconds=1,
    )
    with LiveServer(settings) as server:
        yield server


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.close()


@pytest.fixture
def carol(pushing, issuer):
    user_id = "push" + uuid.uuid4().hex
    token = issuer.token(user_id)
    with pushing.client(token) as client:
        yield SimpleNamespace(user_id=user_id, token=token, get=client.get, post=client.post, delete=client.delete)


def _subscribe(carol, browser) -> dict:
    response = carol.post(f"/{carol.user_id}/push-subscriptions", json=browser.subscription())
    assert response.status_code == 201, response.text
    return response.json()


def test_subscriptions_are_one_per_endpoint_at_most_twenty_and_the_users_own(carol, push_service, bob, pushing):
    browser = push_service.browser()
    made = _subscribe(carol, browser)
    again = carol.post(f"/{carol.user_id}/push-subscriptions", json=browser.subscription())
    assert again.status_code == 200 and again.json()["id"] == made["id"]
    listed = carol.get(f"/{carol.user_id}/push-subscriptions").json()
    assert [item["id"] for item in listed["items"]] == [made["id"]]
    assert listed["vapid_public_key"] == public_key(Vapid.from_string(PRIVATE_KEY))

    for _ in range(19):
        _subscribe(carol, push_service.browser())
    over = carol.post(f"/{carol.user_id}/push-subscriptions", json=push_service.browser().subscription())
    assert over.status_code == 409 and over.json()["type"] == "urn:taskapi:problem:push-subscription-quota-exceeded"

    with pushing.client(bob.token) as bobs:
        foreign = bobs.delete(f"/{bob.id}/push-subscriptions/{made['id']}")
    assert foreign.status_code == 403
    assert carol.delete(f"/{carol.user_id}/push-subscriptions/{made['id']}").status_code == 204
    assert carol.delete(f"/{carol.user_id}/push-subscriptions/{made['id']}").status_code == 404


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://10.1.2.3/push/x",
        "http://192.168.0.1/push/x",
        "http://172.16.5.4/push/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[fc00::1]/push/x",
        "http://[::ffff:10.0.0.1]/push/x",
        "ftp://127.0.0.1/x",
        "https://user:pass@127.0.0.1/x",
        "https://no-such-host.invalid/x",
    ],
)
def test_endpoints_on_private_networks_are_refused_even_where_local_ones_are_allowed(carol, push_service, endpoint):
    subscription = {**push_service.browser().subscription(), "endpoint": endpoint}
    refused = carol.post(f"/{carol.user_id}/push-subscriptions", json=subscription)
    assert refused.status_code == 400, refused.text
    assert refused.json()["errors"][0]["field"] == "endpoint"


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9/push", "https://127.0.0.1/push", "http://[::1]/push"])
def test_without_the_test_switch_only_public_https_endpoints_pass(endpoint):
    with pytest.raises(endpoints.Refused):
        asyncio.run(endpoints.check(endpoint, allow_local=False))
    asyncio.run(endpoints.check(endpoint, allow_local=True))


def test_push_connections_resolve_names_to_admitted_addresses_only():
    """The connection resolves the name again, through the same rule as the check: a name that answered a public
    address for the check cannot answer a private one for the connection (DNS rebinding)."""

    async def resolve(allow_local: bool) -> list:
        resolver = endpoints.PublicResolver(allow_local)
        try:
            return await resolver.resolve("localhost", 443)
        finally:
            await resolver.close()

    with pytest.raises(OSError, match="may not call"):
        asyncio.run(resolve(allow_local=False))
    assert {result["host"] for result in asyncio.run(resolve(allow_local=True))} <= {"127.0.0.1", "::1"}


def test_a_push_to_a_named_host_goes_through_the_resolver(carol, push_service):
    browser = push_service.browser()
    named = {**browser.subscription(), "endpoint": browser.endpoint.replace("127.0.0.1", "localhost")}
    assert carol.post(f"/{carol.user_id}/push-subscriptions", json=named).status_code == 201
    carol.post(f"/{carol.user_id}/tasks", json={"title": "named", "remind_at": _in(0.5)})
    assert browser.next(timeout=5)["data"]["title"] == "named"


def test_the_test_switch_is_refused_in_jwks_mode_outside_tests(make_settings):
    with pytest.raises(ValueError, match="PUSH_ALLOW_LOCAL_ENDPOINTS"):
        make_settings(push_allow_local_endpoints=True)
    with pytest.raises(ValueError, match="VAPID_SUBJECT"):
        make_settings(vapid_private_key=PRIVATE_KEY)


def test_bad_keys_are_400s(carol, push_service):
    subscription = push_service.browser().subscription()
    subscription["keys"] = {"p256dh": "AAAA", "auth": "not-sixteen-bytes"}
    refused = carol.post(f"/{carol.user_id}/push-subscriptions", json=subscription)
    assert {error["field"] for error in refused.json()["errors"]} == {"keys.p256dh", "keys.auth"}


def test_a_reminder_is_pushed_once_signed_and_encrypted(carol, push_service, pushing):
    phone, laptop = push_service.browser(), push_service.browser()
    _subscribe(carol, phone)
    _subscribe(carol, laptop)
    with EventStream(pushing.url + "/api", carol.user_id, carol.token) as stream:
        assert stream.next()["event"] == "ready"
        task = carol.post(f"/{carol.user_id}/tasks", json={"title": "Water the plants", "remind_at": _in(1)}).json()
        for browser in (phone, laptop):
            push = browser.next(timeout=5)
            assert push["data"] == {
                "type": "reminder",
                "id": task["id"],
                "title": "Water the plants",
                "due_at": None,
                "remind_at": push["data"]["remind_at"],
            }
            assert push["data"]["remind_at"].endswith("Z"), "RFC 3339 in UTC, as the API writes instants"
            assert datetime.fromisoformat(push["data"]["remind_at"]) == datetime.fromisoformat(task["remind_at"])
            assert push["claims"]["sub"] == SUBJECT
            assert push["public_key"] == public_key(Vapid.from_string(PRIVATE_KEY))
            assert push["headers"]["urgency"] == "high" and push["headers"]["topic"] == task["id"].replace("-", "")
            assert 0 < int(push["headers"]["ttl"]) <= 3600
        time.sleep(1.5)
        assert phone.received.empty() and laptop.received.empty(), "pushed once"


def test_a_gone_subscription_is_removed_and_a_throttled_push_retried(carol, push_service):
    gone, throttled = push_service.browser(), push_service.browser()
    gone_id = _subscribe(carol, gone)["id"]
    _subscribe(carol, throttled)
    # The first two attempts: one 410 (whichever browser it is for), then one 429; the rest taken.
    push_service.answers = [410, 429]
    carol.post(f"/{carol.user_id}/tasks", json={"title": "Stand up", "remind_at": _in(0.5)})
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and len(carol.get(f"/{carol.user_id}/push-subscriptions").json()["items"]) > 1:
        time.sleep(0.2)
    left = carol.get(f"/{carol.user_id}/push-subscriptions").json()["items"]
    assert len(left) == 1, "the subscription answered 410 is removed"
    survivor = gone if left[0]["id"] == gone_id else throttled
    assert survivor.next(timeout=8)["data"]["title"] == "Stand up", "the 429 was retried"
    assert push_service.attempts == 3


def test_a_hanging_push_service_holds_up_neither_requests_nor_reminders(carol, push_service, pushing):
    slow = push_service.browser()
    _subscribe(carol, slow)
    push_service.answers = ["hang"]
    with EventStream(pushing.url + "/api", carol.user_id, carol.token) as stream:
        assert stream.next()["event"] == "ready"
        carol.post(f"/{carol.user_id}/tasks", json={"title": "first", "remind_at": _in(0.5)})
        time.sleep(1)
        started = time.monotonic()
        assert carol.get(f"/{carol.user_id}/tasks").status_code == 200
        assert time.monotonic() - started < 0.5, "a request waited for the push service"
        carol.post(f"/{carol.user_id}/tasks", json={"title": "second", "remind_at": _in(0.5)})
        titles = set()
        deadline = time.monotonic() + 5
        while len(titles) < 2 and time.monotonic() < deadline:
            event = stream.next(timeout=deadline - time.monotonic())
            if event["event"] == "reminder":
                titles.add(event["data"]["title"])
        assert titles == {"first", "second"}
        # The hung push timed out (PUSH_TIMEOUT_SECONDS, 1 s here) and was sent again.
        assert {slow.next(timeout=8)["data"]["title"], slow.next(timeout=8)["data"]["title"]} == {"first", "second"}
