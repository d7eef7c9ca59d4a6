"""Push subscriptions: idempotent per endpoint, at most 20, someone else's a 403; endpoints that would make the
service call hosts of the operator's network (SSRF) refused; keys no push could be encrypted for refused."""

import asyncio
import base64

import pytest
from py_vapid import Vapid

from taskapi.push import endpoints
from taskapi.push.keys import public_key
from tests.api.push.conftest import PRIVATE_KEY, subscribe


def test_subscriptions_are_one_per_endpoint_at_most_twenty_and_the_users_own(carol, push_service, bob, pushing):
    browser = push_service.browser()
    made = subscribe(carol, browser)
    again = carol.post(f"/{carol.user_id}/push-subscriptions", json=browser.subscription())
    assert again.status_code == 200 and again.json()["id"] == made["id"]
    listed = carol.get(f"/{carol.user_id}/push-subscriptions").json()
    assert [item["id"] for item in listed["items"]] == [made["id"]]
    assert listed["vapid_public_key"] == public_key(Vapid.from_string(PRIVATE_KEY))

    for _ in range(19):
        subscribe(carol, push_service.browser())
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
        "http://[2002:a00:1::1]/push/x",  # 6to4 of 10.0.0.1
        "http://[64:ff9b::a00:1]/push/x",  # NAT64 of 10.0.0.1
        "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/push/x",  # Teredo, to 10.0.0.1
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


@pytest.mark.parametrize(
    ("address", "allow_local", "expected"),
    [
        ("::ffff:10.0.0.1", True, False),
        ("::ffff:127.0.0.1", False, False),
        ("::ffff:127.0.0.1", True, True),
        ("2002:a00:1::1", False, False),  # 6to4, of 10.0.0.1
        ("2002:7f00:1::1", False, False),  # 6to4, of 127.0.0.1
        ("2002:808:808::1", False, True),  # 6to4, of 8.8.8.8
        ("64:ff9b::a00:1", False, False),  # NAT64, of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", True, False),  # NAT64, of 169.254.169.254
        ("64:ff9b::808:808", False, True),  # NAT64, of 8.8.8.8
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False, False),  # Teredo, to 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", False, True),  # Teredo, to 8.8.8.8 through a public server
    ],
)
def test_addresses_that_carry_an_ipv4_address_are_judged_by_it(address, allow_local, expected):
    assert endpoints.admitted(address, allow_local) is expected


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


def test_a_key_that_is_no_point_of_the_curve_is_a_400(carol, push_service):
    """65 bytes that start as an uncompressed point does, but lie on no curve: no push could be encrypted for it."""
    subscription = push_service.browser().subscription()
    subscription["keys"]["p256dh"] = base64.urlsafe_b64encode(b"\x04" + bytes(64)).rstrip(b"=").decode()
    refused = carol.post(f"/{carol.user_id}/push-subscriptions", json=subscription)
    assert refused.status_code == 400, refused.text
    assert [error["field"] for error in refused.json()["errors"]] == ["keys.p256dh"]
    assert "point on the curve" in refused.json()["errors"][0]["message"]
