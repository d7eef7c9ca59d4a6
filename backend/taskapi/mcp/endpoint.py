"""/mcp on the same service, behind what guards the REST API: the bearer check (the same TokenVerifier: Better
Auth's tokens), the per-address limit for requests without a valid token, the per-user limit, and every request's
units of work and after-commit work (taskapi/sync/after_request.py), then the MCP server (taskapi/mcp/server.py).
And RFC 9728's protected resource metadata, naming Better Auth as the authorization server, which a refused token's
`WWW-Authenticate` points MCP clients to."""

import orjson
from connexion.exceptions import ProblemException
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from taskapi.http.limiter import Policy
from taskapi.http.observability import note_user
from taskapi.http.problems import Problem
from taskapi.http.ratelimit import UnauthenticatedLimit, UserLimit
from taskapi.settings import Settings
from taskapi.sync.after_request import AfterRequest

MCP_PATH = "/mcp"
METADATA_PATH = "/.well-known/oauth-protected-resource"
# RFC 9728 §3.1: the metadata of the resource https://host/mcp is at /.well-known/oauth-protected-resource/mcp.
METADATA_PATHS = (METADATA_PATH, METADATA_PATH + MCP_PATH)


def _base(scope: Scope) -> str:
    return str(Request(scope).base_url).rstrip("/")


class _Bearer:
    """The token's subject becomes the request's user (`state["user_id"]`), as the REST API's security check does;
    a missing or refused token is a 401 whose WWW-Authenticate names the resource's metadata."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        challenge = f'Bearer resource_metadata="{_base(scope)}{METADATA_PATH}{MCP_PATH}"'
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(
                401,
                "Send the user's Better Auth token as `Authorization: Bearer <token>`.",
                kind="invalid-token",
                headers={"WWW-Authenticate": challenge},
            )
        state = scope["state"]
        try:
            user_id, _expires = await state["verifier"].verify(token.strip())
        except ProblemException as problem:
            if problem.status == 401:
                problem.headers = {**(problem.headers or {}), "WWW-Authenticate": challenge + ', error="invalid_token"'}
            raise
        state["user_id"] = user_id
        note_user(user_id)
        await self.app(scope, receive, send)


class McpEndpoint:
    """ASGI middleware before Connexion's routing: /mcp and the metadata are answered here, the rest passes."""

    def __init__(
        self, app: ASGIApp, settings: Settings, per_user: Policy | None, unauthenticated: Policy | None
    ) -> None:
        self.app = app
        self._issuer = settings.issuer
        self._guarded = UnauthenticatedLimit(_Bearer(UserLimit(AfterRequest(self._serve), per_user)), unauthenticated)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"].rstrip("/")
        if path == MCP_PATH:
            return await self._guarded(scope, receive, send)
        if path in METADATA_PATHS and scope["method"] in ("GET", "HEAD"):
            return await self._metadata(scope, send)
        return await self.app(scope, receive, send)

    @staticmethod
    async def _serve(scope: Scope, receive: Receive, send: Send) -> None:
        await scope["state"]["mcp"].handle_request(scope, receive, send)

    async def _metadata(self, scope: Scope, send: Send) -> None:
        body = orjson.dumps(
            {
                "resource": _base(scope) + MCP_PATH,
                "authorization_servers": [self._issuer] if self._issuer else [],
                "bearer_methods_supported": ["header"],
                "resource_name": "Task API",
            }
        )
        headers = [(b"content-type", b"application/json"), (b"cache-control", b"public, max-age=3600")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})
