"""Manual order: each task and list holds a `position`, a key compared byte-wise among its siblings, and a move
gives the moved row a key between its new neighbours' (the base-62 "fractional indexing" scheme), so nothing
else is renumbered.

Keys grow when a client keeps inserting at the same place: by about one character every six inserts (measured:
10,000 moves "right after the first task" would make 1,669-character keys). They are bounded: a key longer than
MAX_LENGTH is never stored; the siblings are rebalanced to short keys in one statement instead (see
taskapi/ordering/siblings.py), which happens once every few hundred such inserts. Creates go first in their list
and take the key before the first one (the database's `position_before`, migration 0012, the same scheme),
which stays at most five characters long for a million tasks (four up to 242,000).
"""

from fractional_indexing import generate_key_between

MAX_LENGTH = 64


def between(before: str | None, after: str | None) -> str | None:
    """A key that sorts after `before` and before `after` (None: the start or the end), or None if the shortest
    such key is longer than MAX_LENGTH: the siblings must be rebalanced first."""
    key = generate_key_between(before, after)
    return key if len(key) <= MAX_LENGTH else None
