"""Cursor signing keys: named, rotated, and cursors made before keys had names (issue 18, item 5)."""

import pytest

from taskapi.errors import Invalid
from taskapi.tasks.cursors import CursorCodec

OLD, NEW = b"o" * 40, b"n" * 40


def test_cursors_made_before_keys_had_names_still_verify():
    body, _kid, signature = CursorCodec((NEW,)).encode("scope", [1]).split(".")
    assert CursorCodec((NEW,)).decode(f"{body}.{signature}", "scope") == [1]
    assert CursorCodec((NEW, OLD)).decode(f"{body}.{signature}", "scope") == [1]


def test_the_first_key_signs_and_every_key_verifies():
    old = CursorCodec((OLD,)).encode("scope", [1])
    rotating = CursorCodec((NEW, OLD))
    assert rotating.decode(old, "scope") == [1]
    assert CursorCodec((NEW,)).decode(rotating.encode("scope", [2]), "scope") == [2]


def test_a_retired_key_is_told_apart_from_tampering():
    old = CursorCodec((OLD,)).encode("scope", [1])
    gone = RuntimeError("retired")
    with pytest.raises(RuntimeError):
        CursorCodec((NEW,)).decode(old, "scope", retired=lambda: gone)
    with pytest.raises(Invalid, match="first page"):
        CursorCodec((NEW,)).decode(old, "scope")
    body, kid, signature = CursorCodec((NEW,)).encode("scope", [1]).split(".")
    with pytest.raises(Invalid, match="not a cursor this API made"):
        CursorCodec((NEW,)).decode(f"{body}.{kid}.{signature[::-1]}", "scope", retired=lambda: gone)
    with pytest.raises(Invalid, match="not a cursor this API made"):
        CursorCodec((NEW,)).decode("garbage", "scope", retired=lambda: gone)
