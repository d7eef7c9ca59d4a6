"""Strong ETags made from a task's version, and the If-Match / If-None-Match comparisons (RFC 9110)."""

import re
import uuid

from connexion import request

_ENTITY_TAG = re.compile(r'(W/)?"([^"]*)"')
# Versions are the database's 32-bit integers: a larger number in an ETag is no version any row has had.
_LARGEST_VERSION = 2**31 - 1
_VERSION = re.compile(r"[0-9]{1,10}\Z")
# On every answer that carries a user's tasks or counts: a browser may keep it but must revalidate (with the
# ETag), and no shared cache or CDN may store it, nor give one token's answer to another.
PRIVATE = {"Cache-Control": "private, no-cache", "Vary": "Authorization"}


def etag(task_id: uuid.UUID, version: int) -> str:
    # The id prefix keeps one task's tag from ever matching another task's.
    return f'"{str(task_id)[:8]}-{version}"'


class Condition:
    """An If-Match / If-None-Match header (its syntax checked by the contract): `*` or a list of ETags."""

    def __init__(self, header: str) -> None:
        self.any = header.strip() == "*"
        self.tags = [(bool(weak), f'"{tag}"') for weak, tag in _ENTITY_TAG.findall(header)]

    def versions_of(self, task_id: uuid.UUID) -> list[int]:
        """The versions of this task that If-Match accepts (strong comparison: weak tags never match)."""
        prefix = f'"{str(task_id)[:8]}-'
        versions = (tag[len(prefix) : -1] for weak, tag in self.tags if not weak and tag.startswith(prefix))
        return [int(version) for version in versions if _VERSION.match(version) and int(version) <= _LARGEST_VERSION]

    def matches(self, current: str) -> bool:
        """If-None-Match: weak comparison against the current ETag."""
        return self.any or any(tag == current for _, tag in self.tags)


def if_match() -> Condition | None:
    """The request's If-Match, if it sent one."""
    header = request.headers.get("if-match")
    return Condition(header) if header is not None else None
