"""Task tags: one normal form (trimmed, lower-cased, de-duplicated, sorted) for storing and for filtering."""

import re

from taskapi.errors import field_error

TAG_MAX_LENGTH = 32
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f,]")


def normalise_tag(raw: str) -> str | None:
    """The tag's stored form, or None if it is not a valid tag."""
    tag = raw.strip().lower()
    if not 1 <= len(tag) <= TAG_MAX_LENGTH or _FORBIDDEN.search(tag):
        return None
    return tag


def normalise(raw: list[str], location: str, field: str) -> tuple[list[str], list[dict]]:
    """`["Work", "work ", "home"]` → `["home", "work"]`, and an error naming each tag that is not valid."""
    tags, errors = set(), []
    for index, value in enumerate(raw):
        tag = normalise_tag(value)
        if tag is None:
            message = f"must be 1 to {TAG_MAX_LENGTH} characters after trimming, without commas or control characters"
            errors.append(field_error(location, f"{field}.{index}" if location == "body" else field, message))
        else:
            tags.add(tag)
    return sorted(tags), errors
