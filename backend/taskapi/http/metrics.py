"""GET /metrics: Prometheus exposition, for the scraper holding METRICS_TOKEN only.

It names operations, error rates and pool sizes, which are nobody else's business. Without a token
configured it is off (404). With several workers their numbers are merged (PROMETHEUS_MULTIPROC_DIR).
"""

import hmac
import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from taskapi.http.problems import Problem, unauthorized


class MetricsEndpoint:
    """Outermost: answers GET /metrics itself, so that scrapes are neither logged nor counted as API requests."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/metrics" or scope["method"] != "GET":
            return await self.app(scope, receive, send)
        if self.expected is None:
            response = Problem(404, "Metrics are off: set METRICS_TOKEN to enable /metrics.").as_asgi()
        elif not hmac.compare_digest(Headers(scope=scope).get("authorization", "").encode(), self.expected):
            response = unauthorized("/metrics answers only to `Authorization: Bearer <METRICS_TOKEN>`.").as_asgi()
        else:
            response = Response(_exposition(), media_type=CONTENT_TYPE_LATEST)
        await response(scope, receive, send)


def _exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()
