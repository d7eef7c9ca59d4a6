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
