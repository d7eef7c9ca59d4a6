"""Better Auth's signing keys, fetched without blocking the event loop and cached."""

import asyncio
import contextvars
import logging
import re
import time

import httpx
import jwt

from taskapi.http.problems import unauthorized, unavailable

log = logging.getLogger(__name__)

# The algorithm a key may verify, from its type and curve, for JWKs that carry no `alg`.
_ALG_BY_KEY_TYPE = {("OKP", "Ed25519"): "EdDSA", ("EC", "P-256"): "ES256", ("RSA", None): "RS256"}
ASYMMETRIC_ALGS = frozenset({"EdDSA", "ES256", "RS256"})


def _key_alg(jwk: dict) -> str | None:
    return jwk.get("alg") or _ALG_BY_KEY_TYPE.get((jwk.get("kty"), jwk.get("crv")))


# The shortest refresh period an issuer's Cache-Control can ask for.
MIN_REFRESH_SECONDS = 1.0
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)


def _max_age(cache_control: str | None) -> float | None:
    match = _MAX_AGE.search(cache_control or "")
    return float(match.group(1)) if match else None


class JwksCache:
    """Keys by `kid`, refreshed in the background every `refresh_seconds` (or the issuer's shorter
    `Cache-Control: max-age`), so that a key the issuer retires (a rotation, a compromise) stops verifying
    within that period. An unknown `kid` refetches at once, at most once per `min_refetch_interval`. A failed
    fetch keeps the last good keys: an issuer that is down locks nobody out."""

    def __init__(self, url: str, *, timeout: float, min_refetch_interval: float, refresh_seconds: float) -> None:
        self._url = url
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._min_interval = min_refetch_interval
        self._refresh_seconds = refresh_seconds
        self._period = refresh_seconds
        self._keys: dict[str, tuple[str, jwt.PyJWK]] = {}
        self._fetched_ok = False
        self._last_attempt = float("-inf")
        self._lock = asyncio.Lock()
        self._refresher: asyncio.Task | None = None

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)
        await self._client.aclose()

    def knows(self, kid: str) -> bool:
        """Whether the issuer still lists this key (as of the last good fetch)."""
        return kid in self._keys

    async def ready(self) -> bool:
        """Whether some key is known, fetching them (at most once per interval) if none is."""
        if not self._fetched_ok:
            await self._refresh_if_due()
        return self._fetched_ok

    async def key_for(self, kid: str | None, alg: str) -> jwt.PyJWK:
        if not kid:
            raise unauthorized("The token has no `kid` header, so no signing key can be chosen.")
        if kid not in self._keys:
            await self._refresh_if_due()
        if kid not in self._keys:
            if not self._fetched_ok:
                raise unavailable("The signing keys cannot be fetched right now, so no token can be verified.")
            raise unauthorized("The token was signed with an unknown key; sign in again to get a new token.")
        key_alg, key = self._keys[kid]
        if key_alg != alg:
            raise unauthorized(f"The token says alg {alg} but its key is for {key_alg}.")
        return key

    async def _refresh_if_due(self) -> None:
        async with self._lock:
            # Waiters that queued behind a fetch reuse its result instead of fetching again.
            if time.monotonic() - self._last_attempt < self._min_interval:
                return
            await self._fetch()

    async def _refresh_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._period)
            async with self._lock:
                await self._fetch()

    async def _fetch(self) -> None:
        """Fetch the key set (the caller holds the lock); the first fetch starts the background refresh."""
        self._last_attempt = time.monotonic()
        try:
            response = await self._client.get(self._url)
            response.raise_for_status()
            self._keys = self._parse(response.json())
            self._fetched_ok = True
            max_age = _max_age(response.headers.get("cache-control"))
            self._period = max(MIN_REFRESH_SECONDS, min(self._refresh_seconds, max_age or self._refresh_seconds))
        except (httpx.HTTPError, ValueError, jwt.PyJWKError, KeyError, TypeError) as error:
            log.warning(
                "JWKS fetch from %s failed (%s); keeping %d cached keys",
                self._url,
                type(error).__name__,
                len(self._keys),
            )
        if self._refresher is None:  # after the fetch: its first sleep is the period the answer asked for
            # In a context of its own, not the request's that happened to fetch first (its log fields).
            self._refresher = asyncio.create_task(
                self._refresh_periodically(), name="jwks-refresh", context=contextvars.Context()
            )

    @staticmethod
    def _parse(document: dict) -> dict[str, tuple[str, jwt.PyJWK]]:
        keys = {}
        for jwk in document["keys"]:
            alg = _key_alg(jwk)
            if jwk.get("kid") and alg in ASYMMETRIC_ALGS and jwk.get("use", "sig") == "sig":
                keys[jwk["kid"]] = (alg, jwt.PyJWK(jwk, algorithm=alg))
        return keys
