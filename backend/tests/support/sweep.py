"""One sweep (taskapi/sync/purge.py) now, with the tests' settings and any overrides."""

import asyncio
from collections import Counter

from taskapi.sync.purge import purge_once


def sweep_now(make_settings, apply_lower_trash_limit: bool = False, **overrides) -> Counter | None:
    return asyncio.run(purge_once(make_settings(**overrides), apply_lower_trash_limit=apply_lower_trash_limit))
