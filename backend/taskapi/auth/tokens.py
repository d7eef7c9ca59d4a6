"""Bearer tokens from Better Auth: verified here (never issued), and the owner check."""

import binascii
import hashlib
import math
import time

import jwt
from connexion.lifecycle import ConnexionRequest
from jwt.utils import base64url_decode

from taskapi.auth.jwks import ASYMMETRIC_ALGS, JwksCache
from taskapi.http import strict_json
from taskapi.http.observability import note_user
from taskapi.http.problems import Problem, unauthorized
from taskapi.settings import Settings

# Better Auth's tokens are about 1 KB even with the whole user record in them.
MAX_TOKEN_LENGTH = 8 * 1024
USER_ID_MAX_LENGTH = 128
# A browser sends the same token for 15 minutes: verify its signature once, not on every request.
VERIFIED_CACHE_SIZE = 10_000
# Header parameters that point at a key. Keys come only from the JWKS or the shared secret, never from a token.
KEY_LOCATORS = ("jku", "x5u", "jwk", "x5c")
TIME_CLAIMS = ("exp", "nbf", "iat")


def _decoded(segment: str) -> dict:
    value = strict_json.loads(base64url_decode(segment))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _strict_parts(token: str) -> tuple[dict, dict]:
    """The header and the claims, read more strictly than PyJWT does: it keeps the last of duplicate JSON keys
    (so a token could mean one thing to us and another to a different verifier) and takes NaN or 1e400."""
    try:
        header_part, claims_part, _signature = token.split(".")
        return _decoded(header_part), _decoded(claims_part)
    except strict_json.DuplicateKey as error:
        raise unauthorized(f"The token repeats the JSON key `{error.name}`; a JWT's keys are unique.") from None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise unauthorized("The bearer token is not a well-formed JWT.") from None


class TokenVerifier:
    """HS256 only with the shared secret, asymmetric algs only with a JWKS key: no algorithm confusion."""

    def __init__(self, settings: Settings) -> None:
        self._secret = settings.better_auth_secret
        self._jwks = (
            JwksCache(
                settings.jwks_url,
                timeout=settings.jwks_fetch_timeout,
                min_refetch_interval=settings.jwks_min_refetch_interval,
                refresh_seconds=settings.jwks_refresh_seconds,
            )
            if settings.jwks_url
            else None
        )
        self._issuer = settings.issuer
        self._audience = settings.audience
        self._leeway = settings.jwt_leeway_seconds
        self._max_lifetime = settings.jwt_max_lifetime_seconds
        self._required = ["exp", "sub"] + (["iss"] if self._issuer else []) + (["aud"] if self._audience else [])
        # digest of token → (user id, exp, kid of its JWKS key or None); insertion order makes eviction oldest-first.
        self._verified: dict[bytes, tuple[str, float, str | None]] = {}

    async def close(self) -> None:
        if self._jwks:
            await self._jwks.close()

    async def readiness(self) -> str:
        """ "ok" when tokens can be verified now; "not used" without a JWKS; else why not."""
        if self._jwks is None:
            return "not used"
        return "ok" if await self._jwks.ready() else "unreachable (no signing key fetched yet)"

    async def verify(self, token: str) -> tuple[str, float]:
        """The token's user id (`sub`) and expiry (`exp`), or a 401/503 problem saying why not."""
        digest = hashlib.blake2b(token.encode(), digest_size=16).digest()
        cached = self._verified.get(digest)
        if cached is not None and self._still_valid(cached[1], cached[2]):
            return cached[0], cached[1]
        subject, expires, kid = await self._verify_signature_and_claims(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]
        self._verified[digest] = (subject, expires, kid)
        return subject, expires

    def _still_valid(self, expires: float, kid: str | None) -> bool:
        """A remembered token holds until it expires, or until the issuer stops listing its key."""
        return time.time() <= expires + self._leeway and (kid is None or self._jwks.knows(kid))

    async def _verify_signature_and_claims(self, token: str) -> tuple[str, float, str | None]:
        if len(token) > MAX_TOKEN_LENGTH:
            raise unauthorized(f"The token is longer than {MAX_TOKEN_LENGTH} characters; it is not one of ours.")
        header, unverified = _strict_parts(token)
        self._check_shape(header, unverified)
        alg = header.get("alg")
        key = await self._key_for(alg, header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": self._required, "verify_aud": self._audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("The token has expired; get a new one from Better Auth (GET /api/auth/token).") from None
        except jwt.ImmatureSignatureError:
            raise unauthorized("The token is not valid yet (nbf/iat is in the future); check the clocks.") from None
        except jwt.MissingRequiredClaimError as error:
            raise unauthorized(f"The token has no `{error.claim}` claim.") from None
        except jwt.InvalidIssuerError:
            raise unauthorized("The token was issued by someone we do not trust (wrong `iss`).") from None
        except jwt.InvalidAudienceError:
            raise unauthorized("The token is meant for another audience (wrong `aud`).") from None
        except jwt.InvalidSignatureError:
            raise unauthorized("The token's signature does not verify.") from None
        except jwt.InvalidTokenError:
            raise unauthorized("The bearer token is not a valid JWT.") from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not 0 < len(subject) <= USER_ID_MAX_LENGTH:
            raise unauthorized("The token's `sub` is not a user id.")
        return subject, float(claims["exp"]), (header.get("kid") if alg in ASYMMETRIC_ALGS else None)

    def _check_shape(self, header: dict, claims: dict) -> None:
        """What no token of Better Auth's has, refused before any key is looked up."""
        if "crit" in header:
            raise unauthorized("The token's header lists `crit` extensions; none are supported.")
        for name in KEY_LOCATORS:
            if name in header:
                raise unauthorized(f"The token's header carries `{name}`; keys are never taken from a token.")
        for name in TIME_CLAIMS:
            value = claims.get(name)
            if name in claims and (
                isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf
            ):
                raise unauthorized(f"The token's `{name}` is not a time (seconds since 1970, not negative).")
        if isinstance(claims.get("exp"), int | float) and claims["exp"] > time.time() + self._max_lifetime:
            raise unauthorized(
                f"The token stays valid for more than {self._max_lifetime} seconds; get a short-lived one from "
                "Better Auth (GET /api/auth/token)."
            )

    async def _key_for(self, alg: object, kid: object):
        if alg == "HS256":
            if not self._secret:
                raise unauthorized("HS256 tokens are not accepted here; use a token from Better Auth's JWKS.")
            return self._secret
        if alg in ASYMMETRIC_ALGS:
            if not self._jwks:
                raise unauthorized(f"{alg} tokens are not accepted here; no JWKS is configured.")
            return await self._jwks.key_for(kid if isinstance(kid, str) else None, alg)
        raise unauthorized(f"The token's algorithm {alg!r} is not accepted; use EdDSA, ES256, RS256 or HS256.")


async def verify_bearer_token(token: str, request: ConnexionRequest) -> dict:
    """Connexion's x-bearerInfoFunc: async, so key fetches never stall the event loop."""
    verifier: TokenVerifier = request.state.verifier
    user_id, expires = await verifier.verify(token)
    # For what runs after the security check in this request (the per-user rate limit), and for its log line.
    request.state.user_id = user_id
    note_user(user_id)
    # `exp` is for handlers that outlive a request's usual second: an event stream ends with its token.
    return {"sub": user_id, "exp": expires}


def require_owner(path_user_id: str, token_user_id: str) -> None:
    """FR-002: the path names the caller, nobody else."""
    if path_user_id != token_user_id:
        raise Problem(403, "The user id in the path is not the one in your token; you can only reach your own tasks.")
