"""make test-future runs the suite with the clock 400 days ahead: this proves it is, for the tests (and the services
they run in-process or start) and for the Postgres they talk to."""

import os
import time

import pytest

YEAR_AND_A_MONTH = 399 * 24 * 3600


@pytest.mark.skipif("TEST_REAL_EPOCH" not in os.environ, reason="runs in make test-future only")
def test_the_clock_is_more_than_a_year_ahead_here_and_in_postgres(db):
    real = int(os.environ["TEST_REAL_EPOCH"])
    assert time.time() - real > YEAR_AND_A_MONTH
    (database_now,) = db.execute("SELECT extract(epoch FROM now())::float").fetchone()
    assert database_now - real > YEAR_AND_A_MONTH
