"""Opaque, tamper-evident page cursors: a signed record of where the last page ended and for which query."""

import base64
import hashlib
import hmac
import json
from collections.abc import Callable

from taskapi.http.problems import field_error, invalid


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _bad(parameter: str, why: str):
    return invalid([field_error("query", parameter, why)])


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"taskapi-cursor\0" + secret).digest()

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self._key, payload, hashlib.sha256).digest()[:16])

    @staticmethod
    def scope(*parts: str) -> str:
        """A short, opaque name for what a cursor belongs to (its kind and owner, say): never the user id itself."""
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]

    def encode(self, scope: str, position: list) -> str:
        """`scope` names the user, sort and filters the cursor belongs to; `position` is the last row's key."""
        payload = json.dumps([scope, position], separators=(",", ":")).encode()
        return f"{_b64(payload)}.{self._sign(payload)}"

    def page(self, rows: list, limit: int, scope: Callable[[], str], position: Callable) -> tuple[list, str | None]:
        """Rows read one beyond `limit`: the page, and the cursor past its last row (None on the last page). The
        scope is asked for only when there is a next page."""
        if len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        return rows, self.encode(scope(), position(rows[-1]))

    def decode(
        self,
        cursor: str,
        scope: str,
        parameter: str = "cursor",
        made_by: str = "next_cursor",
        mismatch: str = "belongs to another listing: repeat the same user, sort and filters, or drop it",
    ) -> list:
        """The position; a 400 naming `parameter` if the API did not make it, or (`mismatch`) made it for another
        scope."""
        body, _, signature = cursor.partition(".")
        forged = f"is not a {parameter} this API made; pass {made_by} back unchanged"
        try:
            payload = _unb64(body)
        except ValueError:
            raise _bad(parameter, forged) from None
        if not hmac.compare_digest(self._sign(payload), signature):
            raise _bad(parameter, forged)
        cursor_scope, position = json.loads(payload)
        if cursor_scope != scope:
            raise _bad(parameter, mismatch)
        return position
