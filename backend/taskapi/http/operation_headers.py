"""The headers an operation reads (If-Match, Idempotency-Key): its request's own, or, for an operation inside a
batch (taskapi/batch), the ones the batch gives it."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from connexion import request

_GIVEN: ContextVar[dict[str, str] | None] = ContextVar("operation_headers", default=None)


def header(name: str) -> str | None:
    """The operation's header `name` (lower case)."""
    given = _GIVEN.get()
    return given.get(name) if given is not None else request.headers.get(name)


@contextmanager
def given_headers(headers: dict[str, str]) -> Iterator[None]:
    """Within this block, operations read these headers (lower-case names), not the request's."""
    token = _GIVEN.set(headers)
    try:
        yield
    finally:
        _GIVEN.reset(token)
