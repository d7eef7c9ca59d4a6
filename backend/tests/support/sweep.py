"""One sweep (taskapi/sync/purge.py) now, with the tests' settings and any overrides."""

import asyncio
from collections import Counter

from taskapi.db.session import make_engine
from taskapi.sync.purge import purge


def sweep_now(make_settings, **overrides) -> Counter | None:
    settings = make_settings(**overrides)

    async def once():
        engine = make_engine(settings)
        try:
            return await purge(engine, settings)
        finally:
            await engine.dispose()

    return asyncio.run(once())
