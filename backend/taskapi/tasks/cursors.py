"""Opaque, tamper-evident page cursors: a signed record of where the last page ended and for which query."""

import base64
import hashlib
import hmac
import json

from taskapi.http.problems import field_error, invalid


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _bad_cursor(why: str):
    return invalid([field_error("query", "cursor", why)])


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"taskapi-cursor\0" + secret).digest()

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self._key, payload, hashlib.sha256).digest()[:16])

    def encode(self, scope: str, position: list) -> str:
        """`scope` names the user, sort and filters the cursor belongs to; `position` is the last row's key."""
        payload = json.dumps([scope, position], separators=(",", ":")).encode()
        return f"{_b64(payload)}.{self._sign(payload)}"

    def decode(self, cursor: str, scope: str) -> list:
        body, _, signature = cursor.partition(".")
        try:
            payload = _unb64(body)
        except ValueError:
            raise _bad_cursor("is not a cursor this API made; pass next_cursor back unchanged") from None
        if not hmac.compare_digest(self._sign(payload), signature):
            raise _bad_cursor("is not a cursor this API made; pass next_cursor back unchanged")
        cursor_scope, position = json.loads(payload)
        if cursor_scope != scope:
            raise _bad_cursor("belongs to another listing: repeat the same user, sort and filters, or drop it")
        return position
