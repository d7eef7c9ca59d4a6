"""Reminders pushed: once, signed and encrypted, with the instants the API writes; a gone subscription removed, a
throttled push retried, a name that does not resolve retried; a push service that hangs, redirects or cannot be
encrypted for holds up and changes no other push."""

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from py_vapid import Vapid

from taskapi.push.keys import public_key
from tests.api.push.conftest import PRIVATE_KEY, PUSH_TIMEOUT_SECONDS, SUBJECT, in_seconds, subscribe
from tests.support.clock import instant
from tests.support.event_stream import EventStream
from tests.support.push_service import b64url

_QUEUED = """
SELECT count(*), coalesce(max(p.attempts), 0) FROM reminder_pushes AS p
JOIN push_subscriptions AS s ON s.id = p.subscription_id WHERE s.user_id = %s
"""


def _queued(own_db, user) -> tuple[int, int]:
    """How many of the user's pushes wait to be sent (or to be sent again), and the most attempts one has had."""
    return own_db.execute(_QUEUED, (user.user_id,)).fetchone()


def _eventually(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        time.sleep(0.05)


def _remind(user, title: str, seconds: float) -> dict:
    response = user.post(f"/{user.user_id}/tasks", json={"title": title, "remind_at": in_seconds(seconds)})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_push_to_a_named_host_goes_through_the_resolver(carol, push_service):
    browser = push_service.browser()
    named = {**browser.subscription(), "endpoint": browser.endpoint.replace("127.0.0.1", "localhost")}
    assert carol.post(f"/{carol.user_id}/push-subscriptions", json=named).status_code == 201
    carol.post(f"/{carol.user_id}/tasks", json={"title": "named", "remind_at": in_seconds(0.5)})
    assert browser.next(timeout=5)["data"]["title"] == "named"


def test_a_reminder_is_pushed_once_signed_and_encrypted(carol, push_service, pushing):
    phone, laptop = push_service.browser(), push_service.browser()
    subscribe(carol, phone)
    subscribe(carol, laptop)
    with EventStream(pushing.url + "/api", carol.user_id, carol.token) as stream:
        assert stream.next()["event"] == "ready"
        task = _remind(carol, "Water the plants", 1)
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
    gone_id = subscribe(carol, gone)["id"]
    subscribe(carol, throttled)
    # The first two attempts: one 410 (whichever browser it is for), then one 429; the rest taken.
    push_service.answers = [410, 429]
    carol.post(f"/{carol.user_id}/tasks", json={"title": "Stand up", "remind_at": in_seconds(0.5)})
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
    subscribe(carol, slow)
    push_service.answers = ["hang"]
    with EventStream(pushing.url + "/api", carol.user_id, carol.token) as stream:
        assert stream.next()["event"] == "ready"
        carol.post(f"/{carol.user_id}/tasks", json={"title": "first", "remind_at": in_seconds(0.5)})
        time.sleep(1)
        started = time.monotonic()
        assert carol.get(f"/{carol.user_id}/tasks").status_code == 200
        assert time.monotonic() - started < 0.5, "a request waited for the push service"
        carol.post(f"/{carol.user_id}/tasks", json={"title": "second", "remind_at": in_seconds(0.5)})
        titles = set()
        deadline = time.monotonic() + 5
        while len(titles) < 2 and time.monotonic() < deadline:
            event = stream.next(timeout=deadline - time.monotonic())
            if event["event"] == "reminder":
                titles.add(event["data"]["title"])
        assert titles == {"first", "second"}
        # The hung push timed out (PUSH_TIMEOUT_SECONDS, 1 s here) and was sent again.
        assert {slow.next(timeout=8)["data"]["title"], slow.next(timeout=8)["data"]["title"]} == {"first", "second"}


def test_a_push_and_the_live_event_write_the_same_instants_as_the_api(carol, push_service, pushing):
    """A page that has both (a notification and the event) can tell they are one reminder by their text."""
    browser = push_service.browser()
    subscribe(carol, browser)
    remind_at = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    due_at = remind_at + timedelta(hours=1)
    body = {"title": "On the second", "remind_at": instant(remind_at), "due_at": instant(due_at)}
    with EventStream(pushing.url + "/api", carol.user_id, carol.token) as stream:
        assert stream.next()["event"] == "ready"
        task = carol.post(f"/{carol.user_id}/tasks", json=body).json()
        event = stream.next(timeout=5)
        while event["event"] != "reminder":
            event = stream.next(timeout=5)
        pushed = browser.next(timeout=5)["data"]
    assert pushed["remind_at"] == event["data"]["remind_at"] == task["remind_at"] == body["remind_at"]
    assert pushed["due_at"] == event["data"]["due_at"] == task["due_at"] == body["due_at"]


def test_a_redirect_is_a_failed_delivery_and_is_never_followed(carol, new_push_service, own_db):
    """A push service's 307 could point anywhere, the service's own machine included (its Location was judged by no
    rule): the push is not sent there, and is dropped."""
    service, elsewhere = new_push_service(), new_push_service()
    subscribe(carol, service.browser())
    service.answers = [(307, elsewhere.browser().endpoint)]
    _remind(carol, "redirected", 0.3)
    _eventually(lambda: service.attempts == 1 and _queued(own_db, carol)[0] == 0, 5)
    time.sleep(0.5)
    assert elsewhere.attempts == 0, "the redirect was followed"
    assert service.attempts == 1, "a redirect is not retried"


def test_a_key_no_push_can_be_encrypted_for_changes_no_other_push(carol, new_pushed_user, push_service, own_db):
    """A key that is no point of the curve (stored before keys were checked): its push fails at encryption, the
    subscription is removed, and the other pushes of the same claim are sent and recorded as usual."""
    dave, good, broken = new_pushed_user(), push_service.browser(), push_service.browser()
    subscribe(carol, good)
    own_db.execute(
        "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth) VALUES (%s, %s, %s, %s)",
        (dave.user_id, broken.endpoint, b64url(b"\x04" + bytes(64)), b64url(broken.auth)),
    )
    _remind(dave, "for dave", 0.5)
    _remind(carol, "for carol", 0.5)
    assert good.next(timeout=5)["data"]["title"] == "for carol"
    _eventually(lambda: dave.get(f"/{dave.user_id}/push-subscriptions").json()["items"] == [], 5)
    _eventually(lambda: _queued(own_db, carol)[0] == 0, 2)
    assert broken.received.empty()


def test_a_push_service_that_never_answers_holds_up_no_other_push_service(carol, new_pushed_user, new_push_service):
    hanging, healthy = new_push_service(), new_push_service()
    hanging.answers = ["hang"]
    subscribe(carol, hanging.browser())
    dave, browser = new_pushed_user(), healthy.browser()
    subscribe(dave, browser)
    _remind(carol, "into the void", 0.2)
    _eventually(lambda: hanging.attempts == 1, 3)
    _remind(dave, "right on time", 0.5)
    # Waiting for the hanging push would take PUSH_TIMEOUT_SECONDS.
    assert browser.next(timeout=PUSH_TIMEOUT_SECONDS - 1.5)["data"]["title"] == "right on time"


def test_a_name_that_does_not_resolve_is_tried_again_not_unsubscribed(carol, push_service, own_db):
    """A resolver's passing failure is no answer from the push service: only a 404 or 410 removes a subscription."""
    browser = push_service.browser()
    made = subscribe(carol, browser)
    unresolvable = f"http://push.invalid:{urlsplit(browser.endpoint).port}/push/{browser.token}"
    own_db.execute("UPDATE push_subscriptions SET endpoint = %s WHERE id = %s", (unresolvable, made["id"]))
    _remind(carol, "resolver down", 0.2)
    _eventually(lambda: _queued(own_db, carol)[1] >= 1, 5)
    time.sleep(0.5)
    assert [item["id"] for item in carol.get(f"/{carol.user_id}/push-subscriptions").json()["items"]] == [made["id"]]
    own_db.execute("UPDATE push_subscriptions SET endpoint = %s WHERE id = %s", (browser.endpoint, made["id"]))
    assert browser.next(timeout=8)["data"]["title"] == "resolver down"
