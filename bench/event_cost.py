"""CPU per live event through the whole app, in process: no HTTP server, no sockets.

    .venv/bin/python bench/event_cost.py [--streams 100] [--events 30] [--rounds 3]

Opens `--streams` event streams (GET /{user_id}/events) by calling the ASGI app in this process, puts `--events`
changes into each stream's inbox as the worker's delivery does (taskapi/sync/hub.py), and prints the process CPU
time per event sent, every middleware's send included: what a write's event costs the service above its socket.
"""

import argparse
import asyncio
import logging.config
import os
import time

import uvloop

from harness import SECRET, fresh_database, token
from in_process import scope


async def run(app, streams: int, events: int, rounds: int) -> list[float]:
    from taskapi.sync.announcements import Change

    state, messages, started = {}, asyncio.Queue(), asyncio.Event()
    await messages.put({"type": "lifespan.startup"})

    async def lifespan_send(message: dict) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()

    asyncio.create_task(app({"type": "lifespan", "state": state}, messages.get, lifespan_send))
    await started.wait()
    sent, ready = 0, 0

    async def stream(user: str) -> None:
        async def receive() -> dict:
            await asyncio.Event().wait()  # the client never disconnects
            return {}

        async def send(message: dict) -> None:
            nonlocal sent, ready
            body = message.get("body", b"") if message["type"] == "http.response.body" else b""
            sent += b"event: changes" in body
            ready += b"event: ready" in body

        request = {**scope("GET", f"/api/{user}/events", b"", token(user), b""), "state": dict(state)}
        await app(request, receive, send)

    users = [f"events{number}" for number in range(streams)]
    followers = [asyncio.create_task(stream(user)) for user in users]
    while ready < streams:  # every stream has said where it starts, and reads its inbox from now on
        await asyncio.sleep(0.01)
    subscriptions = state["hub"]._subscriptions
    figures = []
    for round_number in range(rounds + 1):  # round 0 warms up
        sent, cpu = 0, time.process_time()
        for event in range(events):
            seq = 1_000_000 * (round_number + 1) + event
            for user in users:
                for subscription in subscriptions[user]:
                    subscription.deliver(Change(seq, "00000000-0000-0000-0000-000000000001", "upsert", "task"))
            await asyncio.sleep(0.001)
        while sent < streams * events:
            await asyncio.sleep(0.001)
        if round_number:
            figures.append(1000 * (time.process_time() - cpu) / (streams * events))
    for follower in followers:
        follower.cancel()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(DATABASE_URL=fresh_database(), BETTER_AUTH_SECRET=SECRET, RATE_LIMIT_PER_MINUTE="100000000")
    for name in ("BETTER_AUTH_URL", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE"):
        os.environ.pop(name, None)
    from taskapi.app import create_app
    from taskapi.http.logs import LOG_CONFIG

    sink = {"class": "logging.StreamHandler", "formatter": "json", "stream": open(os.devnull, "w")}  # noqa: SIM115
    logging.config.dictConfig({**LOG_CONFIG, "handlers": {"stderr": sink}})
    figures = uvloop.run(run(create_app(), args.streams, args.events, args.rounds))
    rounds = ", ".join(f"{figure:.4f}" for figure in figures)
    print(f"live event: CPU ms per event sent, minimum {min(figures):.4f}; rounds {rounds}")
    os._exit(0)  # the streams' tasks and the app's background work are not wound down one by one


if __name__ == "__main__":
    main()
