"""FR-001 / SC-003: only a genuine, current token for the right issuer and audience gets in."""

import base64
import json
import time

import jwt
import pytest

from tests.support.issuer import ISSUER, SigningKey, hs256_token


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
