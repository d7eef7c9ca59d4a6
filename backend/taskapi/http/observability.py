"""Per request: an id (X-Request-ID), one structured log line, and Prometheus metrics."""

import contextvars
import functools
import logging
import os
import re
import time

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("taskapi.request")

# What the rest of the request may add to its log line (the verified user id); and the id problems carry.
current: contextvars.ContextVar[dict] = contextvars.ContextVar("taskapi_request")
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter("taskapi_requests_total", "Requests answered", ["operation", "method", "status"])
LATENCY = Histogram(
    "taskapi_request_duration_seconds",
    "Time to answer a request",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
POOL = Gauge(
    "taskapi_db_pool_connections", "Database connections of this worker", ["state"], multiprocess_mode="livesum"
)


# The pool gauges are sampled at most this often, not on every request.
POOL_REPORT_SECONDS = 1.0


# Each label combination's metric, looked up once: `labels()` takes a lock and builds a key every time.
@functools.cache
def _series(operation: str, method: str, status: int):
    return REQUESTS.labels(operation, method, str(status))


@functools.cache
def _latency(operation: str):
    return LATENCY.labels(operation)


def _report_pool(scope: Scope) -> None:
    database = scope.get("state", {}).get("db")
    if database is not None:
        in_use, idle = database.pool.stats()
        POOL.labels("in_use").set(in_use)
        POOL.labels("idle").set(idle)


def request_id() -> str | None:
    context = current.get(None)
    return context["request_id"] if context else None


def note_user(user_id: str) -> None:
    context = current.get(None)
    if context is not None:
        context["user_id"] = user_id


class Observability:
    """Outermost middleware: it sees every answer, problems included, and how long it took."""

    def __init__(self, app: ASGIApp, operation_ids: dict[str, str]) -> None:
        self.app = app
        # Connexion names the handler (taskapi.tasks.handlers.create_task); logs and metrics use the operationId.
        self.operation_ids = operation_ids
        self.pool_reported = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        supplied = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        context = {
            # 128 random bits in hex, as uuid4().hex was, without building a UUID on every request.
            "request_id": supplied if _CLIENT_REQUEST_ID.match(supplied) else os.urandom(16).hex(),
            "user_id": None,
        }
        token = current.set(context)
        # Connexion's router records the operation here; a dict made now is shared with it.
        extensions = scope.setdefault("extensions", {})
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", context["request_id"].encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            handler = extensions.get("connexion_routing", {}).get("operation_id")
            operation = self.operation_ids.get(handler, "none")
            # Label values stay a small, fixed set: a client cannot mint new series with made-up methods.
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            _series(operation, method, status).inc()
            _latency(operation).observe(elapsed)
            if started - self.pool_reported > POOL_REPORT_SECONDS:
                self.pool_reported = started
                _report_pool(scope)
            log.info(
                "%s %s %s",
                scope["method"],
                operation,
                status,
                extra={
                    "fields": {
                        "request_id": context["request_id"],
                        "user_id": context["user_id"],
                        "operation": operation,
                        "method": scope["method"],
                        "status": status,
                        "latency_ms": round(elapsed * 1000, 2),
                    }
                },
            )
            current.reset(token)
