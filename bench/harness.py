"""What every benchmark needs: a fresh database, the real service in its own processes, and tokens."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# BENCH_BACKEND: another checkout's backend/ (say, a git worktree of main), to compare in the same run conditions.
BACKEND = Path(os.environ.get("BENCH_BACKEND", ROOT / "backend")).resolve()
SECRET = "bench-shared-secret-" + "x" * 32
RESULTS = ROOT / "bench" / "results"


def fresh_database() -> str:
    sys.path.insert(0, str(BACKEND))
    try:
        from taskapi.db.embedded import embedded_database
    except ModuleNotFoundError:  # a checkout from before taskapi/db/ (BENCH_BACKEND at 1.1.0, the "before" figures)
        from taskapi.localdb import embedded_database

    from taskapi.cli import migrate

    url = embedded_database("bench", cluster="postgres-bench", fresh=True)
    migrate(url)
    return url


def token(user_id: str, lifetime: int = 3600) -> str:
    now = int(time.time())
    return jwt.encode({"sub": user_id, "iat": now, "exp": now + lifetime}, SECRET, algorithm="HS256")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The rate limiter does all its work, with limits far above any load a benchmark makes; BENCH_RATE_LIMITS=off
# turns it off, to measure what it costs.
_PER_MINUTE = "0" if os.environ.get("BENCH_RATE_LIMITS") == "off" else "100000000"
RATE_LIMITS = {
    "RATE_LIMIT_PER_MINUTE": _PER_MINUTE,
    "RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE": _PER_MINUTE,
    # Bursts must be at least 1; with the per-minute limits at 0 they do not matter.
    "RATE_LIMIT_BURST": "100000000",
    "RATE_LIMIT_UNAUTHENTICATED_BURST": "100000000",
}


@contextmanager
def service(database_url: str, workers: int = 1, **env):
    """The service as `make run` starts it (uvicorn, WEB_CONCURRENCY workers), on a free port."""
    env = {**RATE_LIMITS, **env}
    with _serve([sys.executable, "-m", "taskapi.cli", "run"], BACKEND, database_url, workers, env) as running:
        yield running


@contextmanager
def reference(module: str, database_url: str, workers: int = 1):
    """One of bench/reference's stacks, served by uvicorn like the service."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        f"{module}:app",
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
        "--port",
        "{port}",
    ]
    with _serve(command, HERE / "reference", database_url, workers, {}) as running:
        yield running


@dataclass(frozen=True)
class Running:
    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the server and all its worker processes so far."""
        return sum(_cpu_seconds(pid) for pid in [self.pid, *_descendants(self.pid)])

    def workers(self) -> list[int]:
        """The processes that serve requests: uvicorn's spawned workers, or the server itself with one."""
        spawned = [pid for pid in _descendants(self.pid) if b"spawn_main" in _cmdline(pid)]
        return spawned or [self.pid]


@contextmanager
def _serve(command: list[str], cwd: Path, database_url: str, workers: int, env: dict):
    port = _free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BETTER_AUTH_SECRET": SECRET,
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        **{name: str(value) for name, value in env.items()},
    }
    for name in ("BETTER_AUTH_URL", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE"):
        environment.pop(name, None)
    log = open(RESULTS / "service.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [part.format(port=port) for part in command], cwd=cwd, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/api/openapi.json", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the service did not start; see {log.name}")
            time.sleep(0.2)
        yield Running(base, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def _descendants(pid: int) -> list[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
