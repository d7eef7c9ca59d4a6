"""CPU per request of one operation, with the ASGI app called in this process: no HTTP server, no sockets.

    .venv/bin/python bench/in_process.py list [--requests 2000] [--rounds 5] [--floor]

Seeds the database as `make bench` does, starts the app's lifespan, keeps 16 requests in flight, and prints the
process CPU time per request of each round and their minimum. On a shared machine the minimum of several
rounds is the figure to compare (the served benchmark drifts by 20-30 % from one minute to the next). With
--floor the list handler answers at once after the owner check: what everything but the handler costs.
"""

import argparse
import asyncio
import functools
import json
import logging.config
import os
import sys
import time

import uvloop

from harness import BACKEND, SECRET, fresh_database
from load import seed

IN_FLIGHT = 16
# 100 creates in one POST /batch, as bench/wrk/operations.lua sends it.
BATCH = json.dumps({"operations": [{"op": "create", "body": {"title": "bench task", "priority": "high"}}] * 100}).encode()


def scope(method: str, path: str, query: bytes, user_token: str, body: bytes) -> dict:
    headers = [(b"host", b"bench"), (b"authorization", f"Bearer {user_token}".encode())]
    if body:
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000),
    }


def request(operation: str, users: list, number: int) -> tuple[dict, bytes]:
    user_id, user_token, task_ids = users[number % len(users)]
    task = f"/api/{user_id}/tasks/{task_ids[number % len(task_ids)]}"
    made = {
        "list": ("GET", f"/api/{user_id}/tasks", b"limit=20", b""),
        "get": ("GET", task, b"", b""),
        "create": (
            "POST",
            f"/api/{user_id}/tasks",
            b"",
            b'{"title": "bench task", "priority": "high"}',
        ),
        "update": ("PATCH", task, b"", b'{"title": "renamed"}'),
        "complete": ("PATCH", task + "/complete", b"", b""),
        "batch": ("POST", f"/api/{user_id}/batch", b"", BATCH),
    }[operation]
    return scope(*made[:3], user_token, made[3]), made[3]


async def call(app, state: dict, request_scope: dict, body: bytes) -> int:
    statuses, sent = [], False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # the client never disconnects
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app({**request_scope, "state": dict(state)}, receive, send)
    return statuses[0]


async def run(
    app, operation: str, users: list, requests: int, rounds: int
) -> list[float]:
    state, messages, started = {}, asyncio.Queue(), asyncio.Event()
    await messages.put({"type": "lifespan.startup"})

    async def lifespan_send(message: dict) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()

    lifespan = asyncio.create_task(
        app({"type": "lifespan", "state": state}, messages.get, lifespan_send)
    )
    await started.wait()
    figures = []
    for round_number in range(rounds + 1):  # round 0 warms up
        numbers = iter(
            range(round_number * requests, (round_number + 1) * requests)
        )  # shared by the clients

        async def client(numbers=numbers) -> None:
            for number in numbers:
                status = await call(app, state, *request(operation, users, number))
                if status >= 400:
                    raise RuntimeError(f"{operation} answered {status}")

        cpu = time.process_time()
        await asyncio.gather(*[client() for _ in range(IN_FLIGHT)])
        if round_number:
            figures.append(1000 * (time.process_time() - cpu) / requests)
    await messages.put({"type": "lifespan.shutdown"})
    await lifespan
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "operation", choices=["list", "get", "create", "update", "complete", "batch"]
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--floor", action="store_true", help="the list handler answers at once"
    )
    args = parser.parse_args()
    database_url = fresh_database()
    users, _ = seed(database_url)
    os.environ.update(
        DATABASE_URL=database_url,
        BETTER_AUTH_SECRET=SECRET,
        RATE_LIMIT_PER_MINUTE="100000000",
    )
    for name in ("BETTER_AUTH_URL", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(BACKEND))
    from taskapi.app import create_app
    from taskapi.http.logs import LOG_CONFIG

    # The log line is written as in production, to a sink.
    sink = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "stream": open(os.devnull, "w"),
    }  # noqa: SIM115
    logging.config.dictConfig({**LOG_CONFIG, "handlers": {"stderr": sink}})
    if args.floor:
        from starlette.responses import Response

        from taskapi.auth.tokens import require_owner
        from taskapi.tasks import handlers

        @functools.wraps(handlers.list_tasks)
        async def answer_at_once(user_id: str, user: str, **_query) -> Response:
            require_owner(user_id, user)
            return Response(
                b'{"items": [], "next_cursor": null}', media_type="application/json"
            )

        handlers.list_tasks = answer_at_once
    figures = uvloop.run(
        run(create_app(), args.operation, users, args.requests, args.rounds)
    )
    rounds = ", ".join(f"{figure:.3f}" for figure in figures)
    name = args.operation + (" (floor)" if args.floor else "")
    print(f"{name}: CPU ms per request, minimum {min(figures):.3f}; rounds {rounds}")


if __name__ == "__main__":
    main()
