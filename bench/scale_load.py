"""The load bench/scale.py drives: SCALE_CONNECTIONS clients sending a todo app's mix of requests, each user's
writes to a replica other than the one holding its event stream, and the streams, which note when each write's
event arrives (and which never do)."""

import asyncio
import json
import os
import random
import time

import aiohttp
import psycopg

from harness import token

CONNECTIONS = int(os.environ.get("SCALE_CONNECTIONS", "64"))
# Each kind of request, and where its share of the mix ends.
MIX = (("list", 0.70), ("create", 0.80), ("update", 0.875), ("complete", 0.95), ("delete", 1.0))
# Requests that wait longer than this are failures.
TIMEOUT = aiohttp.ClientTimeout(total=30)


class Streams:
    """Each user's event stream, and the writes still waiting for their event."""

    def __init__(self) -> None:
        self.pending: dict[str, list[tuple[str, float]]] = {}  # user → [(task id, answered at)]
        self.latencies: list[float] = []
        self.positions: dict[str, str] = {}
        self.last_heard: dict[tuple[str, str], float] = {}  # (user, task id) → when its last event came

    def wrote(self, user: str, task_id: str, sent: float) -> None:
        """A write answered now, sent at `sent`: its event may have come already, before its answer did."""
        if self.last_heard.get((user, task_id), 0.0) >= sent:
            self.latencies.append(0.0)
        else:
            self.pending.setdefault(user, []).append((task_id, time.monotonic()))

    def heard(self, user: str, changed: set[str]) -> None:
        now, waiting = time.monotonic(), self.pending.get(user, [])
        for task_id in changed:
            self.last_heard[user, task_id] = now
        kept = []
        for task_id, answered in waiting:
            if task_id in changed:
                self.latencies.append(max(0.0, now - answered))
            else:
                kept.append((task_id, answered))
        self.pending[user] = kept

    def missed(self) -> int:
        return sum(len(waiting) for waiting in self.pending.values())

    async def follow(self, session: aiohttp.ClientSession, bases: list[str], user: str, stop: asyncio.Event) -> None:
        """The user's stream, on bases[0]; on the next base when its replica goes (with Last-Event-ID)."""
        headers = {"Authorization": f"Bearer {token(user, lifetime=24 * 3600)}"}
        choice = 0
        while not stop.is_set():
            if user in self.positions:
                headers["Last-Event-ID"] = self.positions[user]
            try:
                endless = aiohttp.ClientTimeout(total=None, sock_read=None)
                async with session.get(
                    f"{bases[choice]}/api/{user}/events", headers=headers, timeout=endless
                ) as answer:
                    event, data, last_id = None, "", None
                    async for raw in answer.content:
                        line = raw.decode().rstrip("\r\n")
                        if line.startswith("event:"):
                            event = line[6:].strip()
                        elif line.startswith("data:"):
                            data = line[5:].strip()
                        elif line.startswith("id:"):
                            last_id = line[3:].strip()
                        elif line == "" and event:
                            if last_id:
                                self.positions[user] = last_id
                            if event == "changes":
                                self.heard(user, {change["id"] for change in json.loads(data)["changes"]})
                            event, data, last_id = None, "", None
            except (TimeoutError, aiohttp.ClientError, ConnectionError):
                pass
            if not stop.is_set():
                choice = (choice + 1) % len(bases)  # its replica went: the next one
                await asyncio.sleep(0.2)


async def load(
    bases: list[str],
    tasks: dict[str, list[str]],
    seconds: float,
    streams: Streams | None,
    lists_only: bool,
    on_half=None,
):
    """Requests from CONNECTIONS clients for `seconds`; each user writes on the replica after its stream's."""
    users = sorted(tasks)
    headers_of = {user: {"Authorization": f"Bearer {token(user, lifetime=24 * 3600)}"} for user in users}
    latencies, failures, counts = [], 0, {"list": 0, "create": 0, "update": 0, "complete": 0, "delete": 0}
    deadline = time.monotonic() + seconds
    half = time.monotonic() + seconds / 2
    rng = random.Random(7)

    async def client(session: aiohttp.ClientSession, number: int) -> None:
        nonlocal failures, on_half
        mine = [index for index in range(len(users)) if index % CONNECTIONS == number]  # no user shared by clients
        while time.monotonic() < deadline:
            if on_half and time.monotonic() >= half:
                on_half, act = None, on_half
                act()
            index = rng.choice(mine)
            user, alive = users[index], [base for base in bases if base]
            base = alive[(index + 1) % len(alive)]
            headers = headers_of[user]
            roll, own = rng.random(), tasks[user]
            kind = "list" if lists_only else next(kind for kind, upto in MIX if roll < upto)
            if kind != "create" and kind != "list" and not own:
                kind = "create"
            path, method, body = f"{base}/api/{user}/tasks", "GET", None
            if kind == "create":
                method, body = "POST", {"title": "scale task"}
            elif kind in ("update", "complete", "delete"):
                task_id = rng.choice(own)
                path += f"/{task_id}" + ("/complete" if kind == "complete" else "")
                method = {"update": "PUT", "complete": "PATCH", "delete": "DELETE"}[kind]
                body = {"title": "renamed"} if kind == "update" else {"completed": True} if kind == "complete" else None
            started = time.monotonic()
            try:
                async with session.request(method, path, headers=headers, json=body, timeout=TIMEOUT) as answer:
                    payload = await answer.read()
                    ok = answer.status < 400
            except (TimeoutError, aiohttp.ClientError, ConnectionError):
                ok = False
            latencies.append(time.monotonic() - started)
            if not ok:
                failures += 1
                continue
            counts[kind] += 1
            if kind == "create":
                task_id = json.loads(payload)["id"]
                own.append(task_id)
            elif kind == "delete":
                own.remove(task_id)
            if kind != "list" and streams is not None:
                streams.wrote(user, task_id, started)

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session, number) for number in range(CONNECTIONS)))
    return latencies, failures, counts


async def count_notifies(database_url: str, stop: asyncio.Event) -> int:
    count = 0
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as listener:
        await listener.execute("LISTEN task_changes")
        while not stop.is_set():
            async for _ in listener.notifies(timeout=0.2):
                count += 1
    return count
