"""Names of the embedded Postgres clusters the suite starts, in .data/.

TEST_CLUSTER_PREFIX gives a run clusters of its own: the suite run with the clock a year ahead (make test-future)
starts each Postgres under that clock instead of reusing one started under the real clock.
"""

import os


def cluster(role: str) -> str:
    return f"{os.environ.get('TEST_CLUSTER_PREFIX', 'postgres')}-{role}"
