"""FR-001 / SC-003: only a genuine, current token for the right issuer and audience gets in."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from jwt.utils import base64url_encode

from tests.support.issuer import ISSUER, SHARED_SECRET, SigningKey, hs256_token


def _call(server, user_id: str, token: str | None):
    with server.client(token) as client:
        return client.get(f"/{user_id}/tasks")


def _assert_unauthorized(response, detail_fragment: str = ""):
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401 and body["type"] == "urn:taskapi:problem:invalid-token"
    assert detail_fragment in body["detail"]


@pytest.mark.parametrize("alg_index", [0, 1, 2], ids=["EdDSA", "ES256", "RS256"])
def test_valid_jwks_tokens_are_accepted(server, issuer, alg_index):
    key = issuer.keys[alg_index]
    assert _call(server, "u-jwks", issuer.token("u-jwks", key=key)).status_code == 200


def test_valid_hs256_shared_secret_token_is_accepted(server):
    assert _call(server, "u-hs", hs256_token("u-hs")).status_code == 200


def test_no_token(server):
    _assert_unauthorized(_call(server, "u1", None), "No bearer token")


def test_garbage_token(server):
    _assert_unauthorized(_call(server, "u1", "not.a.jwt"), "not a well-formed JWT")


def test_alg_none_is_refused(server):
    unsigned = jwt.encode(
        {"sub": "u1", "exp": int(time.time()) + 60, "iss": ISSUER, "aud": ISSUER}, None, algorithm="none"
    )
    _assert_unauthorized(_call(server, "u1", unsigned), "'none' is not accepted")


def test_hs256_signed_with_the_public_key_is_refused(server, issuer):
    """Algorithm confusion: the public JWK's bytes used as an HMAC secret must not verify."""
    public_key_material = issuer.ed25519.public_jwk()["x"]
    claims = {"sub": "u1", "exp": int(time.time()) + 60, "iss": ISSUER, "aud": ISSUER}
    forged = jwt.encode(claims, public_key_material, algorithm="HS256", headers={"kid": issuer.ed25519.kid})
    _assert_unauthorized(_call(server, "u1", forged), "signature")


def test_expired(server, issuer):
    _assert_unauthorized(_call(server, "u1", issuer.token("u1", exp=int(time.time()) - 120)), "expired")


def test_expired_within_leeway_is_accepted(server, issuer):
    assert _call(server, "u1", issuer.token("u1", exp=int(time.time()) - 2)).status_code == 200


def test_no_exp(server, issuer):
    _assert_unauthorized(_call(server, "u1", issuer.token("u1", exp=None)), "`exp`")


def test_nbf_in_the_future(server, issuer):
    _assert_unauthorized(_call(server, "u1", issuer.token("u1", nbf=int(time.time()) + 600)), "not valid yet")


def test_wrong_issuer(server, issuer):
    _assert_unauthorized(_call(server, "u1", issuer.token("u1", iss="https://evil.example")), "iss")


def test_wrong_audience(server, issuer):
    _assert_unauthorized(_call(server, "u1", issuer.token("u1", aud="https://other.example")), "aud")


def test_no_sub(server, issuer):
    _assert_unauthorized(_call(server, "u1", issuer.token(None)), "`sub`")


def test_unknown_kid(server, issuer):
    stranger = SigningKey("EdDSA", kid="nobody-knows-me")
    _assert_unauthorized(_call(server, "u1", issuer.token("u1", key=stranger)), "unknown key")


def test_foreign_key_with_the_right_kid(server, issuer):
    impostor = SigningKey("EdDSA", kid=issuer.ed25519.kid)
    _assert_unauthorized(_call(server, "u1", issuer.token("u1", key=impostor)), "signature")


def test_key_used_with_another_alg_is_refused(server, issuer):
    """An ES256 key's kid on an EdDSA-signed token: the key decides the algorithm, not the token."""
    signer = SigningKey("EdDSA", kid=issuer.keys[1].kid)
    _assert_unauthorized(_call(server, "u1", issuer.token("u1", key=signer)), "its key is for ES256")


def test_tampered_payload(server, issuer):
    header, payload, signature = issuer.token("u1").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    _assert_unauthorized(_call(server, "someone-else", f"{header}.{forged_payload}.{signature}"), "signature")


def test_hs256_with_the_wrong_secret(server):
    _assert_unauthorized(_call(server, "u1", hs256_token("u1", secret="x" * 40)), "signature")


def test_huge_header_is_refused_without_a_500(server, issuer):
    response = _call(server, "u1", "a" * 60_000)
    assert 400 <= response.status_code < 500


def test_token_in_the_wrong_scheme_is_missing(server, issuer):
    with server.client() as client:
        response = client.get("/u1/tasks", headers={"Authorization": f"Basic {issuer.token('u1')}"})
    _assert_unauthorized(response, "No bearer token")


def test_hs256_is_refused_when_no_secret_is_configured(make_settings, issuer):
    from tests.support.live_server import LiveServer

    with LiveServer(make_settings(better_auth_secret=None)) as jwks_only:
        _assert_unauthorized(_call(jwks_only, "u1", hs256_token("u1")), "HS256 tokens are not accepted")
        assert _call(jwks_only, "u1", issuer.token("u1")).status_code == 200


def test_a_remembered_token_still_expires(make_settings, issuer):
    """Verified tokens are cached, but never past their `exp`."""
    from tests.support.live_server import LiveServer

    with LiveServer(make_settings(jwt_leeway_seconds=0)) as strict:
        short_lived = issuer.token("u-short", exp=int(time.time()) + 2)
        assert _call(strict, "u-short", short_lived).status_code == 200
        assert _call(strict, "u-short", short_lived).status_code == 200
        time.sleep(2.5)
        _assert_unauthorized(_call(strict, "u-short", short_lived), "expired")


def test_shared_secret_only_accepts_tokens_whatever_their_audience(make_settings):
    """With no issuer configured there is no audience to hold a token to; an `aud` claim is not a reason to refuse."""
    from tests.support.live_server import LiveServer

    with LiveServer(make_settings(better_auth_url=None, jwt_jwks_url=None)) as secret_only:
        assert _call(secret_only, "u-aud", hs256_token("u-aud", aud="https://app.example.com")).status_code == 200
        assert _call(secret_only, "u-aud", hs256_token("u-aud", aud=None, iss=None)).status_code == 200


# Hardening (OWASP API8): each a token that is otherwise acceptable, so the refusal comes from the rule named.


def _signed(header: str, claims: str, secret: str = SHARED_SECRET) -> str:
    """An HS256 token made from raw JSON text, validly signed with the service's shared secret."""
    signing_input = base64url_encode(header.encode()) + b"." + base64url_encode(claims.encode())
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64url_encode(signature)).decode()


def _claims(sub: str = "u1", **extra) -> str:
    now = int(time.time())
    return json.dumps({"sub": sub, "iss": ISSUER, "aud": ISSUER, "iat": now, "exp": now + 300, **extra})


def test_the_raw_token_helper_makes_acceptable_tokens(server):
    assert _call(server, "u1", _signed('{"alg":"HS256","typ":"JWT"}', _claims())).status_code == 200


def test_a_crit_header_is_refused(server):
    token = _signed('{"alg":"HS256","typ":"JWT","crit":["exp"],"exp":1}', _claims())
    _assert_unauthorized(_call(server, "u1", token), "`crit`")


@pytest.mark.parametrize("locator", ["jku", "x5u", "jwk", "x5c"])
def test_a_header_pointing_at_the_attackers_own_key_is_refused(server, locator):
    attacker = SigningKey("EdDSA")
    value = {
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "jwk": attacker.public_jwk(),
        "x5c": ["MIIBszCCAVmgAwIBAgIUattacker"],
    }[locator]
    claims = json.loads(_claims())
    forged = jwt.encode(claims, attacker.private, algorithm="EdDSA", headers={"kid": attacker.kid, locator: value})
    _assert_unauthorized(_call(server, "u1", forged), f"`{locator}`")


@pytest.mark.parametrize("kid", ["../../../../etc/passwd", "' OR '1'='1' --", "%00", "a" * 500])
def test_hostile_kids_are_just_unknown(server, issuer, kid):
    key = SigningKey("EdDSA", kid=kid)
    _assert_unauthorized(_call(server, "u1", issuer.token("u1", key=key)))


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("exp", "tomorrow"),
        ("exp", -1),
        ("exp", 10**20),
        ("exp", True),
        ("nbf", "now"),
        ("nbf", -5),
        ("nbf", 10**20),
        ("iat", "earlier"),
        ("iat", -1),
        ("iat", 10**20),
    ],
)
def test_time_claims_that_are_not_sane_times_are_refused(server, issuer, claim, value):
    _assert_unauthorized(_call(server, "u1", issuer.token("u1", **{claim: value})))


@pytest.mark.parametrize("literal", ["1e400", "NaN", "-Infinity"])
def test_time_claims_that_json_cannot_hold_are_refused(server, literal):
    claims = _claims().replace('"exp": ', f'"exp": {literal}, "was": ')
    _assert_unauthorized(_call(server, "u1", _signed('{"alg":"HS256","typ":"JWT"}', claims)))


@pytest.mark.parametrize("sub", [123, ["u1"], {"id": "u1"}, None, ""])
def test_a_sub_that_is_not_a_user_id_is_refused(server, issuer, sub):
    claims = _claims(sub=sub) if sub is not None else _claims().replace('"sub": "u1", ', "")
    _assert_unauthorized(_call(server, "u1", _signed('{"alg":"HS256","typ":"JWT"}', claims)))


def test_a_token_valid_for_longer_than_the_maximum_lifetime_is_refused(server):
    forever = hs256_token("u1", lifetime=86400 + 120)
    _assert_unauthorized(_call(server, "u1", forever), "more than 86400 seconds")
    assert _call(server, "u1", hs256_token("u1", lifetime=86400 - 120)).status_code == 200


@pytest.mark.parametrize(
    ("header", "claims"),
    [
        ('{"alg":"HS256","alg":"none","typ":"JWT"}', _claims()),
        ('{"alg":"HS256","typ":"JWT"}', _claims()[:-1] + ', "sub": "admin"}'),
    ],
    ids=["header", "payload"],
)
def test_duplicate_json_keys_are_refused(server, header, claims):
    _assert_unauthorized(_call(server, "u1", _signed(header, claims)), "repeats the JSON key")
