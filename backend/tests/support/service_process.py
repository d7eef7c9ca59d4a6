"""The service as `make run` starts it, in its own process, for tests that need real signals."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.live_server import free_port

BACKEND = Path(__file__).resolve().parents[2]


def start_service(database_url: str | None, **env: str) -> tuple[subprocess.Popen, str]:
    """`database_url` None: the embedded database, as `make run` uses it when DATABASE_URL is unset."""
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": database_url or "", "PORT": str(port), **env}
    for name in ("BETTER_AUTH_URL", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE"):
        environment.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "taskapi.cli", "run"],
        cwd=BACKEND,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the service did not start")


def worker_pids(service_pid: int) -> list[int]:
    """The service's worker processes (children of the process `make run` starts)."""
    children = Path(f"/proc/{service_pid}/task/{service_pid}/children").read_text().split()
    return [int(pid) for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def worker_serving(workers: list[int], server_port: int, client_port: int) -> int:
    """Which worker process holds the server side of the connection from `client_port`."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            for pid in workers:
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    try:
                        if os.readlink(fd) == f"socket:[{inode}]":
                            return pid
                    except OSError:
                        continue
    raise AssertionError(f"no worker holds the connection from port {client_port}")
