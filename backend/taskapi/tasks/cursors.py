"""Opaque, tamper-evident page cursors: a signed record of where the last page ended and for which query."""

import base64
import hashlib
import hmac
from collections.abc import Callable

import orjson

from taskapi.errors import field_error, invalid


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _bad(parameter: str, why: str):
    return invalid([field_error("query", parameter, why)])


# A signature is 16 bytes of HMAC-SHA256, base64url without padding.
SIGNATURE_CHARACTERS = 22


class KeyRetired(Exception):
    """The cursor names a signing key this service no longer holds (CURSOR_SECRET changed): it cannot be
    checked, which is not the client's fault."""


class CursorCodec:
    """Cursors are `payload.kid.signature`: `kid` names the key that signed, so that a cursor whose key was
    retired (KeyRetired) is told apart from one that was altered (a 400). The first key signs; all verify."""

    def __init__(self, secrets: tuple[bytes, ...]) -> None:
        keys = [hashlib.sha256(b"taskapi-cursor\0" + secret).digest() for secret in secrets]
        self._signing_kid = self._kid(keys[0])
        self._keys = {self._kid(key): key for key in keys}

    @staticmethod
    def _kid(key: bytes) -> str:
        return _b64(hashlib.sha256(b"kid\0" + key).digest()[:6])

    @staticmethod
    def _sign(key: bytes, payload: bytes) -> str:
        return _b64(hmac.digest(key, payload, "sha256")[:16])

    @staticmethod
    def scope(*parts: str) -> str:
        """A short, opaque name for what a cursor belongs to (its kind and owner, say): never the user id itself."""
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]

    def encode(self, scope: str, position: list) -> str:
        """`scope` names the user, sort and filters the cursor belongs to; `position` is the last row's key."""
        payload = orjson.dumps([scope, position])  # what it signs is what it carries: any JSON encoder will do
        key = self._keys[self._signing_kid]
        return f"{_b64(payload)}.{self._signing_kid}.{self._sign(key, payload)}"

    def page(self, rows: list, limit: int, scope: Callable[[], str], position: Callable) -> tuple[list, str | None]:
        """Rows read one beyond `limit`: the page, and the cursor past its last row (None on the last page). The
        scope is asked for only when there is a next page."""
        if len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        return rows, self.encode(scope(), position(rows[-1]))

    def _verified(self, cursor: str) -> bytes | None:
        """The payload if a key this service holds signed it; None if such a key says it was altered. Raises
        KeyRetired for a key no longer held, and for the unnamed keys of cursors made before kids (whose
        signature none of the keys held verifies)."""
        body, _, rest = cursor.partition(".")
        kid, _, signature = rest.rpartition(".")
        try:
            payload = _unb64(body)
        except ValueError:
            return None
        if kid:
            candidates = [self._keys[kid]] if kid in self._keys else []
        elif len(signature) == SIGNATURE_CHARACTERS:  # made before kids: whichever key signed it
            candidates = list(self._keys.values())
        else:
            return None
        if any(hmac.compare_digest(self._sign(key, payload), signature) for key in candidates):
            return payload
        if kid in self._keys:
            return None
        raise KeyRetired

    def decode(
        self,
        cursor: str,
        scope: str,
        parameter: str = "cursor",
        made_by: str = "next_cursor",
        mismatch: str = "belongs to another listing: repeat the same user, sort and filters, or drop it",
        retired: Callable[[], Exception] | None = None,
    ) -> list:
        """The position; a 400 naming `parameter` if the API did not make it, or (`mismatch`) made it for another
        scope. One signed with a key since retired raises `retired()`, by default a 400 saying to start again."""
        try:
            payload = self._verified(cursor)
        except KeyRetired:
            if retired is not None:
                raise retired() from None
            raise _bad(
                parameter, "was signed with a key this service no longer uses: start from the first page"
            ) from None
        if payload is None:
            raise _bad(parameter, f"is not a {parameter} this API made; pass {made_by} back unchanged")
        cursor_scope, position = orjson.loads(payload)
        if cursor_scope != scope:
            raise _bad(parameter, mismatch)
        return position
